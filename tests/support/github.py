"""A fake GitHub REST API for the GitHub publishers: deployments, their statuses and a pull request's comments,
as GitHub's subset (tests/data/github-deployments.openapi.yaml) describes them, every exchange validated
against it (`contract.validate_github`).

Reached in-process like the Qovery simulator (`run_step` routes GITHUB_API_URL to it through the same
transport adapter, on the run's virtual clock), or served on 127.0.0.1 (`serve_github`) for a step run as
a process, and for act (`GITHUB_API_URL` in act's `--env`). Faults are the simulator's (`Fault`), queued
per operation; a permission refused is `refuse(operation)` (403 "Resource not accessible by integration").
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import BaseAdapter

from qovery_job_deploy.simulator import Answer, Exchange, Fault, SimulatorServer, serve
from qovery_job_deploy.simulator.routes import fault_answer, json_answer
from support.contract import validate_github

# The job's own GitHub token, as the runner fills in `${{ github.token }}` (github-token's default).
GITHUB_TOKEN = "ghs_FakeJobCredentialFromWorkflow98765"
REPOSITORY = "acme/shop"
REPOSITORY_ID = 1300192  # how GitHub's pagination links name the repository
COMMIT = "3f1a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"
HEAD = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291817"  # a pull request's head commit
STAMP = "2026-01-01T00:00:00Z"
NOT_ACCESSIBLE = "Resource not accessible by integration"

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
ROUTES = [
    ("POST", rf"{_REPO}/deployments", "create_deployment"),
    ("GET", rf"{_REPO}/deployments", "list_deployments"),
    ("POST", rf"{_REPO}/deployments/(?P<id>\d+)/statuses", "create_status"),
    ("GET", rf"{_REPO}/issues/(?P<id>\d+)/comments", "list_comments"),
    ("POST", rf"{_REPO}/issues/(?P<id>\d+)/comments", "create_comment"),
    ("PATCH", rf"{_REPO}/issues/comments/(?P<id>\d+)", "update_comment"),
]
_COMPILED = [(method, re.compile(pattern), operation) for method, pattern, operation in ROUTES]

# In-process fakes by URL (run_step routes GITHUB_API_URL to them); served ones by URL.
GITHUB_IN_PROCESS: dict[str, FakeGitHub] = {}
GITHUB_SERVED: dict[str, SimulatorServer] = {}


def operation_of(method: str, path: str) -> tuple[str, int | None]:
    for route_method, pattern, operation in _COMPILED:
        if method == route_method and (match := pattern.fullmatch(path)):
            found = match.groupdict().get("id")
            return operation, int(found) if found else None
    return "unknown", None


@dataclass
class FakeGitHub:
    """GitHub's API for one repository. `base_path`: a GitHub Enterprise Server's `/api/v3`."""

    base_path: str = ""
    token: str = GITHUB_TOKEN
    repository: str = REPOSITORY
    url: str = ""
    deployments: dict[int, dict[str, Any]] = field(default_factory=dict)  # the bodies asked, by id
    statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # by pull request
    exchanges: list[Exchange] = field(default_factory=list)
    faults: dict[str, deque[Fault | None]] = field(default_factory=dict)
    contract_errors: list[str] = field(default_factory=list)
    validator: Callable[[Exchange], list[str]] = validate_github
    _ids: Iterator[int] = field(default_factory=lambda: iter(range(1001, 10**9)))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.url = self.url or f"https://github-{uuid.uuid4().hex[:8]}.invalid{self.base_path}"

    # -- what tests set up and read -----------------------------------------------------------------

    def fail(self, operation: str, *faults: Fault | None) -> None:
        """The next calls of `operation` get these faults, one each, in order (None: one answered as usual)."""
        self.faults.setdefault(operation, deque()).extend(faults)

    def refuse(self, operation: str, times: int = 1) -> None:
        """The token lacks the permission: 403 "Resource not accessible by integration"."""
        body = json.dumps({"message": NOT_ACCESSIBLE, "documentation_url": "https://docs.github.com/rest"})
        self.fail(
            operation, *[Fault(status=403, body=body, headers={"Content-Type": "application/json"})] * times
        )

    def comment(self, number: int, body: str, login: str = "someone") -> int:
        """Someone's comment on pull request `number`; its id."""
        with self.lock:
            comment_id: int = self._add_comment(number, body, login)["id"]
            return comment_id

    def others(self, number: int, count: int) -> None:
        """`count` comments by someone else on pull request `number`, after the ones it has."""
        for index in range(count):
            self.comment(number, f"Comment {index + 1} by someone else")

    def pages_listed(self) -> list[int]:
        """The page asked by each list of comments, in order (1 where `page` was not given)."""
        return [
            int((e.query.get("page") or ["1"])[0])
            for e in self.exchanges
            if operation_of(e.method, e.path)[0] == "list_comments"
        ]

    def recorded(self, environment: str, **body: Any) -> int:
        """A deployment someone else made (GitHub itself, for a job's `environment:`); its id."""
        with self.lock:
            number = next(self._ids)
            self.deployments[number] = {"ref": COMMIT, "environment": environment, **body}
            self.statuses[number] = []
            return number

    def calls(self, operation: str | None = None) -> int:
        return sum(
            1 for e in self.exchanges if operation is None or operation_of(e.method, e.path)[0] == operation
        )

    def states(self) -> list[str]:
        """Every status set, in order, of every deployment."""
        return [status["state"] for found in self.statuses.values() for status in found]

    def unexpected_contract_errors(self) -> list[str]:
        return list(self.contract_errors)

    # -- one request --------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> Answer:
        path = path.removeprefix(self.base_path) if self.base_path else path
        exchange = Exchange(method, path, query, headers, body)
        operation, found = operation_of(method, path)
        with self.lock:
            self.exchanges.append(exchange)
            queue = self.faults.get(operation)
            fault = queue.popleft() if queue else None
            if fault is not None and fault.kind == "hang":
                answer = Answer(0, wire=fault)
            elif fault is not None:
                answer = fault_answer(fault)
            elif _header(headers, "Authorization") != f"Bearer {self.token}":
                answer = json_answer(
                    401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com"}
                )
            else:
                answer = self._answer(operation, found, path, query, json.loads(body) if body else None)
        exchange.status = answer.status
        exchange.response_headers = dict(answer.headers)
        exchange.response_body = answer.body
        if answer.status and (errors := self.validator(exchange)):
            self.contract_errors.extend(errors)
        return answer

    def _answer(
        self, operation: str, found: int | None, path: str, query: Mapping[str, list[str]], body: Any
    ) -> Answer:
        owner_repo = "/".join(path.split("/")[2:4])
        answered = None
        if operation != "unknown" and owner_repo == self.repository:
            answered = getattr(self, f"_{operation}")(found, query, body)
        return answered or json_answer(
            404, {"message": "Not Found", "documentation_url": "https://docs.github.com"}
        )

    def _create_deployment(self, found: int | None, query: object, body: Any) -> Answer:
        number = next(self._ids)
        self.deployments[number] = body
        self.statuses[number] = []
        return json_answer(201, self._deployment(number, body))

    def _list_deployments(self, found: int | None, query: Mapping[str, list[str]], body: Any) -> Answer:
        """The newest first, of one environment when `environment` is asked."""
        per_page = int((query.get("per_page") or ["30"])[0])
        wanted = next(iter(query.get("environment") or []), None)
        listed = [
            self._deployment(number, asked)
            for number, asked in sorted(self.deployments.items(), reverse=True)
            if wanted is None or asked.get("environment", "production").casefold() == wanted.casefold()
        ]
        return json_answer(200, listed[:per_page])

    def _create_status(self, found: int | None, query: object, body: Any) -> Answer | None:
        if found not in self.deployments:
            return None
        self.statuses[found].append(body)
        return json_answer(201, self._status(found, body, len(self.statuses[found])))

    def _list_comments(self, found: int | None, query: Mapping[str, list[str]], body: Any) -> Answer:
        """Oldest first, one page (`page`, `per_page`: 30 unless asked, 100 at most), with GitHub's `Link`
        header when there is more than one page: absolute URLs that name the repository by its id, as
        GitHub's do, so that a client that requested them as given would not reach this repository's route."""
        per_page = min(int((query.get("per_page") or ["30"])[0]), 100)
        page = int((query.get("page") or ["1"])[0])
        comments = self.comments.get(found or 0, [])
        answer = json_answer(200, comments[(page - 1) * per_page : page * per_page])
        pages = max(1, -(-len(comments) // per_page))
        if pages > 1:
            where = (
                f"{self.url}/repositories/{REPOSITORY_ID}/issues/{found}/comments?per_page={per_page}&page="
            )
            rels = {"prev": page - 1, "next": page + 1, "last": pages, "first": 1}
            shown = {"prev": page > 1, "next": page < pages, "last": page < pages, "first": page > 1}
            answer.headers["Link"] = ", ".join(
                f'<{where}{number}>; rel="{rel}"' for rel, number in rels.items() if shown[rel]
            )
        return answer

    def _create_comment(self, found: int | None, query: object, body: Any) -> Answer:
        return json_answer(201, self._add_comment(found or 0, body["body"], "github-actions[bot]"))

    def _update_comment(self, found: int | None, query: object, body: Any) -> Answer | None:
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == found:
                    comment["body"] = body["body"]
                    return json_answer(200, comment)
        return None

    # -- bodies ---------------------------------------------------------------------------------------

    def _api(self, rest: str) -> str:
        return f"https://api.github.com/repos/{self.repository}{rest}"

    def _deployment(self, number: int, asked: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self._api(f"/deployments/{number}"),
            "id": number,
            "node_id": f"DE_{number}",
            "sha": asked["ref"],
            "ref": asked["ref"],
            "task": "deploy",
            "payload": asked.get("payload", {}),
            "original_environment": asked.get("environment", "production"),
            "environment": asked.get("environment", "production"),
            "description": asked.get("description"),
            "creator": None,
            "created_at": STAMP,
            "updated_at": STAMP,
            "statuses_url": self._api(f"/deployments/{number}/statuses"),
            "repository_url": self._api(""),
            "transient_environment": asked.get("transient_environment", False),
            "production_environment": asked.get("production_environment", False),
        }

    def _status(self, number: int, asked: dict[str, Any], index: int) -> dict[str, Any]:
        return {
            "url": self._api(f"/deployments/{number}/statuses/{index}"),
            "id": number * 100 + index,
            "node_id": f"DES_{number}_{index}",
            "state": asked["state"],
            "creator": None,
            "description": asked.get("description", ""),
            "environment": self.deployments[number].get("environment", ""),
            "target_url": asked.get("log_url", ""),
            "log_url": asked.get("log_url", ""),
            "environment_url": asked.get("environment_url", ""),
            "created_at": STAMP,
            "updated_at": STAMP,
            "deployment_url": self._api(f"/deployments/{number}"),
            "repository_url": self._api(""),
        }

    def _add_comment(self, number: int, body: str, login: str) -> dict[str, Any]:
        comment_id = next(self._ids)
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": self._api(f"/issues/comments/{comment_id}"),
            "html_url": f"https://github.com/{self.repository}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": self._api(f"/issues/{number}"),
            "body": body,
            "user": _user(login),
            "created_at": STAMP,
            "updated_at": STAMP,
            "author_association": "NONE",
        }
        self.comments.setdefault(number, []).append(comment)
        return comment


def _user(login: str) -> dict[str, Any]:
    base = f"https://api.github.com/users/{login.replace('[bot]', '')}"
    return {
        "login": login,
        "id": 41898282,
        "node_id": "MDM6Qm90NDE4OTgyODI=",
        "avatar_url": "https://avatars.githubusercontent.com/in/15368",
        "gravatar_id": "",
        "url": base,
        "html_url": "https://github.com/apps/github-actions",
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
        "type": "Bot",
        "site_admin": False,
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), "")


