"""Sending one request to the API within its time limits, and sorting every way it can fail.

Each `requests`/urllib3 failure becomes a TransientError (whether Qovery may have acted, how many tries it
deserves, how to fix it) or an ApiError, so that the client above only decides what to retry.
"""

from __future__ import annotations

import signal
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from qovery_job_deploy import __version__
from qovery_job_deploy.api.errors import ApiError, TransientError
from qovery_job_deploy.api.network import ca_bundle, proxy_for, proxy_url
from qovery_job_deploy.text import one_line

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
MIN_TIMEOUT = 0.1
# Tries for failures that rarely heal within seconds (DNS, TLS handshake, proxy): fail fast, say why.
QUICK_GIVE_UP = 2
LOG_CHUNK_BYTES = 64 * 1024


class Sender:
    """One session to the API; each request sent within its time limit, each failure sorted."""

    def __init__(
        self,
        api_url: str,
        authorization: str,
        *,
        environ: Mapping[str, str],
        read_timeout: float = READ_TIMEOUT,
        transport: requests.adapters.BaseAdapter | None = None,
    ) -> None:
        self._base = api_url.rstrip("/")
        self._host = urlsplit(self._base).netloc.rpartition("@")[2]  # what error messages call the API
        self._proxy = proxy_for(self._base, environ)
        self._session, self._limit = session_for(self._base, environ, transport)
        self._session.headers.update(
            {
                "Authorization": authorization,
                "Accept": "application/json",
                "User-Agent": f"qovery-job-deploy/{__version__}",
            }
        )
        self._timeout = (min(CONNECT_TIMEOUT, read_timeout), read_timeout)

    def close(self) -> None:
        self._session.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None,
        body: dict[str, Any] | None,
        left: float,
        stream: bool = False,
    ) -> requests.Response:
        """One try at `method path`, all of it within `left` seconds; every failure raised as an ApiError."""
        connect, read = self._timeout
        try:
            # requests' timeouts bound each phase and each socket read, not the whole call: a server
            # that trickles its answer byte by byte would never time out. The wall-clock limit does.
            with self._limit(left):
                return self._session.request(
                    method,
                    self._base + path,
                    params=params,
                    json=body,
                    timeout=(min(connect, left), min(read, left)),
                    allow_redirects=False,
                    stream=stream,
                )
        except CallTooLong:
            raise TransientError(
                f"{method} {path}: no complete answer within {left:.1f}s",
                acted=None,
                still_working=True,
                hint=self._network_hint(),
            ) from None
        except requests.exceptions.SSLError as error:
            if not _certificate_rejected(error):
                raise TransientError(
                    f"{method} {path}: the TLS handshake with {self._host} failed ({_tls_reason(error)})",
                    acted=False if _never_connected(error) else None,
                    hint=f"Check that `api-url` ({self._base}) is an HTTPS endpoint; a proxy that intercepts "
                    "TLS needs its CA in REQUESTS_CA_BUNDLE or SSL_CERT_FILE.",
                    max_attempts=QUICK_GIVE_UP,
                ) from None
            # Not transient, and nothing was sent: the TLS handshake failed before the request.
            raise ApiError(
                f"{method} {path}: the TLS certificate of {self._base} could not be verified. If a corporate "
                "proxy re-signs TLS traffic, point REQUESTS_CA_BUNDLE or SSL_CERT_FILE at its CA bundle."
            ) from None
        except requests.ConnectTimeout:
            raise TransientError(
                f"{method} {path}: the connection to {self._host} timed out (no answer to connect)",
                acted=False,
                hint=self._network_hint(),
            ) from None
        except requests.Timeout:
            raise TransientError(
                f"{method} {path}: no response in time: {self._host} took the request and said nothing",
                acted=None,
                still_working=True,
                hint=self._network_hint(),
            ) from None
        except requests.ConnectionError as error:
            what, hint, attempts = self._unreachable(error)
            acted = False if _never_connected(error) else None
            raise TransientError(
                f"{method} {path}: {what}", acted=acted, hint=hint, max_attempts=attempts
            ) from None
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidProxyURL):
            # Settings checked `api-url`, so it is the proxy's; its text may hold a password: not shown.
            # Nothing was sent, and retrying cannot help: one try.
            raise TransientError(
                f"{method} {path}: the proxy URL could not be parsed",
                acted=False,
                hint="Check HTTPS_PROXY (and NO_PROXY): scheme://host:port, with a numeric port.",
                max_attempts=1,
            ) from None
        except requests.RequestException as error:  # a broken chunked body, a bad encoding, ...
            raise TransientError(f"{method} {path}: {type(error).__name__}", acted=None) from None

    def read_body(
        self, response: requests.Response, max_bytes: int, *, path: str, left: float, budget: float
    ) -> tuple[bytes, bool]:
        """A streamed GET's body, cut at `max_bytes` (and whether it was), within `left` of its `budget`."""
        try:
            with self._limit(left):
                return _read_at_most(response, max_bytes)
        except CallTooLong:
            raise TransientError(
                f"GET {path}: no complete answer within {budget:.1f}s", acted=None, hint=self._network_hint()
            ) from None
        except requests.RequestException as error:
            raise TransientError(f"GET {path}: {type(error).__name__}", acted=None) from None

    def _unreachable(self, error: requests.ConnectionError) -> tuple[str, str, int | None]:
        """What failed in a connection error, how to fix it, and how many tries it deserves."""
        base, host = self._base, self._host
        if isinstance(error, requests.exceptions.ProxyError):
            return (
                f"could not reach {host} through the proxy {self._proxy or '(set in the environment)'}",
                "Check HTTPS_PROXY (and NO_PROXY, the hosts that bypass it); unset it if no proxy is needed.",
                QUICK_GIVE_UP,
            )
        if _in_chain(error, (NameResolutionError, socket.gaierror)):
            return (
                f"the host name {urlsplit(base).hostname} does not resolve (DNS)",
                f"Check `api-url` ({base}) and the runner's DNS; if only a proxy can resolve it, set "
                "HTTPS_PROXY.",
                QUICK_GIVE_UP,
            )
        if _in_chain(error, (ConnectionRefusedError,)):
            return (
                f"{host} refused the connection",
                f"Check `api-url` ({base}) and its port; behind a proxy, set HTTPS_PROXY (NO_PROXY lists "
                "the hosts that bypass it).",
                None,
            )
        if _never_connected(error) and _in_chain(error, (ConnectionResetError,)):
            # Accepted, then reset before the request went out: often a firewall or a proxy's doing.
            return f"{host} reset the connection before the request was sent", self._network_hint(), None
        if _never_connected(error):
            return f"could not connect to {host}", f"Check `api-url` ({base}) and the network.", None
        return f"the connection broke before {host} answered (closed)", self._network_hint(), None

    def _network_hint(self) -> str:
        """What to check when the network drops or holds requests without a word."""
        return (
            f"Check `api-url` ({self._base}), the proxy variables (HTTPS_PROXY, NO_PROXY; proxy: "
            f"{self._proxy or 'none'}) and any firewall between this runner and {self._host}."
        )


