"""IONEX downloader: both CODE naming schemes by date, fallback, retries, checksums, content
check, against a local HTTP server serving the real CODE map."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, date, datetime

import pytest

from sar4tec.acquire.download import DownloadError
from sar4tec.acquire.ionex import download_ionex, ionex_name_date, ionex_names
from sar4tec.acquire.testserver import LocalServer, Resource
from sar4tec.corrections.ionosphere import read_ionex

DAY = date(2020, 1, 8)  # the day of the real codg0080.20i


def test_names_by_date():
    assert ionex_names(DAY) == ["CODG0080.20I.Z", "COD0OPSFIN_20200080000_01D_01H_GIM.INX.gz"]
    late = datetime(2023, 2, 1, 23, 30, tzinfo=UTC)
    assert ionex_names(late)[0] == "COD0OPSFIN_20230320000_01D_01H_GIM.INX.gz"
    for name in ionex_names(DAY) + ["codg0080.20i", "IGS0OPSFIN_20243490000_01D_02H_GIM.INX"]:
        assert ionex_name_date(name) in (DAY, date(2024, 12, 14))
    assert ionex_name_date("codg3650.99i") == date(1999, 12, 31)
    assert ionex_name_date("readme.txt") is None


@pytest.mark.network
def test_download_falls_back_to_the_other_name_with_retries(real_data, tmp_path):
    body = gzip.compress((real_data / "ionex/codg0080.20i").read_bytes())
    long_name = "COD0OPSFIN_20200080000_01D_01H_GIM.INX.gz"
    # the short name is missing (404); the long one fails twice before it is served whole
    resources = {f"/CODE/2020/{long_name}": Resource(body, faults=["503", "drop"])}
    with LocalServer(resources) as server:
        path = download_ionex(
            DAY,
            tmp_path,
            url=server.url("/CODE/{year}/"),
            checksums={long_name: hashlib.sha256(body).hexdigest()},
            backoff=0.01,
        )
        asked = [h.path for h in server.hits]
    assert path.name == long_name
    assert asked[0] == "/CODE/2020/CODG0080.20I.Z"
    assert asked.count(f"/CODE/2020/{long_name}") >= 3
    assert read_ionex(path).times[0] == datetime(2020, 1, 8, tzinfo=UTC)
    # cached: no network needed any more
    assert download_ionex(DAY, tmp_path, url="http://127.0.0.1:9/{year}/", offline=True) == path


@pytest.mark.network
def test_wrong_checksum_and_wrong_day_are_refused(real_data, tmp_path):
    body = (real_data / "ionex/codg0080.20i").read_bytes()
    with LocalServer({"/2020/CODG0080.20I.Z": Resource(body)}) as server:
        with pytest.raises(DownloadError, match="sha256"):
            download_ionex(
                DAY,
                tmp_path / "a",
                url=server.url("/{year}/"),
                checksums={"CODG0080.20I.Z": "0" * 64},
                retries=1,
                backoff=0.01,
            )
        # a file that is served under the name of another day
        server.resources["/2020/CODG0090.20I.Z"] = Resource(body)
        with pytest.raises(DownloadError, match="first map on 2020-01-08, expected 2020-01-09"):
            download_ionex(date(2020, 1, 9), tmp_path / "b", url=server.url("/{year}/"))
    assert not (tmp_path / "b" / "CODG0090.20I.Z").exists()
