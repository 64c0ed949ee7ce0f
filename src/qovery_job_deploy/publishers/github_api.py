"""GitHub's REST API, as the GitHub publishers (`github_deployment`, `pr_comment`) use it: where this run is
(`GitHubRun`: the API's URL, GitHub Enterprise Server's too, the repository, the commit, the event and its
pull request), and a client (`GitHubApi`) whose every call fits a small time budget.

Nothing GitHub says changes the verdict or the exit code: a failed call is a `GitHubProblem`, which the
publisher says once, as a warning. 5xx answers and timeouts are tried again within the budget, a call that
creates something only when GitHub surely did not act (no connection, a 500 or 503, a rate limit): a second
deployment record or comment would be worse than none. The token goes in the Authorization header alone:
no message, URL or exception text carries it.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests

from qovery_job_deploy import __version__
from qovery_job_deploy.api.network import is_loopback
from qovery_job_deploy.api.retry import parse_retry_after
from qovery_job_deploy.api.transport import CallTooLong, session_for
from qovery_job_deploy.clock import Clock
from qovery_job_deploy.publishers import Target
from qovery_job_deploy.text import one_line

DEFAULT_API_URL = "https://api.github.com"
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
# One call's longest wait for an answer, and the pauses before trying a failed call again.
CALL_SECONDS = 3.0
PAUSES = (0.5, 1.0)
# A permission GitHub refused, named in the one warning that says so.
NOT_ACCESSIBLE = "Resource not accessible by integration"
# What one call gets: GitHub's JSON, and its `Link` header's links by `rel` (as `requests` parses them).
_Answered = tuple[Any, Mapping[str, Mapping[str, str]]]


class GitHubProblem(Exception):
    """A GitHub call that did not go through, in words fit for one warning (never the token). `status`:
    GitHub's HTTP status, 0 when it never answered."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class GitHubRun:
    """What GitHub's runner says of this run (GITHUB_*): the API, the repository, the commit to record (a
    pull request's head, else GITHUB_SHA), the event, and the pull request's number on a pull request."""

    api_url: str
    repository: str
    sha: str
    event_name: str
    pull_request: int | None = None
    run_url: str | None = None  # this workflow run's page, for links

    def repo_path(self, rest: str) -> str:
        """`/repos/{owner}/{repo}{rest}`, each part of the repository percent-encoded."""
        owner, _, name = self.repository.partition("/")
        return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}{rest}"


def github_run(environ: Mapping[str, str]) -> GitHubRun | str:
    """This run as GitHub describes it, or what is missing or wrong (one sentence)."""
    repository = environ.get("GITHUB_REPOSITORY", "").strip()
    if repository.count("/") != 1 or not all(repository.split("/")):
        return "GITHUB_REPOSITORY (owner/repo) is not set: this does not run in a GitHub Actions job"
    api_url = (environ.get("GITHUB_API_URL") or DEFAULT_API_URL).strip().rstrip("/")
    if not _acceptable(api_url):
        return (
            f"GITHUB_API_URL ({one_line(api_url, 100)}) must be an https:// URL (http:// only to this "
            "machine, 127.0.0.1 or localhost)"
        )
    event_name = environ.get("GITHUB_EVENT_NAME", "").strip()
    event = _event(environ.get("GITHUB_EVENT_PATH", ""))
    pull = event.get("pull_request") if event_name in PULL_REQUEST_EVENTS else None
    number = pull.get("number") if isinstance(pull, dict) else None
    head = pull.get("head") if isinstance(pull, dict) else None
    head_sha = head.get("sha") if isinstance(head, dict) else None
    # On a pull request GITHUB_SHA is a merge commit GitHub made (or the base's, for pull_request_target):
    # what the pull request deploys is its head.
    sha = head_sha if isinstance(head_sha, str) and head_sha else environ.get("GITHUB_SHA", "").strip()
    if not sha:
        return "GITHUB_SHA is not set: which commit was deployed is unknown"
    server = environ.get("GITHUB_SERVER_URL", "").strip().rstrip("/")
    run_id = environ.get("GITHUB_RUN_ID", "").strip()
    run_url = f"{server}/{repository}/actions/runs/{quote(run_id, safe='')}" if server and run_id else None
    return GitHubRun(
        api_url,
        repository,
        sha,
        event_name,
        number if isinstance(number, int) and not isinstance(number, bool) and number > 0 else None,
        run_url if run_url and urlsplit(run_url).scheme == "https" else None,
    )


