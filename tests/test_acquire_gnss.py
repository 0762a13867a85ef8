"""UNR/NGL GNSS downloads against a real HTTP server on 127.0.0.1 serving real-format files."""

import os
import time
from datetime import datetime

import pytest
from test_reference_gnss import MIDAS_ROWS

from sar4tec.acquire.download import DownloadError, OfflineError
from sar4tec.acquire.gnss import (
    download_midas,
    download_tenv3,
    manifest_gnss_entry,
    midas_url,
    tenv3_url,
    unr_frame,
)
from sar4tec.acquire.testserver import LocalServer, Resource
from sar4tec.reference.readers import read_gnss, read_tenv3


def test_frame_by_period_and_urls():
    assert unr_frame(datetime(2024, 12, 31, 23)) == "IGS14"
    assert unr_frame(datetime(2025, 1, 1)) == "IGS20"
    assert midas_url("IGS20") == "https://geodesy.unr.edu/gps_timeseries/IGS20/midas/midas.IGS.txt"
    assert midas_url("IGS14") == "https://geodesy.unr.edu/velocities/midas.IGS14.txt"
    assert tenv3_url("lhas", "IGS20").endswith("/gps_timeseries/IGS20/tenv3/IGS20/LHAS.tenv3")
    assert tenv3_url("LHAS", "IGS14").endswith("/gps_timeseries/tenv3/IGS14/LHAS.tenv3")
    with pytest.raises(ValueError, match="IGS08"):
        midas_url("IGS08")
    with pytest.raises(ValueError, match="4 letters"):
        tenv3_url("LHASA", "IGS20")


@pytest.mark.network
def test_midas_download_cache_refresh_offline(tmp_path):
    old = MIDAS_ROWS.splitlines(keepends=True)[0].encode()
    table = {"/gps_timeseries/IGS20/midas/midas.IGS.txt": Resource(old, faults=["503"])}
    with LocalServer(table) as server:
        path = download_midas(tmp_path, "IGS20", base_url=server.base_url, backoff=0.01)
        assert path == tmp_path / "gnss/unr/IGS20/midas.IGS.txt"
        assert len(server.hits) == 2  # one 503, retried
        # fresh cache: no request at all
        assert download_midas(tmp_path, "IGS20", base_url=server.base_url) == path
        assert len(server.hits) == 2
        # a week old: fetched again, replaced only when complete
        stale = time.time() - 8 * 86400
        os.utime(path, (stale, stale))
        server.resources["/gps_timeseries/IGS20/midas/midas.IGS.txt"] = Resource(
            MIDAS_ROWS.encode(), faults=["drop"]
        )
        download_midas(tmp_path, "IGS20", base_url=server.base_url, backoff=0.01)
        assert path.read_bytes() == MIDAS_ROWS.encode()
        assert not path.with_name(path.name + ".new").exists()
    stations = read_gnss(path, "midas", manifest_gnss_entry(path, tmp_path, "IGS20")[
        "reference_frame"])  # fmt: skip
    assert list(stations.station) == ["AAAA", "BBBB"]
    assert stations.reference_frame == "IGS20"
    # offline: the cached copy, however old; nothing when absent
    os.utime(path, (stale, stale))
    assert download_midas(tmp_path, "IGS20", offline=True) == path
    with pytest.raises(OfflineError, match="midas.IGS14.txt"):
        download_midas(tmp_path, "IGS14", offline=True)


@pytest.mark.network
def test_tenv3_download_real_file_and_404(tmp_path, real_data):
    body = (real_data / "gnss" / "LHAS.tenv3").read_bytes()
    table = {"/gps_timeseries/tenv3/IGS14/LHAS.tenv3": Resource(body)}
    with LocalServer(table) as server:
        path = download_tenv3("LHAS", tmp_path, "IGS14", base_url=server.base_url)
        assert path.read_bytes() == body
        assert read_tenv3(path).station == "LHAS"
        with pytest.raises(DownloadError, match="XXXX.tenv3"):
            download_tenv3("XXXX", tmp_path, "IGS14", base_url=server.base_url, retries=0)
    # cached: works offline
    assert download_tenv3("LHAS", tmp_path, "IGS14", offline=True) == path


def test_manifest_entry_is_relative(tmp_path):
    path = tmp_path / "cache" / "gnss" / "unr" / "IGS14" / "midas.IGS14.txt"
    entry = manifest_gnss_entry(path, tmp_path / "data" / "demo", "IGS14")
    assert entry == {
        "path": "../../cache/gnss/unr/IGS14/midas.IGS14.txt",
        "format": "midas",
        "reference_frame": "IGS14",
    }
