"""A real HTTP server on 127.0.0.1 for testing download clients end to end.

The acquire clients are tested against this server serving real files and recorded API
responses, with the failures real data centres show: a connection dropped half-way, a corrupt
body, a ``Range`` header ignored, transient 5xx, login redirects with HTTP Basic credentials.
Each :class:`Resource` holds its body and a queue of *faults*, one consumed per request::

    with LocalServer({"/a.EOF": Resource(data, faults=["drop", "503"])}) as server:
        fetch(server.url("/a.EOF"), dest)

Faults: ``"drop"`` (announce the full length, send half, close), ``"corrupt"`` (same length,
bytes flipped), ``"ignore-range"`` (answer 200 with the whole body to a ``Range`` request),
``"<status>"`` (answer that HTTP status, e.g. ``"503"``).
"""

from __future__ import annotations

import base64
import ssl
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


@dataclass
class Resource:
    """One URL path served by :class:`LocalServer`.

    Parameters
    ----------
    body
        Bytes to serve, or a callable ``(query: dict[str, list[str]], body: bytes) -> bytes``
        producing the answer for the query string and the request body (a recorded API).
    content_type
        ``Content-Type`` header.
    faults
        Misbehaviours, one consumed per request (see the module docstring).
    auth
        (login, password) that HTTP Basic ``Authorization`` must carry, else 401.
    redirect
        Answer 302 to this URL (absolute, or a path on the same server) instead of a body.
    ranges
        Honour ``Range: bytes=a-`` requests with 206.
    """

    body: bytes | Callable[[dict[str, list[str]], bytes], bytes] = b""
    content_type: str = "application/octet-stream"
    faults: list[str] = field(default_factory=list)
    auth: tuple[str, str] | None = None
    redirect: str | None = None
    ranges: bool = True

    @classmethod
    def file(cls, path: str | Path, **kwargs) -> Resource:
        """A resource serving the bytes of a file."""
        return cls(Path(path).read_bytes(), **kwargs)


@dataclass
class Hit:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def self_signed_certificate(folder: str | Path) -> tuple[Path, Path]:
    """Write a one-day self-signed certificate for 127.0.0.1 with ``openssl``; (cert, key)."""
    folder = Path(folder)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class LocalServer:
    """Threaded HTTP(S) server on an ephemeral 127.0.0.1 port, as a context manager.

    ``resources`` maps a URL path (without query) to a :class:`Resource`; unknown paths get
    404.  ``hits`` lists every request received, for assertions on what a client sent.
    ``tls`` = (certificate, key) PEM files serves HTTPS (for clients that insist on
    ``https://``, like ``asf_search``).
    """

    def __init__(
        self, resources: Mapping[str, Resource], tls: tuple[str | Path, str | Path] | None = None
    ):
        self.resources = dict(resources)
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.scheme = "http"
        if tls is not None:  # (certificate, key) PEM files: serve HTTPS
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*(str(p) for p in tls))
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:PORT``."""
        host, port = self._httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this server."""
        return self.base_url + path

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _next_fault(self, resource: Resource) -> str | None:
        with self._lock:
            return resource.faults.pop(0) if resource.faults else None

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _serve(self, head: bool = False) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length) if length else b""
                with server._lock:
                    server.hits.append(
                        Hit(self.command, self.path, dict(self.headers.items()), payload)
                    )
                resource = server.resources.get(split.path)
                if resource is None:
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                    return
                if resource.auth is not None:
                    token = base64.b64encode(":".join(resource.auth).encode()).decode()
                    if self.headers.get("Authorization") != f"Basic {token}":
                        self._send(401, b"login required", {"WWW-Authenticate": 'Basic realm="t"'})
                        return
                if resource.redirect is not None:
                    self._send(302, b"", {"Location": resource.redirect})
                    return
                fault = server._next_fault(resource)
                if fault is not None and fault.isdigit():
                    self._send(int(fault), b"fault", {"Content-Type": "text/plain"})
                    return
                body = resource.body
                if callable(body):
                    body = body(parse_qs(split.query), payload)
                headers = {"Content-Type": resource.content_type, "Accept-Ranges": "bytes"}
                start = 0
                wanted = self.headers.get("Range", "")
                if wanted.startswith("bytes=") and resource.ranges and fault != "ignore-range":
                    first = wanted[6:].split("-", 1)[0]
                    start = int(first) if first.isdigit() else 0
                    if start >= len(body):
                        self._send(416, b"", {"Content-Range": f"bytes */{len(body)}"})
                        return
                    headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
                status = 206 if start else 200
                part = body[start:]
                if fault == "corrupt":
                    part = bytes(b ^ 0xFF for b in part[:64]) + part[64:]
                if fault == "drop":
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(part)))
                    self.end_headers()
                    self.wfile.write(part[: len(part) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._send(status, part, headers)

        return Handler
