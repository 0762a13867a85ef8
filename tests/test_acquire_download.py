"""fetch() against real HTTP servers on 127.0.0.1 serving a real orbit file, with the faults
data centres show: dropped connections, corrupt bodies, ignored Range requests, 5xx, logins."""

from __future__ import annotations

import hashlib
import threading

import pytest

from sar4tec.acquire.download import DownloadError, OfflineError, fetch
from sar4tec.acquire.testserver import LocalServer, Resource

pytestmark = pytest.mark.network

ORBIT = (
    "sentinel1/orbits/S1A_OPER_AUX_RESORB_OPOD_20230823T162050_V20230823T123139_20230823T154909.EOF"
)
FAST = {"backoff": 0.01, "timeout": 10}


@pytest.fixture(scope="module")
def orbit_bytes(real_data) -> bytes:
    return (real_data / ORBIT).read_bytes()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ranges(server: LocalServer) -> list[str | None]:
    return [h.headers.get("Range") for h in server.hits]


def test_normal_download_is_verified_and_cached(tmp_path, orbit_bytes):
    dest = tmp_path / "cache" / "orbit.EOF"
    with LocalServer({"/o.EOF": Resource(orbit_bytes)}) as server:
        out = fetch(
            server.url("/o.EOF"),
            dest,
            expected_size=len(orbit_bytes),
            sha256=_sha(orbit_bytes),
            **FAST,
        )
        assert out == dest and dest.read_bytes() == orbit_bytes
        assert not dest.with_name("orbit.EOF.part").exists()
        # second call: served from the cache, no request at all
        fetch(server.url("/o.EOF"), dest, sha256=_sha(orbit_bytes), **FAST)
        assert len(server.hits) == 1
        assert server.hits[0].headers.get("Accept-Encoding") == "identity"


def test_dropped_connection_resumes_with_range(tmp_path, orbit_bytes):
    dest = tmp_path / "orbit.EOF"
    resource = Resource(orbit_bytes, faults=["drop", "drop"])
    with LocalServer({"/o.EOF": resource}) as server:
        fetch(server.url("/o.EOF"), dest, sha256=_sha(orbit_bytes), **FAST)
    assert dest.read_bytes() == orbit_bytes
    n = len(orbit_bytes)
    # the server sent half of what was asked each time: 0 -> n/2 -> n/2 + (n - n/2)/2 -> end
    first = n // 2
    second = first + (n - first) // 2
    assert _ranges(server) == [None, f"bytes={first}-", f"bytes={second}-"]


def test_drop_without_checks_is_still_detected_by_content_length(tmp_path, orbit_bytes):
    dest = tmp_path / "orbit.EOF"
    with LocalServer({"/o.EOF": Resource(orbit_bytes, faults=["drop"])}) as server:
        fetch(server.url("/o.EOF"), dest, **FAST)  # no size, no sha256 given
    assert dest.read_bytes() == orbit_bytes
    assert len(server.hits) == 2


def test_corrupt_body_is_deleted_and_downloaded_again(tmp_path, orbit_bytes):
    dest = tmp_path / "orbit.EOF"
    with LocalServer({"/o.EOF": Resource(orbit_bytes, faults=["corrupt"])}) as server:
        fetch(server.url("/o.EOF"), dest, sha256=_sha(orbit_bytes), **FAST)
    assert dest.read_bytes() == orbit_bytes
    # the retry starts from scratch: the corrupt partial was deleted, not resumed
    assert _ranges(server) == [None, None]


def test_always_corrupt_gives_up_and_leaves_nothing(tmp_path, orbit_bytes):
    dest = tmp_path / "orbit.EOF"
    resource = Resource(orbit_bytes, faults=["corrupt"] * 10)
    with LocalServer({"/o.EOF": resource}) as server:
        with pytest.raises(DownloadError, match="after 3 attempts.*sha256"):
            fetch(server.url("/o.EOF"), dest, sha256=_sha(orbit_bytes), retries=2, **FAST)
    assert len(server.hits) == 3
    assert not dest.exists() and not dest.with_name("orbit.EOF.part").exists()


def test_server_ignoring_range_restarts_from_zero(tmp_path, orbit_bytes):
    dest = tmp_path / "orbit.EOF"
    resource = Resource(orbit_bytes, faults=["drop", "ignore-range"])
    with LocalServer({"/o.EOF": resource}) as server:
        fetch(server.url("/o.EOF"), dest, expected_size=len(orbit_bytes), **FAST)
    # a 200 to a Range request carries the whole file: appending it would double the head
    assert dest.read_bytes() == orbit_bytes
    assert _ranges(server) == [None, f"bytes={len(orbit_bytes) // 2}-"]


