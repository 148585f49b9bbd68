"""A polite HTTP client for the public services `hotspot fetch` reads (standard library only).

- **Rate limit**: at most `RATE_PER_S` requests a second (police.uk allows 15 a second with
  bursts of 30; we stay under it), shared by every request of one `Client`.
- **Retries with back-off**: HTTP 429 and 5xx answers, timeouts and dropped connections are
  tried again up to `RETRIES` times, waiting what the service's ``Retry-After`` header asks
  (seconds or an HTTP date; never more than `MAX_RETRY_AFTER_S`), else `BACKOFF_S` doubled on
  each try (capped at `BACKOFF_MAX_S`). Every request sent, retries included, is counted in
  `Client.requests`.
- **Timeouts**: each request gives up after `TIMEOUT_S` seconds without an answer.
- **A clear one-line error** when the service is down (`ServiceError`: the service, what was
  asked, the last answer, and how many tries), or answers with an unexpected 4xx (`ServiceError`
  too, naming the status).

`Client.request(..., pass_status=(503,))` hands a 503 *without* ``Retry-After`` back to the
caller instead of retrying it: police.uk answers 503 when a polygon holds more than 10,000
crimes, and the caller splits the polygon (see `police_uk`).
"""

from __future__ import annotations

import email.utils
import http.client
import io
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone

from hotspot_app.core.errors import HotspotError

