"""The download primitive every acquire client uses: resumable, verified, cached, atomic.

:func:`fetch` puts one URL at one path of the shared cache.  The bytes arrive in
``<dest>.part``; an interrupted transfer is resumed with an HTTP ``Range`` request, a finished
one is verified (size, SHA-256) and renamed to ``dest`` in one step, so ``dest`` either does not
exist or is complete.  Several processes asking for the same ``dest`` at once (Snakemake jobs of
neighbouring frames sharing an orbit file or a DEM tile) are serialised by an advisory lock on
``<dest>.lock``: the second one finds the file verified and returns at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import netrc
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import requests

from sar4tec.errors import Sar4tecError

log = logging.getLogger(__name__)

#: bytes read from the socket per write
CHUNK = 1 << 20
#: longest single back-off wait in seconds
MAX_WAIT = 120.0
#: HTTP statuses worth retrying (server overload / transient gateway errors)
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class DownloadError(Sar4tecError, RuntimeError):
    """A download failed for good (after retries, or on a status that retrying cannot fix).

    ``status`` is the HTTP status of a permanent error (e.g. 404), else ``None``.
    """

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class OfflineError(Sar4tecError, FileNotFoundError):
    """Offline mode was asked for a file that is not (verified) in the cache."""


class _Retry(Exception):
    """A transient failure: wait and try again (the partial file may be kept)."""


Credentials = tuple[str, str]
_TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def sha256sum(path: str | os.PathLike, chunk: int = CHUNK) -> str:
    """Hex SHA-256 digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify(
    path: str | os.PathLike, expected_size: int | None = None, sha256: str | None = None
) -> str | None:
    """Check a file against its expected size and SHA-256.

    Returns
    -------
    str or None
        ``None`` when the file passes, otherwise a sentence saying what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        return f"{path} does not exist"
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        return f"{path} has {size} bytes, expected {expected_size}"
    if sha256 is not None:
        digest = sha256sum(path)
        if digest.lower() != sha256.lower():
            return f"{path} has sha256 {digest}, expected {sha256.lower()}"
    return None


def netrc_credentials(host: str, netrc_file: str | os.PathLike | None = None) -> Credentials | None:
    """(login, password) for ``host`` from ``~/.netrc`` (or ``$NETRC``/``netrc_file``), if any."""
    path = Path(netrc_file or os.environ.get("NETRC", Path.home() / ".netrc"))
    if not path.is_file():
        return None
    try:
        entry = netrc.netrc(path).authenticators(host)
    except (netrc.NetrcParseError, OSError) as err:
        raise DownloadError(f"cannot read credentials from {path}: {err}") from err
    if entry is None:
        return None
    login, _, password = entry
    return login or "", password or ""


class _Session(requests.Session):
    """A session that sends credentials per host, also to hosts reached by redirects.

    Data centres authenticate through a redirect to a login host (NASA Earthdata for ASF):
    the credentials must follow to exactly that host and to no other.  ``credentials`` maps
    host names to (login, password); hosts missing from it fall back to ``~/.netrc``.
    """

    def __init__(self, credentials: Mapping[str, Credentials]):
        super().__init__()
        self.credentials = dict(credentials)

    def auth_for(self, url: str) -> Credentials | None:
        host = urlsplit(url).hostname or ""
        return self.credentials.get(host) or netrc_credentials(host)

    def rebuild_auth(self, prepared_request, response):  # noqa: D102 (requests hook)
        super().rebuild_auth(prepared_request, response)  # drops Authorization on a host change
        creds = self.credentials.get(urlsplit(prepared_request.url).hostname or "")
        if creds is not None:
            prepared_request.prepare_auth(creds)


def _credentials(url: str, auth) -> dict[str, Credentials]:
    """Normalise ``auth``: None, (login, password) for the URL's host, or {host: (l, p)}."""
    if auth is None:
        return {}
    if isinstance(auth, Mapping):
        return {str(h): (str(u), str(p)) for h, (u, p) in auth.items()}
    if isinstance(auth, tuple | list) and len(auth) == 2:
        return {urlsplit(url).hostname or "": (str(auth[0]), str(auth[1]))}
    raise TypeError(
        f"auth must be None, (login, password) or {{host: (login, password)}}: {auth!r}"
    )


@contextlib.contextmanager
def cache_lock(dest: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``<dest>.lock`` (waits for other holders)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    lock_path = dest.with_name(dest.name + ".lock")
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError as err:  # file systems without flock (some NFS mounts): go on unlocked
            log.warning("no lock on %s (%s); concurrent downloads may repeat work", lock_path, err)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(handle, fcntl.LOCK_UN)


def _content_range_start(value: str | None) -> int | None:
    """First byte of a ``Content-Range: bytes a-b/n`` header, or None."""
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[6:].split("-", 1)[0])
    except ValueError:
        return None