def test_size_mismatch_fails_with_both_sizes(tmp_path, orbit_bytes):
    dest = tmp_path / "orbit.EOF"
    with LocalServer({"/o.EOF": Resource(orbit_bytes)}) as server:
        with pytest.raises(DownloadError, match=f"{len(orbit_bytes)} bytes, expected 123"):
            fetch(server.url("/o.EOF"), dest, expected_size=123, retries=1, **FAST)


def test_transient_5xx_is_retried_with_backoff(tmp_path, orbit_bytes):
    dest = tmp_path / "orbit.EOF"
    with LocalServer({"/o.EOF": Resource(orbit_bytes, faults=["503", "502", "429"])}) as server:
        fetch(server.url("/o.EOF"), dest, **FAST)
    assert dest.read_bytes() == orbit_bytes and len(server.hits) == 4


def test_404_fails_at_once_naming_the_url(tmp_path):
    with LocalServer({}) as server:
        url = server.url("/missing.EOF")
        with pytest.raises(DownloadError, match=f"{url}: HTTP 404"):
            fetch(url, tmp_path / "x", **FAST)
        assert len(server.hits) == 1  # a permanent error is not retried


def test_connection_refused_is_retried_then_reported(tmp_path):
    with LocalServer({}) as server:
        url = server.url("/x")
    with pytest.raises(DownloadError, match="after 2 attempts.*connection"):
        fetch(url, tmp_path / "x", retries=1, **FAST)


def test_offline_uses_only_verified_cache(tmp_path, orbit_bytes):
    dest = tmp_path / "orbit.EOF"
    url = "http://127.0.0.1:9/never-contacted.EOF"
    with pytest.raises(OfflineError, match=f"{dest} does not exist.*{url}"):
        fetch(url, dest, offline=True)
    dest.write_bytes(orbit_bytes[:100])
    with pytest.raises(OfflineError, match="has 100 bytes, expected"):
        fetch(url, dest, expected_size=len(orbit_bytes), offline=True)
    dest.write_bytes(orbit_bytes)
    assert fetch(url, dest, sha256=_sha(orbit_bytes), offline=True) == dest


def test_bad_cached_file_is_replaced(tmp_path, orbit_bytes):
    dest = tmp_path / "orbit.EOF"
    dest.write_bytes(b"stale")
    with LocalServer({"/o.EOF": Resource(orbit_bytes)}) as server:
        fetch(server.url("/o.EOF"), dest, sha256=_sha(orbit_bytes), **FAST)
    assert dest.read_bytes() == orbit_bytes


def test_login_redirect_credentials_go_to_the_login_host_only(tmp_path, orbit_bytes):
    """ASF-style chain: data host -> login host (Basic auth) -> file; per-host credentials."""
    creds = ("alice", "s3cret")
    with LocalServer({}) as server:
        port = server.base_url.rsplit(":", 1)[1]
        login_url = f"http://localhost:{port}/login"  # another host name for the same server
        server.resources.update(
            {
                "/data/o.EOF": Resource(redirect=login_url),
                "/login": Resource(auth=creds, redirect=server.url("/files/o.EOF")),
                "/files/o.EOF": Resource(orbit_bytes),
            }
        )
        with pytest.raises(DownloadError, match="HTTP 401 from localhost.*netrc"):
            fetch(server.url("/data/o.EOF"), tmp_path / "a.EOF", **FAST)
        server.hits.clear()
        dest = fetch(server.url("/data/o.EOF"), tmp_path / "b.EOF", auth={"localhost": creds})
    assert dest.read_bytes() == orbit_bytes
    sent = {h.path: "Authorization" in h.headers for h in server.hits}
    assert sent == {"/data/o.EOF": False, "/login": True, "/files/o.EOF": False}


def test_netrc_credentials(tmp_path, orbit_bytes, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password pw\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with LocalServer({"/o.EOF": Resource(orbit_bytes, auth=("bob", "pw"))}) as server:
        fetch(server.url("/o.EOF"), tmp_path / "o.EOF", **FAST)
        fetch(server.url("/o.EOF"), tmp_path / "p.EOF", auth=("bob", "pw"), **FAST)


def test_concurrent_fetches_of_one_file_download_it_once(tmp_path, orbit_bytes):
    dest = tmp_path / "shared" / "orbit.EOF"
    with LocalServer({"/o.EOF": Resource(orbit_bytes)}) as server:
        errors = []

        def worker():
            try:
                fetch(server.url("/o.EOF"), dest, sha256=_sha(orbit_bytes), **FAST)
            except Exception as err:  # surfaced by the assertion below
                errors.append(err)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert dest.read_bytes() == orbit_bytes
    assert len(server.hits) == 1  # the others waited on the lock and found it verified
