"""The simulator serves every kind of service Qovery deploys (jobs, applications, containers, helm charts,
databases, terraform services), driven here through `requests` and the in-process transport, as a client would: each kind is a
row of one table, every exchange checked against Qovery's OpenAPI spec."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from support.client import Client
from support.sims import SimFactory

from qovery_job_deploy.invocation import commands
from qovery_job_deploy.simulator import (
    API_CONTAINER,
    BROKEN_APPLICATION,
    BUILD_ERROR,
    DEMO_ENVIRONMENT,
    INGRESS_HELM,
    KINDS,
    NETWORK_TERRAFORM,
    POSTGRES_DATABASE,
    SUCCESS_JOB,
    WEB_APPLICATION,
    JobScript,
    Place,
    QoverySimulator,
    Route,
    builtin_services,
    route,
)
from qovery_job_deploy.simulator.__main__ import introduction
from qovery_job_deploy.simulator.scripts import KIND_ROWS

COMMIT = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
CURRENT_COMMIT = JobScript("x").current_commit


@dataclass(frozen=True)
class Kind:
    """One kind of service: a built-in service of it, how to deploy it, and what it shows."""

    kind: str
    service_id: str
    name: str
    body: dict[str, str] | None  # the deploy request's JSON
    query: dict[str, str]
    seen: tuple[str, ...]  # the states its status shows for our request, in order
    source: Callable[[dict[str, Any]], str]  # its current source, in GET /{kind}/{id}
    before: str  # the source before our deployment
    after: str  # and once it has succeeded
    history: bool  # whether it has past deployments


KINDS_TABLE = [
    Kind(
        "job",
        SUCCESS_JOB,
        "migrate",
        {"image_tag": "v2"},
        {"forceEvent": "START"},
        ("DEPLOYING", "EXECUTING", "DEPLOYED"),  # QUEUED hides behind the stale status
        lambda body: body["source"]["image"]["tag"],
        "v1",
        "v2",
        True,
    ),
    Kind(
        "application",
        WEB_APPLICATION,
        "web",
        {"git_commit_id": COMMIT},
        {},
        ("BUILDING", "DEPLOYING", "DEPLOYED"),
        lambda body: body["git_repository"]["deployed_commit_id"],
        CURRENT_COMMIT,
        COMMIT,
        True,
    ),
    Kind(
        "container",
        API_CONTAINER,
        "api",
        {"image_tag": "1.5.0"},
        {},
        ("BUILDING", "DEPLOYING", "DEPLOYED"),
        lambda body: body["tag"],
        "1.4.2",
        "1.5.0",
        True,
    ),
    Kind(
        "helm",
        INGRESS_HELM,
        "ingress",
        {"chart_version": "4.12.0"},
        {"forceEvent": "DIFF"},
        ("QUEUED", "DEPLOYING", "DEPLOYED"),
        lambda body: body["source"]["repository"]["chart_version"],
        "4.11.3",
        "4.12.0",
        False,
    ),
    Kind(
        "database",
        POSTGRES_DATABASE,
        "postgres",
        None,
        {"applyImmediately": "true"},
        ("QUEUED", "DEPLOYING", "DEPLOYED"),
        lambda body: body["version"],
        "16",
        "16",
        False,
    ),
    Kind(
        "terraform",
        NETWORK_TERRAFORM,
        "network",
        {"git_commit_id": COMMIT},
        {},
        ("QUEUED", "DEPLOYING", "EXECUTING", "DEPLOYED"),  # its status read in the environment's
        lambda body: body["terraform_files_source"]["git"]["git_repository"]["deployed_commit_id"],
        CURRENT_COMMIT,
        COMMIT,
        False,
    ),
]


@pytest.fixture
def client(simulator: SimFactory) -> Iterator[Client]:
    yield Client(simulator())


@pytest.mark.parametrize("case", KINDS_TABLE, ids=[case.kind for case in KINDS_TABLE])
def test_each_kind_deploys_and_shows_its_status_source_lists_and_log(client: Client, case: Kind) -> None:
    sim, path = client.sim, f"/{case.kind}/{case.service_id}"
    service = client.ok(path)
    assert (service["id"], service["name"]) == (case.service_id, case.name)
    assert service["service_type"] == case.kind.upper() and service["environment"]["id"] == DEMO_ENVIRONMENT
    assert case.source(service) == case.before

    answer = client.deploy(case.kind, case.service_id, case.body, case.query)
    assert answer.status_code == 202
    ours = answer.json()["deployment_request_id"]
    (request,) = sim.deployments_of(case.service_id)
    assert request.id == ours and request.asked == {"body": case.body, "query": case.query}
    (queued,) = client.ok(f"/service/{case.service_id}/deploymentQueue")["results"]
    assert queued["identifier"] | {"deployment_request_id": ours} == {
        "deployment_request_id": ours,
        "service_id": case.service_id,
        "service_type": case.kind.upper(),
        "name": case.name,
    }

    seen, status = client.follow(case.kind, case.service_id, ours)
    assert tuple(seen) == case.seen
    assert status["status_details"]["status"] == "SUCCESS" and status["steps"]["details"]
    assert case.source(client.ok(path)) == case.after

    # The environment's lists: this kind's services (only them), their statuses, every kind's statuses.
    of_kind = {s.job_id for s in builtin_services() if s.kind == case.kind}
    listed = client.ok(f"/environment/{DEMO_ENVIRONMENT}/{case.kind}")["results"]
    assert {one["id"] for one in listed} == of_kind and case.name in {one["name"] for one in listed}
    if KIND_ROWS[case.kind].own_status:
        statuses = client.ok(f"/environment/{DEMO_ENVIRONMENT}/{case.kind}/status")["results"]
        assert {one["id"] for one in statuses} == of_kind
    else:  # Qovery has neither status endpoint for it: not served (the spec has no such path to ask)
        assert route("GET", f"{path}/status").operation == "unknown"
        assert route("GET", f"/environment/{DEMO_ENVIRONMENT}/{case.kind}/status").operation == "unknown"
    everything = client.ok(f"/environment/{DEMO_ENVIRONMENT}/statuses")
    assert (
        everything["environment"] | {"id": DEMO_ENVIRONMENT, "state": "DEPLOYED"} == everything["environment"]
    )
    assert everything["environment"]["deployment_request_id"] == ours
    for kind in KINDS:  # terraforms too: the list Qovery has for a kind without its own status endpoint
        ids = [one["id"] for one in everything[f"{kind}s"]]
        assert ids == [s.job_id for s in builtin_services() if s.kind == kind]
    (mine,) = [one for one in everything[f"{case.kind}s"] if one["id"] == case.service_id]
    assert (mine["state"], mine["deployment_request_id"]) == ("DEPLOYED", ours)

    history = client.ok(f"{path}/deploymentHistoryV2")["results"]
    assert bool(history) == case.history
    assert all(h["identifier"]["service_type"] == case.kind.upper() for h in history)
    log = client.ok(f"/environment/{DEMO_ENVIRONMENT}/logs", version=request.execution_id)
    mine_in_log = [e for e in log if e["details"]["transmitter"]["id"] == case.service_id]
    assert {e["details"]["transmitter"]["type"] for e in mine_in_log} == {case.kind.upper()}
    assert mine_in_log[-1]["message"]["safe_message"] == f"{case.name}: DEPLOYED"
    assert sim.contract_errors == []


@pytest.mark.parametrize("case", KINDS_TABLE, ids=[case.kind for case in KINDS_TABLE])
def test_a_service_is_found_under_its_own_kind_only(client: Client, case: Kind) -> None:
    for other in KINDS:
        if other != case.kind:
            suffixes = ("", "/status", "/deploymentHistoryV2") if KIND_ROWS[other].own_status else ("",)
            for suffix in suffixes:
                assert client.get(f"/{other}/{case.service_id}{suffix}").status_code == 404
            assert client.deploy(other, case.service_id, None, {}).status_code in (400, 404)
    assert client.sim.deployments_of(case.service_id) == []
    assert client.get(f"/environment/{case.service_id}/statuses").status_code == 404


def test_an_application_whose_build_fails_ends_in_build_error_with_its_build_log(client: Client) -> None:
    answer = client.deploy("application", BROKEN_APPLICATION, {"git_commit_id": COMMIT}, {})
    assert answer.status_code == 202
    ours = answer.json()["deployment_request_id"]

    seen, status = client.follow("application", BROKEN_APPLICATION, ours)
    assert seen == ["BUILDING", "BUILD_ERROR"]
    assert status["status_details"]["status"] == "ERROR"
    assert [(s["step_name"], s["status"]) for s in status["steps"]["details"]][-1] == ("BUILD", "ERROR")
    assert "DEPLOYMENT" not in [s["step_name"] for s in status["steps"]["details"]]
    service = client.ok(f"/application/{BROKEN_APPLICATION}")
    assert service["git_repository"]["deployed_commit_id"] == CURRENT_COMMIT  # nothing new deployed
    environment = client.ok(f"/environment/{DEMO_ENVIRONMENT}/statuses")["environment"]
    assert environment["state"] == "DEPLOYMENT_ERROR"

    (request,) = client.sim.deployments_of(BROKEN_APPLICATION)
    log = client.ok(f"/environment/{DEMO_ENVIRONMENT}/logs", version=request.execution_id)
    mine = [e for e in log if e["details"]["transmitter"]["id"] == BROKEN_APPLICATION]
    assert any("npm ERR!" in e["message"]["safe_message"] for e in mine)
    assert {e["details"]["stage"]["step"] for e in mine} >= {"Build", "BuildError"}
    assert mine[-1]["error"] == BUILD_ERROR and mine[-1]["details"]["stage"]["step"] == "BuildError"
    assert client.sim.contract_errors == []


@dataclass(frozen=True)
class Wrong:
    what: str
    kind: str
    service_id: str
    body: Any
    query: dict[str, str] = field(default_factory=dict)
    breaks_spec: bool = True  # the contract check flags the request too (else only Qovery's rule)
    documented: bool = True  # whether the spec lists a 400 for this operation


WRONG = [
    Wrong("container without image_tag", "container", API_CONTAINER, {}),
    # The spec's requestBody is optional; its description says "You must provide a container image tag".
    Wrong("container without a body", "container", API_CONTAINER, None, breaks_spec=False),
    Wrong("application with a tag, not a commit", "application", WEB_APPLICATION, {"image_tag": "v2"}),
    Wrong(
        "helm with a version and a commit",
        "helm",
        INGRESS_HELM,
        {"chart_version": "1", "git_commit_id": "a"},
        breaks_spec=False,
    ),
    Wrong("helm forced to START", "helm", INGRESS_HELM, {}, {"forceEvent": "START"}),
    Wrong("job forced to DIFF", "job", SUCCESS_JOB, {}, {"forceEvent": "DIFF"}),
    # The spec's TerraformDeployRequest requires nothing; its description says "You must provide a git
    # commit id".
    Wrong("terraform without a commit", "terraform", NETWORK_TERRAFORM, {}, breaks_spec=False),
    Wrong(
        "terraform asked to APPLY", "terraform", NETWORK_TERRAFORM, {"git_commit_id": "a", "action": "APPLY"}
    ),
    # The spec lists no 400 for a database's deploy; a server answers a malformed boolean so all the same.
    Wrong(
        "database applied perhaps",
        "database",
        POSTGRES_DATABASE,
        None,
        {"applyImmediately": "perhaps"},
        documented=False,
    ),
]


@pytest.mark.parametrize("wrong", WRONG, ids=[wrong.what for wrong in WRONG])
def test_a_deploy_request_its_kind_does_not_take_is_a_400(client: Client, wrong: Wrong) -> None:
    path = f"/{wrong.kind}/{wrong.service_id}/deploy"
    client.sim.allowed_deviations = (f"POST {path}:",)

    answer = client.deploy(wrong.kind, wrong.service_id, wrong.body, wrong.query)

    assert answer.status_code == 400 and answer.text
    assert client.sim.deployments_of(wrong.service_id) == []
    flagged = [error.partition(f" POST {path}:")[0] for error in client.sim.contract_errors]
    expected = ["request"] * wrong.breaks_spec + ["response 400 to"] * (not wrong.documented)
    assert flagged == expected, client.sim.contract_errors


def test_a_helm_chart_from_git_shows_its_commit_and_takes_a_new_one(simulator: SimFactory) -> None:
    chart = JobScript("cccccccc-cccc-4ccc-8ccc-cccccccccccc", kind="helm", current_chart_version=None)
    client = Client(simulator(chart))
    assert client.ok(f"/helm/{chart.job_id}")["source"]["git"]["git_repository"]["deployed_commit_id"] == (
        chart.current_commit
    )
    answer = client.deploy("helm", chart.job_id, {"git_commit_id": COMMIT}, {})
    client.follow("helm", chart.job_id, answer.json()["deployment_request_id"])
    assert (
        client.ok(f"/helm/{chart.job_id}")["source"]["git"]["git_repository"]["deployed_commit_id"] == COMMIT
    )
    assert client.sim.contract_errors == []


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/helm/h/status", Route("status", "h", "helm")),
        ("POST", "/database/d/deploy", Route("deploy", "d", "database")),
        ("GET", "/container/c/deploymentHistoryV2", Route("history", "c", "container")),
        ("GET", "/application/a", Route("service", "a", "application")),
        ("GET", "/environment/e/job", Route("environment_services", "e", "job")),
        ("GET", "/environment/e/helm/status", Route("environment_kind_statuses", "e", "helm")),
        ("GET", "/environment/e/statuses", Route("environment_statuses", "e")),
        ("GET", "/environment/deploymentStatus", Route("request_status")),
        ("GET", "/environment/e", Route("environment", "e")),
        ("GET", "/service/s/deploymentQueue", Route("queue", "s")),
        ("GET", "/environment/e/terraform", Route("environment_services", "e", "terraform")),
        ("POST", "/terraform/t/deploy", Route("deploy", "t", "terraform")),
        ("GET", "/terraform/t", Route("service", "t", "terraform")),
        ("GET", "/terraform/t/status", Route("unknown")),  # Qovery has none: its environment's statuses
        ("GET", "/environment/e/terraform/status", Route("unknown")),
        ("POST", "/application/a/status", Route("unknown")),
    ],
)
def test_routes(method: str, path: str, expected: Route) -> None:
    assert route(method, path) == expected


def test_the_cli_introduces_every_built_in_service_with_its_kind() -> None:
    text = introduction(QoverySimulator(), commands(), logged=True)
    for service in builtin_services():
        (line,) = [line for line in text.splitlines() if line.startswith(f"  {service.job_id}")]
        assert service.kind in line and service.job_name in line and service.about in line


def test_a_kind_the_simulator_does_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="argocd"):
        JobScript("x", kind="argocd")
    assert json.loads(json.dumps(KINDS)) == [
        "job",
        "application",
        "container",
        "helm",
        "database",
        "terraform",
    ]


PREVIEW_ID = "e0e0e0e0-0000-4000-8000-0000000000b2"


@pytest.mark.parametrize(
    ("knobs", "cancel_at", "seen"),
    [
        ({}, None, ["DEPLOYED", "DELETE_QUEUED", "DELETING", "DELETING", 404]),  # deleted as always
        ({"stale_for": 1.5}, None, ["DEPLOYED", "DEPLOYED", "DEPLOYED", "DELETING", 404]),  # the race
        ({"cancelled_after": 1.5}, None, ["DEPLOYED", "DELETE_QUEUED", "DELETING", "DEPLOYED", "DEPLOYED"]),
        (
            {"cancelled_after": 1.5, "cancelled_state": "CANCELED"},
            None,
            ["DEPLOYED", "DELETE_QUEUED", "DELETING", "CANCELED", "CANCELED"],
        ),
        ({}, 0.5, ["DEPLOYED", "DELETE_QUEUED", "DEPLOYED", "DEPLOYED", "DEPLOYED"]),  # `cancel_deletion`
    ],
)
def test_a_deletion_can_be_stale_at_first_or_cancelled_midway_and_the_environment_then_stays(
    simulator: SimFactory, knobs: dict[str, Any], cancel_at: float | None, seen: list[object]
) -> None:
    """`GET /environment/{id}/status` every second from the DELETE on (the first read before it); a
    deletion cancelled leaves the environment listed, and a DELETE after it deletes it."""
    preview = Place(PREVIEW_ID, "pr-42", environment_mode="PREVIEW")
    client = Client(simulator(JobScript(SUCCESS_JOB, environment_id=PREVIEW_ID), places=[preview]))
    sim = client.sim
    for name, value in knobs.items():
        setattr(sim.environments, name, value)
    path = f"/environment/{PREVIEW_ID}"
    states: list[object] = [client.ok(f"{path}/status")["state"]]
    assert client.session.delete(sim.url + path, timeout=5).status_code == 204
    started = client.now()
    for _ in range(4):
        if (
            cancel_at is not None
            and client.now() - started >= cancel_at
            and PREVIEW_ID in sim.environments.deleting
        ):
            sim.environments.cancel_deletion(PREVIEW_ID)
        answer = client.get(f"{path}/status")
        states.append(answer.json()["state"] if answer.status_code == 200 else answer.status_code)
        client.sleep(1.0)

    assert states == seen
    if seen[-1] != 404:  # cancelled: it stays, and a DELETE now deletes it
        assert PREVIEW_ID in sim.places and client.get(path).status_code == 200
        sim.environments.cancelled_after = math.inf  # this time, no one cancels it
        assert client.session.delete(sim.url + path, timeout=5).status_code == 204
        client.sleep(sim.environments.gone_after)
        assert client.get(f"{path}/status").status_code == 404