def _event(path: str) -> dict[str, Any]:
    """The event's payload (GITHUB_EVENT_PATH); empty when there is none or it cannot be read."""
    if not path.strip():
        return {}
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _acceptable(url: str) -> bool:
    parts = urlsplit(url)
    if not parts.hostname or parts.username or parts.password or parts.query or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and is_loopback(parts.hostname)


class Budget:
    """The seconds a group of calls may take together, from now on."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self._until = clock.now() + seconds

    def left(self) -> float:
        return self._until - self._clock.now()

    def extend(self, seconds: float) -> None:
        """`seconds` more, for one more call of a group that grows as it goes (a list's next page)."""
        self._until += seconds


@dataclass(frozen=True)
class Page:
    """One page of a list GitHub paginates: its items (GitHub's JSON); `more`: the answer's `Link` header
    names a next page; `next`, `last`: the numbers of the next and the last pages (None: none, or none this
    client can follow: a link without a `page=` past this one's)."""

    items: Any
    more: bool = False
    next: int | None = None
    last: int | None = None


class GitHubApi:
    """One session to GitHub's API for one publisher. `transport`, when given, replaces the network (the
    tests' fake GitHub, on their virtual clock)."""

    def __init__(
        self,
        run: GitHubRun,
        token: str,
        *,
        clock: Clock,
        environ: Mapping[str, str],
        transport: requests.adapters.BaseAdapter | None = None,
    ) -> None:
        self.run = run
        self._clock = clock
        # The proxy and CA bundle of the step's environment, and the wall-clock limit, as for Qovery.
        self._session, self._limit = session_for(run.api_url, environ, transport)
        self._session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"qovery-job-deploy/{__version__}",
            }
        )

    def close(self) -> None:
        self._session.close()

    def call(
        self,
        method: str,
        path: str,
        budget: Budget,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        creates: bool = False,
    ) -> Any:
        """The JSON GitHub answers to `method path`, tried again while `budget` lasts when it failed in a way
        that may heal; `creates`: tried again only when GitHub surely did not act. Raises GitHubProblem."""
        return self._tried(lambda: self._once(method, path, budget, body, params), budget, creates)[0]

    def page(self, path: str, budget: Budget, *, params: dict[str, str], number: int) -> Page:
        """Page `number` of the list at `path` (`GET`, with `page=` past the first), and which pages its
        `Link` header says come next and last. Only their page numbers are read, never their URLs: GitHub's
        name the repository by its id (`/repositories/ID/...`), and the token goes to the paths built here
        alone. A next page that is not past this one cannot be followed (no loop). Raises GitHubProblem."""
        asked = params | {"page": str(number)} if number > 1 else params
        items, links = self._tried(lambda: self._once("GET", path, budget, None, asked), budget, False)
        following = page_number(links, "next")
        following = following if following is not None and following > number else None
        return Page(items, "next" in links, following, page_number(links, "last"))

    def _tried(self, once: Callable[[], _Answered], budget: Budget, creates: bool) -> _Answered:
        """`once`, tried again as `call` says."""
        for attempt in range(len(PAUSES) + 1):
            try:
                return once()
            except _Retryable as failure:
                pause = failure.retry_after if failure.retry_after is not None else PAUSES[min(attempt, 1)]
                last = attempt == len(PAUSES) or (creates and failure.may_have_acted)
                if last or budget.left() <= pause + 0.1:
                    raise GitHubProblem(failure.message, failure.status) from None
                self._clock.sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _once(
        self,
        method: str,
        path: str,
        budget: Budget,
        body: dict[str, Any] | None,
        params: dict[str, str] | None,
    ) -> _Answered:
        """One request, tried once: GitHub's JSON and links (`_Answered`)."""
        left = min(CALL_SECONDS, budget.left())
        if left <= 0:
            raise GitHubProblem(f"{method} {path}: no time was left for it")
        try:
            with self._limit(left):
                response = self._session.request(
                    method,
                    self.run.api_url + path,
                    json=body,
                    params=params,
                    timeout=(left, left),
                    allow_redirects=False,
                )
                text = response.text
        except CallTooLong:
            raise _Retryable(f"{method} {path}: no answer within {left:.1f}s", may_have_acted=True) from None
        except requests.ConnectTimeout:
            raise _Retryable(f"{method} {path}: could not connect within {left:.1f}s") from None
        except requests.Timeout:
            raise _Retryable(f"{method} {path}: no answer within {left:.1f}s", may_have_acted=True) from None
        except requests.ConnectionError:
            raise _Retryable(
                f"{method} {path}: could not reach {urlsplit(self.run.api_url).netloc}"
            ) from None
        except requests.RequestException as error:
            raise GitHubProblem(f"{method} {path}: {type(error).__name__}") from None
        return _answer(method, path, response, text), response.links