def _transfer(
    session: _Session,
    url: str,
    part: Path,
    headers: Mapping[str, str],
    timeout: float,
    expected_size: int | None,
) -> None:
    """One attempt: (re)start or resume the transfer of ``url`` into ``part``."""
    have = part.stat().st_size if part.exists() else 0
    # identity: the bytes on disk are the bytes of the file (no transparent gunzip of .gz files)
    request_headers = {"Accept-Encoding": "identity", **headers}
    if have:
        request_headers["Range"] = f"bytes={have}-"
    try:
        response = session.get(
            url,
            headers=request_headers,
            auth=session.auth_for(url),
            stream=True,
            timeout=timeout,
        )
    except _TRANSIENT as err:
        raise _Retry(f"connection to {url} failed: {err}") from err
    with response:
        status = response.status_code
        if status == 416 and have:
            # our partial already holds every byte the server has (or more): let verify decide
            return
        if status in RETRY_STATUS:
            raise _Retry(f"{url} answered HTTP {status}")
        if status in (401, 403):
            host = urlsplit(response.url).hostname
            raise DownloadError(
                f"{url}: HTTP {status} from {host}: credentials are missing or refused; give "
                f"them with auth= or a 'machine {host} login ... password ...' line in ~/.netrc",
                status,
            )
        if status >= 400:
            raise DownloadError(f"{url}: HTTP {status} {response.reason}", status)
        start = _content_range_start(response.headers.get("Content-Range"))
        if status == 206 and start == have:
            mode = "ab"
        else:  # 200, or a range we did not ask for: the server sends the whole file
            if have:
                log.info("%s ignored the Range request; restarting from byte 0", url)
            mode, have = "wb", 0
        length = response.headers.get("Content-Length")
        announced = have + int(length) if length is not None and length.isdigit() else None
        if announced is not None and expected_size is not None and announced != expected_size:
            log.warning("%s announces %d bytes, expected %d", url, announced, expected_size)
        # keep every byte that arrived before a drop (we compare with Content-Length ourselves)
        response.raw.enforce_content_length = False
        try:
            with open(part, mode) as f:
                for block in response.iter_content(CHUNK):
                    f.write(block)
        except _TRANSIENT as err:
            raise _Retry(f"transfer of {url} broke off: {err}") from err
        got = part.stat().st_size
        if announced is not None and got < announced:
            raise _Retry(f"transfer of {url} stopped at byte {got} of {announced}")


def fetch(
    url: str,
    dest: str | os.PathLike,
    *,
    expected_size: int | None = None,
    sha256: str | None = None,
    auth=None,
    headers: Mapping[str, str] | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60,
    offline: bool = False,
) -> Path:
    """Download ``url`` to ``dest`` (a path in the shared cache) unless it is already there.

    Parameters
    ----------
    url
        HTTP(S) address of the file.
    dest
        Final path.  An existing ``dest`` that passes the checks is returned without any network
        access; one that fails them is downloaded again.
    expected_size, sha256
        Checks of the finished file.  A mismatch deletes the partial file and counts as a failed
        attempt.
    auth
        ``(login, password)`` for the host of ``url``, or ``{host: (login, password)}`` for the
        hosts of a login redirect chain (e.g. NASA Earthdata).  Hosts without credentials here
        use ``~/.netrc`` (or ``$NETRC``).
    headers
        Extra request headers (e.g. ``{"Authorization": "Bearer ..."}`` for token APIs).
    retries
        Attempts after the first one, for connection errors, timeouts, HTTP 408/425/429/5xx,
        truncated transfers and failed checks.
    backoff
        The wait before retry ``k`` (1-based) is ``backoff * 2**(k-1)`` seconds (at most
        120 s); a ``Retry-After`` is not needed for this to be polite.
    timeout
        Seconds to wait for the connection and for each read.
    offline
        Never touch the network: return ``dest`` if it exists and passes the checks, otherwise
        raise :class:`OfflineError`.

    Returns
    -------
    pathlib.Path
        ``dest``, complete and verified.

    Raises
    ------
    OfflineError
        ``offline`` and ``dest`` is missing or fails its checks.
    DownloadError
        Permanent HTTP errors (401/403 name the credentials needed, 404 the URL), or all
        attempts failed (the message holds the last reason).
    """
    dest = Path(dest)
    if offline:
        problem = verify(dest, expected_size, sha256)
        if problem is not None:
            raise OfflineError(f"offline mode: {problem}; it would be downloaded from {url}")
        return dest
    if dest.is_file() and verify(dest, expected_size, sha256) is None:
        return dest
    part = dest.with_name(dest.name + ".part")
    session = _Session(_credentials(url, auth))
    with cache_lock(dest), session:
        # another process may have finished it while we waited for the lock
        if dest.is_file() and verify(dest, expected_size, sha256) is None:
            return dest
        reason = ""
        for attempt in range(retries + 1):
            if attempt:
                wait = min(backoff * 2 ** (attempt - 1), MAX_WAIT)
                log.info("retry %d/%d of %s in %.1f s: %s", attempt, retries, url, wait, reason)
                time.sleep(wait)
            try:
                _transfer(session, url, part, headers or {}, timeout, expected_size)
            except _Retry as err:
                reason = str(err)
                continue
            problem = verify(part, expected_size, sha256)
            if problem is None:
                os.replace(part, dest)
                log.info("downloaded %s -> %s", url, dest)
                return dest
            part.unlink(missing_ok=True)
            reason = f"check failed: {problem}"
        raise DownloadError(f"giving up on {url} -> {dest} after {retries + 1} attempts: {reason}")
