"""Checks every exchange with the simulator against Qovery's published OpenAPI spec (openapi-core), and every
exchange with the fake GitHub (support/github.py) against GitHub's subset (`validate_github`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from qovery_job_deploy.simulator import Exchange

SPEC_PATH = Path(__file__).parents[1] / "data" / "qovery-deploy.openapi.yaml"
# The spec's server: requests are checked as if sent to real Qovery, whatever port the simulator has.
SPEC_HOST = "https://api.qovery.com"
GITHUB_SPEC_PATH = Path(__file__).parents[1] / "data" / "github-deployments.openapi.yaml"


@dataclass(frozen=True)
class Contract:
    """A published description and its server; `unchecked`: answers it does not document, which the real API
    gives all the same (transport faults, 401, 429, 5xx; GitHub's 403 for a missing permission, documented
    for some operations only), whose requests alone are checked."""

    path: Path
    host: str
    unchecked: tuple[int, ...] = (0, 401, 429)


QOVERY = Contract(SPEC_PATH, SPEC_HOST)
GITHUB = Contract(GITHUB_SPEC_PATH, "https://api.github.com", (0, 401, 403, 429))


@cache
def spec(path: Path = SPEC_PATH) -> OpenAPI:
    return OpenAPI.from_file_path(str(path))


def validate_github(exchange: Exchange) -> list[str]:
    """`validate` against GitHub's subset; the exchange's path relative to the API's root (a GitHub
    Enterprise Server's `/api/v3` left out)."""
    return validate(exchange, GITHUB)


def validate(exchange: Exchange, contract: Contract = QOVERY) -> list[str]:
    """Spec violations of one request/response pair, as readable lines (empty when it conforms).

    A poll loop repeats the same exchange many times, and each test's services have ids of their own: an
    exchange that is the same as one that conformed, but for its UUIDs and execution ids, conforms too
    (the check sees a UUID wherever the spec wants one either way), so it is not checked again. Anything
    else is checked in full, and a violation is always reported with the exchange's own ids.
    """
    headers = {name.lower(): value for name, value in exchange.headers.items()}
    key = (
        contract.path.name,
        exchange.method,
        _ids(exchange.path),
        tuple(sorted((name, tuple(_ids(v) for v in values)) for name, values in exchange.query.items())),
        _ids_in(exchange.body),
        headers.get("content-type", ""),
        headers.get("authorization", "").partition(" ")[0],  # the scheme: the security check reads it
        exchange.status,
        tuple(sorted(exchange.response_headers.items())),
        _ids_in(exchange.response_body),
    )
    if key in _CONFORMING:
        return []
    violations = _violations(exchange, contract)
    if not violations:
        if len(_CONFORMING) > 5000:  # bounded: bodies can be large (a 4 MB deployment log)
            _CONFORMING.clear()
        _CONFORMING.add(key)
    return violations


_CONFORMING: set[tuple[object, ...]] = set()
# What differs between two runs of one scenario: UUIDs (services, requests) and execution ids.
_IDS = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|exec-[0-9a-f]{12}"
_ID = re.compile(_IDS)
_ID_BYTES = re.compile(_IDS.encode())


def _ids(text: str) -> str:
    return _ID.sub("<id>", text)


def _ids_in(body: bytes) -> bytes:
    return _ID_BYTES.sub(b"<id>", body)


def _violations(exchange: Exchange, contract: Contract) -> list[str]:
    content_type = exchange.headers.get("Content-Type", "application/json").split(";")[0]
    request = MockRequest(
        contract.host,
        exchange.method.lower(),
        exchange.path,
        args={key: values[0] for key, values in exchange.query.items()},
        headers=exchange.headers,
        data=exchange.body or None,
        content_type=content_type,
    )
    errors = []
    # Validation alone: unmarshalling into Python objects checks nothing more (the same errors over the
    # whole suite), at many times the cost on a large body (a 6 MB log: 1.3 s against 0.05 s).
    request_errors = list(spec(contract.path).request_validator.iter_errors(request))
    if request_errors:
        errors.append(f"request {exchange.method} {exchange.path}: {_describe(request_errors)}")
    if exchange.status in contract.unchecked or exchange.status >= 500:
        # Transport faults and undocumented answers (429/5xx exist on any real API but not in the
        # spec): nothing in the contract to check them against.
        return errors
    response = MockResponse(
        exchange.response_body,
        status_code=exchange.status,
        headers=exchange.response_headers,
        content_type=exchange.response_headers.get("Content-Type", "application/json"),
    )
    response_errors = list(spec(contract.path).response_validator.iter_errors(request, response))
    if response_errors and not _documented_empty(exchange, contract.path):
        errors.append(
            f"response {exchange.status} to {exchange.method} {exchange.path}: "
            f"{_describe(response_errors)} body={_short(exchange.response_body)}"
        )
    return errors


@cache
def raw_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """A spec as plain data, parsed once (by libyaml where PyYAML has it: each worker parses it)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # a safe loader either way
    loaded: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    return loaded


def _documented_empty(exchange: Exchange, path: Path = SPEC_PATH) -> bool:
    """An empty body where the spec documents `content: {}` (e.g. cancelDeployment's 202): conforming,
    though openapi-core reports it as missing data."""
    if exchange.response_body:
        return False
    for template, operations in raw_spec(path)["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), exchange.path):
            answer = (
                operations.get(exchange.method.lower(), {}).get("responses", {}).get(str(exchange.status))
            )
            return answer is not None and answer.get("content") == {}
    return False


def _describe(errors: Iterable[Exception]) -> str:
    parts = []
    for error in errors:
        causes = [error, *_causes(error)]
        parts.append(" <- ".join(f"{type(c).__name__}: {c}" for c in causes))
    return "; ".join(parts)


def _causes(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    cause = error.__cause__
    while cause is not None and len(found) < 3:
        found.append(cause)
        found.extend(getattr(cause, "schema_errors", [])[:3])
        cause = cause.__cause__
    return found


def _short(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body))[:300]
    except ValueError:
        return repr(body[:100])