def session_for(
    base: str, environ: Mapping[str, str], transport: requests.adapters.BaseAdapter | None
) -> tuple[requests.Session, Callable[[float], AbstractContextManager[None]]]:
    """A session to `base` (Qovery's API, or GitHub's), and the wall-clock limit of one call on it.

    The proxy and the CA bundle come from the environment the step was given, not from os.environ (nor
    ~/.netrc, whose credentials requests would put in place of the token). The wall-clock limit is the
    network's: it stops a server that trickles its answer, in real time. An injected transport (the tests'
    in-process simulator, on a virtual clock) has no wire to trickle.
    """
    session = requests.Session()
    session.trust_env = False
    if proxy := proxy_url(base, environ):
        session.proxies = {urlsplit(base).scheme: proxy}
    if bundle := ca_bundle(environ):
        # A corporate CA, from SSL_CERT_FILE as well as requests' own variables. Verification itself is
        # never turned off.
        session.verify = bundle
    limit: Callable[[float], AbstractContextManager[None]] = wall_clock_limit
    if transport is not None:
        session.mount("http://", transport)
        session.mount("https://", transport)
        limit = lambda seconds: nullcontext()  # noqa: E731
    return session, limit


def _read_at_most(response: requests.Response, max_bytes: int) -> tuple[bytes, bool]:
    body = bytearray()
    for chunk in response.iter_content(LOG_CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            return bytes(body[:max_bytes]), True
    return bytes(body), False


class CallTooLong(BaseException):
    """Raised by the wall-clock alarm; a BaseException so that no library on the way swallows it."""


@contextmanager
def wall_clock_limit(seconds: float) -> Iterator[None]:
    """Raise CallTooLong in the main thread if the block lasts longer than `seconds` (SIGALRM).

    Elsewhere than the main thread signals cannot be used; the per-phase timeouts still apply there.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise CallTooLong

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _never_connected(error: BaseException) -> bool:
    """True when the TCP connection was never made (refused, DNS failure, no proxy): nothing was sent."""
    return _in_chain(error, (NewConnectionError,)) is not None


def _certificate_rejected(error: BaseException) -> bool:
    """True when, somewhere in the chain of causes, the server's certificate failed verification."""
    return _in_chain(error, (ssl.SSLCertVerificationError,)) is not None


def _tls_reason(error: BaseException) -> str:
    cause = _in_chain(error, (ssl.SSLError,))
    reason = getattr(cause, "reason", None) or type(error).__name__
    return one_line(reason, 80)


def _in_chain(error: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    """The first exception of one of `kinds` among `error` and its causes (urllib3 nests them deeply)."""
    pending: list[BaseException] = [error]
    for _ in range(50):  # causes form a short chain; the bound only guards against cycles
        if not pending:
            break
        item = pending.pop()
        if isinstance(item, kinds):
            return item
        links = [*item.args, item.__cause__, item.__context__, getattr(item, "reason", None)]
        pending += [link for link in links if isinstance(link, BaseException)]
    return None
