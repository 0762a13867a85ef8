"""A download SIGKILLed midway resumes where it stopped and yields the exact file (issue 10).

The server is a real HTTP server on 127.0.0.1 that sends a real IONEX file slowly (so the
kill lands mid-transfer) and honours ``Range`` requests; the client is
:func:`sar4tec.acquire.download.fetch` in a separate process, killed with SIGKILL.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sar4tec.acquire.download import fetch

pytestmark = pytest.mark.network

CHUNK = 16384


def throttled_server(body: bytes, ranges: list[str]) -> ThreadingHTTPServer:
    """Serve ``body`` at any path, ``CHUNK`` bytes every 20 ms; record the Range headers."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            start = 0
            if (asked := self.headers.get("Range")) is not None:
                ranges.append(asked)
                start = int(asked.removeprefix("bytes=").split("-")[0])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            try:
                for k in range(start, len(body), CHUNK):
                    self.wfile.write(body[k : k + CHUNK])
                    time.sleep(0.02)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


FETCH = (
    "import sys; from sar4tec.acquire.download import fetch; "
    "fetch(sys.argv[1], sys.argv[2], sha256=sys.argv[3])"
)


def test_a_killed_download_resumes_and_yields_the_exact_file(real_data, tmp_path):
    # 1.7 MB: fetch writes in 1 MiB blocks, so the partial file holds one block after ~1.3 s
    # and the transfer ends after ~2 s at this pace
    body = (real_data / "ionex/codg0080.20i").read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    ranges: list[str] = []
    server = throttled_server(body, ranges)
    url = f"http://127.0.0.1:{server.server_address[1]}/codg0080.20i"
    dest = tmp_path / "cache/codg0080.20i"
    part = dest.with_name(dest.name + ".part")
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", FETCH, url, str(dest), digest], start_new_session=True
        )
        try:
            deadline = time.monotonic() + 60
            while not (part.exists() and part.stat().st_size > 0):
                assert process.poll() is None, "the download ended before it was killed"
                assert time.monotonic() < deadline, "the download did not start"
                time.sleep(0.005)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        kept = part.stat().st_size
        assert not dest.exists(), "a killed download left a file under the final name"
        assert 0 < kept < len(body)
        assert fetch(url, dest, sha256=digest, backoff=0.01) == dest
    finally:
        server.shutdown()
    assert ranges == [f"bytes={kept}-"]  # resumed at the first missing byte, not restarted
    assert dest.read_bytes() == body and not part.exists()