# -- reaching it ------------------------------------------------------------------------------------------


def in_process_github(**options: Any) -> FakeGitHub:
    fake = FakeGitHub(**options)
    GITHUB_IN_PROCESS[fake.url] = fake
    return fake


def served_github(**options: Any) -> FakeGitHub:
    """On 127.0.0.1 (its URL `http://127.0.0.1:PORT` + `base_path`), for a step run as a process."""
    fake = FakeGitHub(**options)
    server = serve(fake)  # sets fake.url to the server's
    fake.url = server.url + fake.base_path
    GITHUB_SERVED[fake.url] = server
    return fake


def finish_github(fake: FakeGitHub) -> None:
    server = GITHUB_SERVED.pop(fake.url, None)
    if server is not None:
        server.stop()
    GITHUB_IN_PROCESS.pop(fake.url, None)
    errors = fake.unexpected_contract_errors()
    assert not errors, "fake GitHub exchanges broke GitHub's OpenAPI contract:\n" + "\n".join(errors)


class Routed(BaseAdapter):
    """A transport that sends each request to the adapter of the base URL it starts with."""

    def __init__(self, routes: Mapping[str, BaseAdapter]) -> None:
        super().__init__()
        self._routes = dict(routes)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        for base, adapter in self._routes.items():
            if url.startswith(base):
                return adapter.send(request, *args, **kwargs)
        raise requests.ConnectionError(f"no route to {url}", request=request)

    def close(self) -> None:
        return


# -- what the runner gives a step -------------------------------------------------------------------------


def github_context(
    fake: FakeGitHub, tmp: Path, *, event: str = "push", number: int = 7, sha: str = COMMIT
) -> dict[str, str]:
    """The GITHUB_* variables of a job in `fake`'s repository: a push, or a pull request's event (its
    payload, with the pull request's number and head commit, at GITHUB_EVENT_PATH)."""
    payload: dict[str, Any] = {"after": sha}
    if event in ("pull_request", "pull_request_target"):
        payload = {"number": number, "pull_request": {"number": number, "head": {"sha": HEAD}}}
    path = tmp / f"event-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return {
        "GITHUB_API_URL": fake.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": fake.repository,
        "GITHUB_SHA": sha,
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_RUN_ID": "123456",
    }
