"""The Qovery API client: one session, timeouts on every call, failures sorted into retryable or not."""

from __future__ import annotations

import signal
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import FrameType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ValidationError
from urllib3.exceptions import NameResolutionError, NewConnectionError

from qovery_job_deploy import __version__
from qovery_job_deploy.clock import Clock
from qovery_job_deploy.errors import ApiError, RefusedError, TransientError
from qovery_job_deploy.models import (
    DeploymentQueue,
    EnvironmentInfo,
    History,
    JobInfo,
    JobStatus,
    JobStatuses,
    NamedList,
    RequestStatus,
)
from qovery_job_deploy.retry import DEFAULT_POLICY, RetryPolicy, call_with_retries, parse_retry_after
from qovery_job_deploy.text import one_line

M = TypeVar("M", bound=BaseModel)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
MIN_TIMEOUT = 0.1
# Tries for failures that rarely heal within seconds (DNS, TLS handshake, proxy): fail fast, say why.
QUICK_GIVE_UP = 2
HISTORY_BUDGET = 3.0  # the history only paces the polling: not worth holding the first status read for
LOG_CHUNK_BYTES = 64 * 1024


class QoveryClient:
    """Each public method is one API operation, with its retries (never past `deadline`)."""

    def __init__(
        self,
        api_url: str,
        authorization: str,
        *,
        clock: Clock,
        deadline: float,
        policy: RetryPolicy = DEFAULT_POLICY,
        on_retry: Callable[[TransientError, float], None] = lambda error, delay: None,
        read_timeout: float = READ_TIMEOUT,
        ca_bundle: str | None = None,
        transport: requests.adapters.BaseAdapter | None = None,
    ) -> None:
        self._base = api_url.rstrip("/")
        self._host = urlsplit(self._base).netloc.rpartition("@")[2]  # what error messages call the API
        self._proxy = proxy_for(self._base)
        self._session = requests.Session()
        # The wall-clock limit is the network's: it stops a server that trickles its answer, in real time.
        # An injected transport (the tests' in-process simulator, on a virtual clock) has no wire to trickle.
        self._limit: Callable[[float], AbstractContextManager[None]] = wall_clock_limit
        if transport is not None:
            self._session.mount("http://", transport)
            self._session.mount("https://", transport)
            self._limit = lambda seconds: nullcontext()
        self._session.headers.update(
            {
                "Authorization": authorization,
                "Accept": "application/json",
                "User-Agent": f"qovery-job-deploy/{__version__}",
            }
        )
        self._clock = clock
        self.deadline = deadline
        self._policy = policy
        self._on_retry = on_retry
        self._timeout = (min(CONNECT_TIMEOUT, read_timeout), read_timeout)
        if ca_bundle:
            # requests reads REQUESTS_CA_BUNDLE itself, but not SSL_CERT_FILE: honour a corporate CA either
            # way. Verification itself is never turned off.
            self._session.verify = ca_bundle

    def close(self) -> None:
        self._session.close()

    # -- operations -------------------------------------------------------------------------------

    def job_status(self, job_id: str) -> JobStatus:
        return self._read(f"/job/{job_id}/status", JobStatus, f"job {job_id}")

    def deploy_job(self, job_id: str, body: dict[str, str], force_event: str | None) -> JobStatus:
        """POST /job/{id}/deploy, retried only when Qovery surely did not act on it."""
        params = {"forceEvent": force_event} if force_event else None
        return self._retrying(
            lambda: self._call(
                "POST", f"/job/{job_id}/deploy", JobStatus, what=f"job {job_id}", params=params, body=body
            ),
            idempotent=False,
        )

    def cancel_request(self, deployment_request_id: str, *, budget: float) -> None:
        """Cancel one deployment request (never the whole environment's), in one try within `budget`."""
        path = f"/deploymentQueue/{deployment_request_id}/cancelDeployment"
        response = self._send("POST", path, params=None, body={}, budget=budget, beyond_deadline=True)
        check_response(response, what=f"deployment request {deployment_request_id}", method="POST")

    def job_history(self, job_id: str) -> History:
        """The job's last deployments. One try: it only tunes the polling, so it is not worth waiting for."""
        return self._call(
            "GET", f"/job/{job_id}/deploymentHistoryV2", History, what=f"job {job_id}", budget=HISTORY_BUDGET
        )

    def request_status(self, deployment_request_id: str) -> RequestStatus:
        return self._read(
            "/environment/deploymentStatus",
            RequestStatus,
            f"deployment request {deployment_request_id}",
            params={"deploymentRequestId": deployment_request_id},
        )

    def deployment_queue(self, job_id: str) -> DeploymentQueue:
        """The requests still queued for the job (before they start, they may not show in its status)."""
        return self._read(f"/service/{job_id}/deploymentQueue", DeploymentQueue, f"job {job_id}")

    def environment_job_statuses(self, environment_id: str) -> JobStatuses:
        """Every job's status in one read: one request per interval however many jobs are followed."""
        return self._read(
            f"/environment/{environment_id}/job/status", JobStatuses, f"environment {environment_id}"
        )

    def organizations(self) -> NamedList:
        return self._read("/organization", NamedList, "the organizations")

    def projects(self, organization_id: str) -> NamedList:
        return self._read(
            f"/organization/{organization_id}/project", NamedList, f"organization {organization_id}"
        )

    def environments(self, project_id: str) -> NamedList:
        return self._read(f"/project/{project_id}/environment", NamedList, f"project {project_id}")

    def environment_jobs(self, environment_id: str) -> NamedList:
        return self._read(f"/environment/{environment_id}/job", NamedList, f"environment {environment_id}")

    def job(self, job_id: str, *, budget: float) -> JobInfo:
        """The job's name and environment. One try: only the report's names and links depend on it."""
        return self._call("GET", f"/job/{job_id}", JobInfo, what=f"job {job_id}", budget=budget)

    def environment(self, environment_id: str, *, budget: float) -> EnvironmentInfo:
        """The environment's name, project and organization. One try, as `job`."""
        return self._call(
            "GET",
            f"/environment/{environment_id}",
            EnvironmentInfo,
            what=f"environment {environment_id}",
            budget=budget,
        )

    def environment_logs(
        self, environment_id: str, version: str, *, budget: float, max_bytes: int
    ) -> tuple[bytes, bool]:
        """The raw body of one deployment's log, and whether it was longer than `max_bytes` (then cut).

        One try within `budget`, which may run past the deadline (the log is read once the verdict is
        known). Streamed, so that a huge body costs at most `max_bytes` of memory.
        """
        path = f"/environment/{environment_id}/logs"
        started = self._clock.now()
        response = self._send(
            "GET",
            path,
            params={"version": version},
            body=None,
            budget=budget,
            beyond_deadline=True,
            stream=True,
        )
        with response:
            check_response(response, what=f"environment {environment_id}", method="GET")
            left = max(MIN_TIMEOUT, budget - (self._clock.now() - started))
            try:
                with self._limit(left):
                    return _read_at_most(response, max_bytes)
            except CallTooLong:
                raise TransientError(
                    f"GET {path}: no complete answer within {budget:.1f}s", acted=None
                ) from None
            except requests.RequestException as error:
                raise TransientError(f"GET {path}: {type(error).__name__}", acted=None) from None

    # -- plumbing ---------------------------------------------------------------------------------

    def _read(self, path: str, model: type[M], what: str, params: dict[str, str] | None = None) -> M:
        """A GET, retried like every read."""
        return self._retrying(
            lambda: self._call("GET", path, model, what=what, params=params), idempotent=True
        )

    def _retrying(self, call: Callable[[], M], *, idempotent: bool) -> M:
        try:
            return call_with_retries(
                call,
                idempotent=idempotent,
                deadline=self.deadline,
                clock=self._clock,
                policy=self._policy,
                on_retry=self._on_retry,
            )
        except TransientError as error:
            raise error.with_hint() from None

    def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        what: str,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        budget: float | None = None,
    ) -> M:
        response = self._send(method, path, params=params, body=body, budget=budget)
        check_response(response, what=what, method=method)
        try:
            return model.model_validate(clean_text(response.json()))
        except (ValueError, ValidationError):
            # A proxy's HTML page, a truncated body. A 2xx means Qovery did act on a POST; the body just
            # cannot say what came of it.
            raise TransientError(
                f"{method} {path}: unreadable response (HTTP {response.status_code}, "
                f"{one_line(response.headers.get('Content-Type', 'no content type'), 60)})",
                acted=True if method == "POST" else None,
            ) from None

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None,
        body: dict[str, Any] | None,
        budget: float | None = None,
        beyond_deadline: bool = False,
        stream: bool = False,
    ) -> requests.Response:
        left = self.deadline - self._clock.now()
        if budget is not None:  # its own time limit: shorter (the history) or past the deadline (a cancel)
            left = budget if beyond_deadline else min(budget, left)
        left = max(MIN_TIMEOUT, left)
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
                f"{method} {path}: no complete answer within {left:.1f}s", acted=None, still_working=True
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
            raise TransientError(f"{method} {path}: connection timed out", acted=False) from None
        except requests.Timeout:
            raise TransientError(
                f"{method} {path}: no response in time", acted=None, still_working=True
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
        if _never_connected(error):
            return f"could not connect to {host}", f"Check `api-url` ({base}) and the network.", None
        return f"the connection broke before {host} answered", "", None


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


def clean_text(data: Any) -> Any:
    """Parsed JSON with every string made encodable: a lone surrogate (`"\\ud800"` in the JSON) would
    crash any later write of it to a file or a stream."""
    if isinstance(data, str):
        return data.encode("utf-8", "replace").decode("utf-8")
    if isinstance(data, list):
        return [clean_text(item) for item in data]
    if isinstance(data, dict):
        return {clean_text(key): clean_text(value) for key, value in data.items()}
    return data


def check_response(response: requests.Response, *, what: str, method: str) -> None:
    """Raise the right error for a non-2xx answer; return quietly for 2xx."""
    code = response.status_code
    if 200 <= code < 300:
        return
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if code == 429:
        raise TransientError("rate limited by Qovery (HTTP 429)", acted=False, retry_after=retry_after)
    if code == 409:
        # "Operation is in progress": the request was refused, nothing was queued, so it is safe to retry.
        raise TransientError(
            f"Qovery says an operation is already in progress on {what} (HTTP 409)",
            acted=False,
            retry_after=retry_after,
        )
    if code >= 500:
        # A gateway's 502/504 means the request may have reached Qovery and still be in its hands; a 500 or
        # 503 is an answer: whatever was done is done.
        raise TransientError(
            f"Qovery answered HTTP {code} to {method}",
            acted=None,
            retry_after=retry_after,
            still_working=code in (502, 504),
        )
    raise RefusedError(refusal_message(code, what, response.text), code)


def refusal_message(code: int, what: str, body: str) -> str:
    detail = f" Qovery said: {one_line(body, 200)}" if body.strip() else ""
    if code == 401:
        return (
            "Qovery rejected the API token (HTTP 401). Check that `api-token` holds a valid, unexpired token "
            "and that `auth-scheme` fits it (a qov_ API token uses Token, a JWT uses Bearer)." + detail
        )
    if code == 403:
        return (
            f"The API token is not allowed to act on {what} (HTTP 403). Give the token a role with deploy "
            "rights on the job's project and environment." + detail
        )
    if code == 404:
        return (
            f"Qovery does not know {what} (HTTP 404). Check `job-id`, and that the API token belongs to "
            "the job's organization." + detail
        )
    if code == 400:
        return (
            f"Qovery rejected the request for {what} as invalid (HTTP 400). Check `image-tag`, "
            "`git-commit-id` and `force-event` against the job's source and schedule." + detail
        )
    if 300 <= code < 400:
        return f"Qovery answered with a redirect (HTTP {code}). Check `api-url`." + detail
    return f"Qovery refused the request for {what} (HTTP {code})." + detail


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


def proxy_for(url: str) -> str | None:
    """The proxy requests will use for `url` (HTTPS_PROXY, NO_PROXY), as host:port: its URL may carry a
    password, never shown."""
    proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
    if not proxy:
        return None
    parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
    try:
        port = parts.port
    except ValueError:  # a malformed port in HTTPS_PROXY: name the host, never crash over a message
        port = None
    return f"{parts.hostname}:{port}" if port else parts.hostname