class _Retryable(Exception):
    """A failure that may heal; `may_have_acted`: GitHub may have done it (not to be sent again when it
    creates something)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        may_have_acted: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.may_have_acted = may_have_acted
        self.retry_after = retry_after


def _answer(method: str, path: str, response: requests.Response, text: str) -> Any:
    code = response.status_code
    said = _message(text)
    if 200 <= code < 300:
        try:
            return json.loads(text) if text.strip() else None
        except ValueError:
            raise GitHubProblem(f"{method} {path}: GitHub's answer is not JSON (HTTP {code})", code) from None
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    limited = code == 429 or (code == 403 and response.headers.get("X-RateLimit-Remaining") == "0")
    if limited or (code == 403 and retry_after is not None):
        raise _Retryable(f"GitHub's rate limit (HTTP {code}){said}", status=code, retry_after=retry_after)
    if code >= 500:
        acted = code not in (500, 503)  # a gateway's 502 or 504: GitHub may still be doing it
        raise _Retryable(
            f"GitHub answered HTTP {code} to {method} {path}{said}", status=code, may_have_acted=acted
        )
    raise GitHubProblem(f"GitHub refused {method} {path} (HTTP {code}){said}", code)


def page_number(links: Mapping[str, Mapping[str, str]], rel: str) -> int | None:
    """The `page=` of the link `rel` (`next`, `last`) of a `Link` header as `requests` parses it; None when
    there is no such link or its page is not a positive number (of 9 digits at most)."""
    url = links.get(rel, {}).get("url", "")
    found = parse_qs(urlsplit(url).query).get("page", [""])[-1]
    if not (found.isascii() and found.isdigit() and len(found) <= 9):
        return None
    return int(found) or None


def _message(text: str) -> str:
    """GitHub's own words on a failure (its JSON `message`), bounded, on one line."""
    try:
        data = json.loads(text)
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return f": {one_line(message, 200)}" if isinstance(message, str) and message.strip() else ""


def permission_missing(problem: GitHubProblem) -> bool:
    """GitHub's answer when the token lacks a permission (a workflow's `permissions:`, or a fork's read-only
    token): 403 "Resource not accessible by integration"."""
    return problem.status == 403 and NOT_ACCESSIBLE.lower() in str(problem).lower()


@contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done (a call of a few seconds at most): a record GitHub
    created is known before the run stops, so that it can be ended."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):  # no pthread_sigmask here: nothing held
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def api_for(target: Target, run: GitHubRun, what: str) -> GitHubApi | None:
    """A client for one publisher, or None (said in one warning) without a token to send."""
    token = target.github.token
    if token is None:
        target.warning(
            f"{what}: no GitHub token (give `github-token`, or set GITHUB_TOKEN); nothing was sent to GitHub"
        )
        return None
    return GitHubApi(
        run, token.get_secret_value(), clock=target.clock, environ=target.environ, transport=target.transport
    )


@contextmanager
def guarded(target: Target, api: GitHubApi, what: str, permission: str) -> Iterator[None]:
    """A group of calls to GitHub whose failure is one warning, never the run's cost; the session closed
    after it."""
    try:
        yield
    except GitHubProblem as problem:
        say(target, what, problem, permission)
    except Exception as error:  # never the deployment's (or the deletion's) cost
        target.warning(f"{what}: unexpected {type(error).__name__}: {one_line(error)}")
    finally:
        api.close()


def say(target: Target, what: str, problem: GitHubProblem, permission: str) -> None:
    """One warning for a call that did not go through, naming the permission GitHub wants when it is one."""
    if permission_missing(problem):
        target.warning(
            f"{what}: {problem}. Give the job `permissions: {permission}` (a pull request from a fork gets a "
            "read-only token whatever the workflow says); the deployment and its verdict stand"
        )
    else:
        target.warning(f"{what}: {problem}; the deployment and its verdict stand")