#: Requests a second at most (per client).
RATE_PER_S: float = 10.0
#: Tries after the first for a 429, a 5xx, a timeout or a dropped connection.
RETRIES: int = 5
#: First back-off wait (seconds) when the service gives no Retry-After; doubled on each try.
BACKOFF_S: float = 1.0
#: Longest back-off wait, seconds.
BACKOFF_MAX_S: float = 60.0
#: Longest Retry-After honoured, seconds; a service asking for more is reported as down.
MAX_RETRY_AFTER_S: float = 300.0
#: Seconds without an answer before a request is given up (and tried again).
TIMEOUT_S: float = 60.0
#: Sent with every request, so a service can see who is calling.
USER_AGENT: str = "hotspot_app/0.1 (community safety partnership tool; python urllib)"

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class ServiceError(HotspotError):
    """A service did not give what was asked: down (5xx or no answer after every retry), a
    refusal (4xx), or an answer that is not what its API documents. One line."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ServiceError(f"{_short(self.url)} did not answer with JSON "
                               f"(HTTP {self.status}, {len(self.body):,} bytes)") from None

    def text(self) -> str:
        return self.body.decode("utf-8-sig", errors="replace")


def _short(url: str, limit: int = 160) -> str:
    return url if len(url) <= limit else url[: limit - 3] + "..."


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delay-seconds, decimals accepted, or an
    HTTP date); None when absent or unreadable."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


@dataclass
class Client:
    """Requests to one service rooted at `base_url` (e.g. ``https://data.police.uk/api``).

    `service` names it in errors ("police.uk"). Settings default to the module's values.
    """

    base_url: str
    service: str = "the service"
    rate_per_s: float | None = None
    retries: int | None = None
    backoff_s: float | None = None
    timeout_s: float | None = None
    requests: int = 0
    #: (status or None, seconds waited) of every retry, for the summary and the tests
    waits: list[tuple[int | None, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.rate_per_s = RATE_PER_S if self.rate_per_s is None else self.rate_per_s
        self.retries = RETRIES if self.retries is None else self.retries
        self.backoff_s = BACKOFF_S if self.backoff_s is None else self.backoff_s
        self.timeout_s = TIMEOUT_S if self.timeout_s is None else self.timeout_s
        self._lock = threading.Lock()
        self._next_at = 0.0

    def url(self, path: str, params: dict | None = None) -> str:
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params, safe=",:'()")
        return url

    def _pace(self) -> None:
        """Wait until the rate limit allows the next request."""
        if not self.rate_per_s or self.rate_per_s <= 0:
            return
        with self._lock:
            now = time.monotonic()
            wait = self._next_at - now
            self._next_at = max(now, self._next_at) + 1.0 / self.rate_per_s
        if wait > 0:
            _sleep(wait)

    def get(self, path: str, params: dict | None = None, **kwargs) -> Response:
        return self.request("GET", path, params=params, **kwargs)

    def request(self, method: str, path: str, params: dict | None = None, data: dict | None = None,
                headers: dict | None = None, pass_status: tuple[int, ...] = (),
                what: str | None = None) -> Response:
        """Send one request (with retries); returns the 2xx answer, or an answer whose status is
        in `pass_status` (a 503 with Retry-After is always retried). Raises `ServiceError`."""
        url = self.url(path, params)
        body = urllib.parse.urlencode(data, safe=",:").encode("ascii") if data is not None else None
        hdrs = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        if body is not None:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        hdrs.update(headers or {})
        label = what or f"{method} {_short(url)}"
        last = "no answer"
        for attempt in range(self.retries + 1):
            self._pace()
            self.requests += 1
            status, answer_headers, content, error = None, {}, b"", None
            try:
                req = urllib.request.Request(url, data=body, headers=hdrs, method=method)
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    status = resp.status
                    answer_headers = {k.lower(): v for k, v in resp.headers.items()}
                    content = resp.read()
            except urllib.error.HTTPError as exc:
                status = exc.code
                answer_headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
                try:
                    content = exc.read()
                except (OSError, http.client.HTTPException):
                    content = b""
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError,
                    http.client.HTTPException, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                error = " ".join(str(reason).split()) or type(exc).__name__
            if status is not None and 200 <= status < 300:
                return Response(status, answer_headers, content, url)
            retry_after = retry_after_seconds(answer_headers.get("retry-after")) if status else None
            if status is not None and status in pass_status and retry_after is None:
                return Response(status, answer_headers, content, url)
            if status is not None and status not in RETRY_STATUS:
                detail = " ".join(content[:200].decode("utf-8", "replace").split())
                raise ServiceError(f"{self.service} refused {label}: HTTP {status}"
                                   + (f" ({detail})" if detail else ""))
            last = f"HTTP {status}" if status is not None else error
            if attempt == self.retries:
                break
            if retry_after is not None:
                if retry_after > MAX_RETRY_AFTER_S:
                    raise ServiceError(f"{self.service} asks to wait {retry_after:,.0f} s before "
                                       f"{label} ({last}); try again later")
                wait = retry_after
            else:
                wait = min(BACKOFF_MAX_S, self.backoff_s * (2 ** attempt))
            self.waits.append((status, wait))
            _sleep(wait)
        raise ServiceError(f"{self.service} is not answering: {label} failed {self.retries + 1} times "
                           f"(last: {last}); try again later")

    def download(self, path: str, fh, params: dict | None = None, what: str | None = None,
                 chunk: int = 1 << 20) -> int:
        """Stream a GET answer into the binary file `fh` (retried from the start on failure);
        returns the bytes written."""
        url = self.url(path, params)
        label = what or f"GET {_short(url)}"
        last = "no answer"
        for attempt in range(self.retries + 1):
            self._pace()
            self.requests += 1
            fh.seek(0)
            fh.truncate()
            try:
                req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    n = 0
                    while True:
                        block = resp.read(chunk)
                        if not block:
                            return n
                        fh.write(block)
                        n += len(block)
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUS:
                    raise ServiceError(f"{self.service} refused {label}: HTTP {exc.code}") from None
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError,
                    http.client.HTTPException, OSError) as exc:
                last = " ".join(str(getattr(exc, "reason", exc)).split()) or type(exc).__name__
            if attempt < self.retries:
                wait = min(BACKOFF_MAX_S, self.backoff_s * (2 ** attempt))
                self.waits.append((None, wait))
                _sleep(wait)
        raise ServiceError(f"{self.service} is not answering: {label} failed {self.retries + 1} times "
                           f"(last: {last}); try again later")


def _sleep(seconds: float) -> None:
    """The one place the client waits (pacing and back-off; retries are also recorded in
    `Client.waits`)."""
    if seconds > 0:
        time.sleep(seconds)


class RemoteFile(io.RawIOBase):
    """A read-only, seekable view of a file on a server that answers HTTP ``Range`` requests:
    `zipfile` can then read an archive's directory and the members it needs without
    downloading the rest. Each block read is one request through `client` (paced, retried,
    counted). Wrap it in ``io.BufferedReader(f, buffer_size=...)`` so small reads share a block.
    """

    def __init__(self, client: Client, path: str, size: int, what: str = "") -> None:
        super().__init__()
        self.client, self.path, self.size, self.what = client, path, int(size), what
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + int(offset))
        return self.pos

    def readinto(self, buffer) -> int:
        if self.pos >= self.size:
            return 0
        n = min(len(buffer), self.size - self.pos)
        end = self.pos + n - 1
        resp = self.client.request("GET", self.path, headers={"Range": f"bytes={self.pos}-{end}"},
                                   what=f"{self.what or self.path} bytes {self.pos:,}-{end:,}")
        data = resp.body
        if resp.status == 200:  # the server ignored the range: take the part asked for
            data = data[self.pos: self.pos + n]
        elif resp.status != 206:
            raise ServiceError(f"{self.client.service} answered HTTP {resp.status} to a range request "
                               f"for {self.what or self.path}")
        if len(data) != n:
            raise ServiceError(f"{self.client.service} sent {len(data):,} of {n:,} bytes asked for "
                               f"{self.what or self.path}")
        buffer[:n] = data
        self.pos += n
        return n


def open_remote(client: Client, path: str, what: str = "", block: int = 4 << 20):
    """A seekable binary file for `path`: read by ranges when the server offers them (a HEAD
    request tells), else None (the caller downloads it whole)."""
    head = client.request("HEAD", path, what=f"HEAD {what or path}")
    size = head.headers.get("content-length")
    if head.headers.get("accept-ranges", "").lower() != "bytes" or not (size or "").isdigit():
        return None
    return io.BufferedReader(RemoteFile(client, path, int(size), what), buffer_size=block)
