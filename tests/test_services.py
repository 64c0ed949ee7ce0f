"""Every kind of service through the whole step, in the fault-matrix style: success, failure with its log,
superseded, timeout, cancelled; then a mixed release, at once and in sequence, and the input errors of a
release. In-process, on a virtual clock, every exchange checked against the OpenAPI spec."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.inputs import CHART, COMMIT, ENV, TAG, inputs, release, release_inputs, service
from support.sims import FAST, SimFactory, answered
from support.step import StepRun, github_env, gitlab_env, plain_env, run_step

from qovery_job_deploy.simulator import Fault, JobScript, QoverySimulator

KINDS = ["job", "application", "container", "helm", "database", "terraform"]
PROBED = {"application", "container", "helm", "database"}  # DEPLOYING while their readiness probe fails
# What each kind is asked to deploy when a release gives all three values.
ASKED = {
    "job": {"image_tag": TAG},  # a job from an image (the simulator's default source)
    "application": {"git_commit_id": COMMIT},
    "container": {"image_tag": TAG},
    "helm": {"chart_version": CHART},  # a chart from a repository
    "database": None,  # no body: it deploys its configuration
    "terraform": {"git_commit_id": COMMIT},
}
FAILED_STATE = {"application": "BUILD_ERROR", "container": "BUILD_ERROR"}


@dataclass
class Row:
    case: str
    end: str = "DEPLOYED"
    length: float = 1.0
    script: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    code: int = 0
    verdict: str = "succeeded"
    log: str = ""
    check: Callable[[QoverySimulator, JobScript, StepRun], None] | None = None


def was_cancelled(sim: QoverySimulator, script: JobScript, run: StepRun) -> None:
    (ours,) = sim.deployments_of(script.job_id)
    assert ours.canceled_at is not None and sim.calls("cancel") == 1


def asked_status_of_our_request(sim: QoverySimulator, script: JobScript, run: StepRun) -> None:
    assert sim.calls("request_status") >= 1


def shows_its_log(sim: QoverySimulator, script: JobScript, run: StepRun) -> None:
    assert "it printed this before failing" in run.stdout + run.stderr  # GitHub: a group on stdout
    assert f"Qovery deployment log of {script.job_name}" in run.stdout + run.stderr


ROWS = [
    Row("success"),
    Row("failure with its log", end="FAILED", script={"log_lines": ["it printed this before failing"]},
        code=1, verdict="failed", log="Hint:", check=shows_its_log),
    Row("superseded by a newer request", script={"taken_over": True}, check=asked_status_of_our_request),
    Row("cancelled in Qovery (CANCELED)", end="CANCELED", code=1, verdict="failed", log="CANCELED"),
    Row("timeout", length=600.0, env={"timeout": "5s"}, code=124, verdict="timed_out",
        log="keeps running in Qovery"),
    Row("cancelled at the timeout", length=600.0, env={"timeout": "5s", "cancel-on-timeout": "true"},
        code=124, verdict="timed_out", log="our deployment request was cancelled", check=was_cancelled),
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("row", ROWS, ids=[row.case for row in ROWS])
def test_each_kind(simulator: SimFactory, tmp_path: Path, kind: str, row: Row) -> None:
    end = FAILED_STATE.get(kind, "DEPLOYMENT_ERROR") if row.end == "FAILED" else row.end
    script = service(kind, f"my-{kind}", end, row.length, **row.script)
    sim = simulator(script)
    env, files = github_env(tmp_path, release_inputs(sim, f"my-{kind}") | row.env)
    run = run_step(env, files)

    assert run.code == row.code, run.stderr
    (result,) = json.loads(run.outputs()["services"])
    assert result["type"] == kind and result["id"] == script.job_id and result["name"] == f"my-{kind}"
    assert result["verdict"] == row.verdict
    (ours,) = sim.deployments_of(script.job_id)
    assert ours.asked["body"] == ASKED[kind]  # each kind took its own value
    assert result["deployment_request_id"] == ours.id
    assert row.log in run.shown()  # on GitHub, a failure's last word is its error annotation
    if row.verdict == "failed":
        assert result["state"] == end
    if row.case == "timeout" and kind in PROBED:
        assert "readiness probe" in result["message"]  # stuck in DEPLOYING: what may be wrong
    elif row.case == "timeout":  # a job or terraform runs to its end: no probe to suspect
        assert "readiness probe" not in result["message"]
    if row.check is not None:
        row.check(sim, script, run)


def test_a_database_deploys_immediately_when_asked(simulator: SimFactory) -> None:
    script = service("database", "postgres")
    sim = simulator(script)
    run = run_step(plain_env(release_inputs(sim, "postgres", **{"apply-immediately": "true"})))

    assert run.code == 0, run.stderr
    assert sim.deployments_of(script.job_id)[0].asked["query"] == {"applyImmediately": "true"}
    assert "(apply-immediately)" in run.stderr


# -- a release: a job, a container and an application -------------------------------------------------


def test_a_release_at_once_reads_every_service_with_one_read_per_interval(
    simulator: SimFactory, tmp_path: Path
) -> None:
    sim, (_, _, web) = release(simulator)
    env, files = github_env(tmp_path, release_inputs(sim, "migrate, api, web"))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    services = json.loads(run.outputs()["services"])
    assert [(s["type"], s["name"], s["verdict"]) for s in services] == [
        ("job", "migrate", "succeeded"),
        ("container", "api", "succeeded"),
        ("application", "web", "succeeded"),
    ]
    assert [s["name"] for s in json.loads(run.outputs()["jobs"])] == ["migrate"]
    # One read of the environment per interval covers all three, whatever their kinds; once the others
    # have ended, web alone is read by itself (one request either way).
    assert sim.calls("environment_statuses") >= 2 and sim.calls("environment_kind_statuses") == 0
    alone = {e.path for e in sim.exchanges if e.method == "GET" and e.path.endswith("/status")}
    assert alone <= {f"/application/{web.job_id}/status"}
    summary = run.summary()
    assert "| Service | Type | Verdict |" in summary and "| api (shop / production) | container |" in summary
    assert "3 Qovery services deployed" in summary


def test_a_release_in_sequence_stops_at_the_first_failure(simulator: SimFactory, tmp_path: Path) -> None:
    sim, scripts = release(simulator, web_end="BUILD_ERROR")
    order = ["web", "migrate", "api"]  # the given order, whatever the kinds
    env, files = github_env(tmp_path, release_inputs(sim, ", ".join(order), sequential="true"))
    run = run_step(env, files)

    assert run.code == 1, run.stderr
    services = json.loads(run.outputs()["services"])
    assert [(s["name"], s["verdict"]) for s in services] == [
        ("web", "failed"),
        ("migrate", "skipped"),
        ("api", "skipped"),
    ]
    assert len(sim.deployments_of(scripts[2].job_id)) == 1
    assert not sim.deployments_of(scripts[0].job_id) and not sim.deployments_of(scripts[1].job_id)
    assert "npm ERR! build failed" in run.stdout  # the application's build log, in its GitHub group


@pytest.mark.parametrize(
    ("services", "extra", "said"),
    [
        ("api", {"image-tag": "", "chart-version": ""},
         "api is a container, which deploys an image tag: give `image-tag`"),
        ("migrate, api, web", {"force-event": "DIFF"}, "Invalid input `force-event` (`DIFF` from the environment variable QOVERY_FORCE_EVENT): migrate is a job, and a job takes START, STOP, DELETE or CRON"),
        ("shared", {}, "matches 2"),
        ("nope", {}, "no service is named 'nope'"),
        ("lambda:api", {}, "lambda"),
    ],
)  # fmt: skip
def test_a_release_that_cannot_start_whole_posts_nothing(
    simulator: SimFactory, services: str, extra: dict[str, str], said: str
) -> None:
    scripts = [
        service("job", "migrate"),
        service("container", "api"),
        service("application", "web"),
        service("container", "shared"),
        service("application", "shared"),
    ]
    sim = simulator(*scripts)
    run = run_step(plain_env(release_inputs(sim, services) | extra))

    assert run.code == 2, run.stderr
    assert said in run.stderr
    assert sim.calls("deploy") == 0


def test_a_type_prefix_picks_one_of_two_services_with_one_name(simulator: SimFactory) -> None:
    box = service("container", "shared")
    app = service("application", "shared")
    sim = simulator(box, app)
    run = run_step(plain_env(release_inputs(sim, "application:shared")))

    assert run.code == 0, run.stderr
    assert len(sim.deployments_of(app.job_id)) == 1 and not sim.deployments_of(box.job_id)
    assert sim.calls("environment_services") == 1  # the application list only


def test_a_service_by_uuid_alone_is_found_by_its_kind(simulator: SimFactory) -> None:
    box = service("container", "api")
    sim = simulator(box)
    run = run_step(plain_env(release_inputs(sim, box.job_id, environment="")))

    assert run.code == 0, run.stderr
    assert run.json()["services"][0]["type"] == "container"
    assert sim.calls("environment_services") == 0


STAGING = "e0e0e0e0-0000-4000-8000-00000000057a"


def test_a_typed_uuid_of_another_environment_is_labelled_with_its_own(simulator: SimFactory) -> None:
    """`container:UUID` is taken as given, though the given environment does not list it; its own read
    places it in staging, and its labels and console link say staging, never the given environment."""
    api = service("container", "api")
    worker = service("container", "worker", environment_id=STAGING, environment_name="staging")
    sim = simulator(api, worker)
    run = run_step(plain_env(release_inputs(sim, f"api, container:{worker.job_id}")))

    assert run.code == 0, run.stderr
    by_name = {entry["name"]: entry for entry in run.json()["services"]}
    assert f"/environment/{STAGING}/" in by_name["worker"]["console_url"]
    assert f"/environment/{ENV}/" in by_name["api"]["console_url"]
    assert f"is in environment {STAGING}, not in the one given ({ENV})" in run.stderr
    assert "worker (shop / staging)" in run.stderr and "worker (shop / production)" not in run.stderr


# -- a dry run: everything a real run checks, nothing posted --------------------------------------------


def test_a_dry_run_checks_everything_and_posts_nothing(simulator: SimFactory, tmp_path: Path) -> None:
    sim, _ = release(simulator)
    env, files = github_env(tmp_path, release_inputs(sim, "migrate, api, web", **{"dry-run": "true"}))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    assert sim.calls("deploy") == 0 and sim.calls("cancel") == 0
    outputs = run.outputs()
    assert outputs["verdict"] == "planned" and json.loads(outputs["result"])["dry_run"] is True
    assert [s["verdict"] for s in json.loads(outputs["services"])] == ["planned"] * 3
    assert (
        f"api (shop / production): planned: Dry run: the container is DEPLOYED; would request a deployment of image tag {TAG}."
        in run.stderr
    )
    assert (
        f"web (shop / production): planned: Dry run: the application is DEPLOYED; would request a deployment of commit {COMMIT}."
        in run.stderr
    )
    assert "Dry run: 3 Qovery services would be deployed, nothing was posted" in run.summary()
    assert f"Would deploy: image tag `{TAG}`, commit `{COMMIT}`" in run.summary()
    assert "Deployed" not in run.summary()  # nothing was
    assert "::error" not in run.stdout
    # The names were resolved and each service's status read: what proves the token can see them.
    assert sim.calls("environment_services") >= 1 and sim.calls("environment_statuses") == 1


@pytest.mark.parametrize(
    ("extra", "fault", "code", "said"),
    [
        ({"git-commit-id": "", "chart-version": ""}, None, 2, "web is an application, which deploys a git commit"),
        ({}, 403, 3, "HTTP 403"),
    ],
)  # fmt: skip
def test_a_dry_run_fails_where_a_real_run_would(
    simulator: SimFactory, extra: dict[str, str], fault: int | None, code: int, said: str
) -> None:
    sim, _ = release(simulator)
    if fault is not None:
        sim.faults["environment_statuses"] = deque([Fault(status=fault)])
        sim.faults["environment_kind_statuses"] = deque([Fault(status=fault)] * 3)
        for script in sim.services.values():
            script.faults["status"] = deque([Fault(status=fault)])
    run = run_step(plain_env(release_inputs(sim, "migrate, api, web", **{"dry-run": "true"}) | extra))

    assert run.code == code, run.stderr
    assert said in run.stderr
    assert sim.calls("deploy") == 0


def test_a_release_that_cannot_reach_the_api_names_no_kind_it_does_not_know() -> None:
    """Nothing resolved: the services are not called jobs, and their type is unknown (null)."""
    env = plain_env(inputs(api_url="http://127.0.0.1:9", services="migrate, api"))
    run = run_step(env | {"QOVERY_ENVIRONMENT": ENV})

    assert run.code == 3, run.stderr
    assert (
        "2 Qovery services: migrate, api: nothing was deployed" in run.stderr
        and "jobs" not in run.json()["message"]
    )
    assert [s["type"] for s in run.json()["services"]] == [None, None]


def test_the_verdict_line_of_a_release_says_it_all(simulator: SimFactory) -> None:
    sim, _ = release(simulator)
    run = run_step(plain_env(release_inputs(sim, "migrate, api, web", **{"dry-run": "true"})))

    assert run.code == 0, run.stderr
    assert (
        "Dry run: checking 3 Qovery services: migrate, api, web" in run.stderr
        and "Deploying" not in run.stderr
    )
    # The log and the result agree: each service's line as it is checked, then the tally, said once.
    # A release that went as asked is described as a whole: the tally alone.
    assert run.json()["message"] == "3 services: 3 planned."
    tally = "3 services: 3 planned"
    assert f"] planned: {tally}\n" in run.stderr
    for each in run.json()["services"]:
        assert run.stderr.count(each["message"]) == 1


@pytest.mark.parametrize(
    ("services", "reported"),
    [
        ("web", {"image_tag": None, "git_commit_id": COMMIT}),  # an application takes the commit only
        ("api", {"image_tag": TAG, "git_commit_id": None}),  # a container the image tag only
        ("api, web", {"image_tag": TAG, "git_commit_id": COMMIT}),
    ],
)
def test_the_result_reports_only_the_values_a_service_took(
    simulator: SimFactory, services: str, reported: dict[str, str | None]
) -> None:
    sim, _ = release(simulator)
    run = run_step(plain_env(release_inputs(sim, services)))

    assert run.code == 0, run.stderr
    result = run.json()
    assert {key: result[key] for key in reported} == reported
    sent = [d.asked["body"] for s in sim.services for d in sim.deployments_of(s)]
    for key, value in reported.items():  # the result agrees with what was sent
        carried = {body[key] for body in sent if body and key in body}
        assert carried == ({value} if value is not None else set())


@pytest.mark.parametrize(
    ("script", "given", "said"),
    [
        # A helm chart from a chart repository, given only an image tag: its source is read, and the
        # advice is the value it takes (it was "from git ... give `git-commit-id`").
        (
            service("helm", "ingress"),
            {"image-tag": TAG},
            "ingress is a helm chart from a chart repository, which deploys a chart version: give `chart-version`",
        ),
        (
            service("helm", "ingress", current_chart_version=None),
            {"image-tag": TAG},
            "ingress is a helm chart from git, which deploys a git commit: give `git-commit-id`",
        ),
        # A job from an image given only a commit (it was posted, and taken): its source says no.
        (
            service("job", "migrate"),
            {"git-commit-id": COMMIT},
            "migrate is a job from an image, which deploys an image tag: give `image-tag`",
        ),
        (
            service("job", "migrate", job_origin="git"),
            {"image-tag": TAG},
            "migrate is a job from git, which deploys a git commit: give `git-commit-id`",
        ),
        # Only a chart version, which no job takes: its source is read all the same (it was not, and the
        # job was deployed as it was).
        (
            service("job", "migrate"),
            {"chart-version": CHART},
            "migrate is a job from an image, which deploys an image tag: give `image-tag`",
        ),
    ],
    ids=[
        "helm chart, image tag",
        "helm from git, image tag",
        "job from an image, commit",
        "job from git, tag",
        "job, chart version",
    ],
)
def test_a_value_its_source_does_not_take_is_refused_with_the_one_it_does(
    simulator: SimFactory, script: JobScript, given: dict[str, str], said: str
) -> None:
    sim = simulator(script)
    values = inputs(api_url=sim.url, services=script.job_name, environment=ENV)
    run = run_step(plain_env(values | given))

    assert run.code == 2, run.stderr
    (error,) = [line for line in run.stderr.splitlines() if "error:" in line]
    assert said in error
    assert sim.calls("deploy") == 0


def test_a_chart_version_deployed_is_reported_as_such(simulator: SimFactory, tmp_path: Path) -> None:
    sim = simulator(service("helm", "ingress"))
    values = inputs(api_url=sim.url, services="ingress", environment=ENV)
    env, files = github_env(tmp_path, values | {"chart-version": CHART, "poll-interval": FAST})
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    assert f"| Deployed | chart version `{CHART}` |" in run.summary()
    assert json.loads(run.outputs()["result"])["chart_version"] == CHART


def test_a_dry_run_of_one_service_names_it_and_says_what_it_would_deploy(
    simulator: SimFactory, tmp_path: Path
) -> None:
    sim, _ = release(simulator)
    env, files = github_env(tmp_path, release_inputs(sim, "web", **{"dry-run": "true"}))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    summary = run.summary().splitlines()
    assert summary[0] == (
        "### 🔎 Dry run: Qovery application web (shop / production) would be deployed, nothing was posted"
    )
    assert f"| Would deploy | commit `{COMMIT}` |" in summary
    assert not any("Deployed" in line for line in summary)


def test_a_dry_run_reports_no_state_only_the_current_one(simulator: SimFactory, tmp_path: Path) -> None:
    """Nothing was deployed: `state` (what a deployment reached) stays empty everywhere, so that a check on
    it cannot pass; what each service runs now is `current_state`."""
    sim, _ = release(simulator)
    env, files = gitlab_env(tmp_path, release_inputs(sim, "migrate, api", **{"dry-run": "true"}))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    dotenv, result = run.dotenv(), run.result_file()
    assert dotenv["QOVERY_VERDICT"] == "planned" and dotenv["QOVERY_STATE"] == ""
    assert result["state"] is None and result["current_state"] == "DEPLOYED"
    assert [(s["state"], s["current_state"]) for s in result["services"]] == [(None, "DEPLOYED")] * 2


def test_a_release_that_succeeded_is_described_as_a_release(simulator: SimFactory, tmp_path: Path) -> None:
    sim, _ = release(simulator)
    env, files = github_env(tmp_path, release_inputs(sim, "migrate, api, web"))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    result = json.loads(run.outputs()["result"])
    assert result["message"] == "3 services: 3 succeeded."  # not the first service's message
    assert "3 services: 3 succeeded." in run.summary() and "The job reached" not in run.summary()
    assert run.stderr.rstrip().endswith("succeeded: 3 services: 3 succeeded")
    entries = result["services"]
    assert [(s["type"], s["name"]) for s in entries] == [
        ("job", "migrate"),
        ("container", "api"),
        ("application", "web"),
    ]
    assert all("job_id" not in s and s["id"] for s in entries)  # a container is no job
    assert [s["job_id"] for s in result["jobs"]] == [entries[0]["id"]]  # `jobs` keeps its keys


# -- terraform services: no status endpoint of their own ---------------------------------------------------
# Qovery has no GET /terraform/{id}/status (nor GET /environment/{id}/terraform/status): a terraform
# service's status is its item in GET /environment/{id}/statuses, read even when it is deployed alone. A
# request to a path the spec lacks would fail the contract check of every test here.

NO_VALUES = {"image-tag": "", "git-commit-id": "", "chart-version": ""}
DEPLOYED_COMMIT = "feedface" * 5  # what it runs now (the default's digits would match the token's)


def test_terraform_by_its_type_deploys_its_deployed_commit_read_in_its_environment(
    simulator: SimFactory, tmp_path: Path
) -> None:
    box = service("container", "infra")
    tf = service("terraform", "infra", current_commit=DEPLOYED_COMMIT)
    sim = simulator(box, tf)
    env, files = github_env(tmp_path, release_inputs(sim, "terraform:infra") | NO_VALUES)
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    (ours,) = sim.deployments_of(tf.job_id)
    assert ours.asked == {"body": {"git_commit_id": tf.current_commit}, "query": {}}  # what it runs now
    assert not sim.deployments_of(box.job_id)
    assert sim.calls("environment_services") == 1  # the terraform list only
    assert f"requesting a deployment of commit {tf.current_commit}" in run.stderr
    # Its status: the environment's statuses, before the POST and while it deploys; never a path of its own.
    assert sim.calls("environment_statuses") >= 2 and sim.calls("status") == 0
    assert sim.calls("environment_kind_statuses") == 0
    (result,) = json.loads(run.outputs()["services"])
    assert (result["type"], result["name"], result["verdict"]) == ("terraform", "infra", "succeeded")
    assert result["console_url"].endswith(
        f"/environment/{ENV}/service/{tf.job_id}/deployments/logs/{ours.execution_id}"
    )
    assert "Qovery terraform service deployed" in run.summary()


@pytest.mark.parametrize("prefix", ["", "terraform:"])
def test_terraform_by_uuid_alone_is_read_in_the_environment_its_own_read_names(
    simulator: SimFactory, prefix: str
) -> None:
    tf = service("terraform", "network")
    sim = simulator(tf)
    run = run_step(plain_env(release_inputs(sim, prefix + tf.job_id, environment="")))

    assert run.code == 0, run.stderr
    assert run.json()["services"][0]["type"] == "terraform"
    assert sim.deployments_of(tf.job_id)[0].asked["body"] == {"git_commit_id": COMMIT}
    assert sim.calls("environment_statuses") >= 2 and sim.calls("status") == 0


def test_a_release_with_terraform_reads_one_environment_per_interval(simulator: SimFactory) -> None:
    migrate, tf = service("job", "migrate"), service("terraform", "network", length=2.0)
    sim = simulator(migrate, tf)
    run = run_step(plain_env(release_inputs(sim, "migrate, network")))

    assert run.code == 0, run.stderr
    assert [(s["type"], s["verdict"]) for s in run.json()["services"]] == [
        ("job", "succeeded"),
        ("terraform", "succeeded"),
    ]
    assert sim.deployments_of(migrate.job_id)[0].asked["body"] == {"image_tag": TAG}
    assert sim.deployments_of(tf.job_id)[0].asked["body"] == {"git_commit_id": COMMIT}
    # Together, then terraform alone once the job has ended: the environment's read every time.
    assert sim.calls("status") == 0 and sim.calls("environment_kind_statuses") == 0


def test_when_the_environment_s_statuses_fail_terraform_ends_in_that_error_and_the_rest_falls_back(
    simulator: SimFactory,
) -> None:
    migrate, tf = service("job", "migrate", length=2.0), service("terraform", "network", length=2.0)
    sim = simulator(migrate, tf)
    sim.faults["environment_statuses"] = deque([None, Fault(status=404)])  # the baseline, then a 404
    run = run_step(plain_env(release_inputs(sim, "migrate, network")))

    assert run.code == 3, run.stderr
    job_result, tf_result = run.json()["services"]
    assert (job_result["verdict"], tf_result["verdict"]) == ("succeeded", "error")
    assert "HTTP 404" in tf_result["message"]
    assert "Reading statuses kind by kind" in run.stderr and sim.calls("status") >= 1  # the job, alone
    assert sim.calls("environment_statuses") == 2  # a failed joint read is not tried again


def test_terraform_missing_from_its_environment_s_statuses_is_an_error_not_a_wait(
    simulator: SimFactory,
) -> None:
    """Its environment's statuses, its only status, answer without it: an error before anything is
    posted, not a wait for it to show up."""
    network = service("terraform", "network")
    sim = simulator(service("job", "migrate"), network)
    statuses = json.loads(answered(sim, "GET", f"/environment/{ENV}/statuses").body)
    assert [entry["id"] for entry in statuses["terraforms"]] == [network.job_id]
    without = statuses | {"terraforms": []}
    json_body = {"Content-Type": "application/json"}
    sim.faults["environment_statuses"] = deque(
        [Fault(status=200, body=json.dumps(without), headers=json_body)]
    )
    run = run_step(plain_env(release_inputs(sim, f"terraform:{network.job_id}")))

    assert run.code == 3, run.stderr
    assert (
        f"statuses of environment {ENV} list no terraform service {network.job_id}" in run.json()["message"]
    )
    assert sim.calls("deploy") == 0


def test_terraform_after_an_ambiguous_deploy_is_looked_for_in_its_environment(simulator: SimFactory) -> None:
    tf = service("terraform", "network", faults={"deploy": deque([Fault(status=503, acted=True)])})
    sim = simulator(tf)
    run = run_step(plain_env(release_inputs(sim, "network")))

    assert run.code == 0, run.stderr
    assert "adopting deployment request" in run.stderr
    assert len(sim.deployments_of(tf.job_id)) == 1 and sim.calls("status") == 0


def test_a_terraform_dry_run_says_the_commit_it_would_deploy(simulator: SimFactory) -> None:
    tf = service("terraform", "network", current_commit=DEPLOYED_COMMIT)
    sim = simulator(tf)
    run = run_step(plain_env(release_inputs(sim, "network", **{"dry-run": "true"}) | NO_VALUES))

    assert run.code == 0, run.stderr
    assert (
        "Dry run: the terraform service is DEPLOYED; would request a deployment of commit "
        f"{tf.current_commit}. Nothing was posted." in run.stderr
    )
    assert sim.calls("deploy") == 0 and sim.calls("status") == 0


@pytest.mark.parametrize(
    ("values", "said"),
    [
        (
            {"chart-version": "1.2.3"},
            "Invalid input `chart-version` (`1.2.3` from the environment variable QOVERY_CHART_VERSION): "
            "api is a container, which deploys an image tag: give `image-tag`",
        ),
        (
            {"chart-version": "1.2.3", "git-commit-id": "abc"},
            "Invalid input `git-commit-id` (`abc` from the environment variable QOVERY_GIT_COMMIT_ID) and "
            "`chart-version` (`1.2.3` from the environment variable QOVERY_CHART_VERSION): api is a container",
        ),
    ],
)
def test_a_value_no_service_takes_is_named_with_its_value_and_source(
    simulator: SimFactory, values: dict[str, str], said: str
) -> None:
    sim, _ = release(simulator)
    base = release_inputs(sim, "api")
    run = run_step(
        plain_env(
            {k: v for k, v in base.items() if k not in ("image-tag", "git-commit-id", "chart-version")}
            | values
        )
    )

    assert run.code == 2, run.stderr
    assert said in run.stderr
    assert sim.calls("deploy") == 0


@pytest.mark.parametrize(
    ("kind", "noun"),
    [("container", "container"), ("helm", "helm chart"), ("database", "database"), ("job", "job")],
)
def test_a_failure_s_message_calls_the_service_by_its_type(
    simulator: SimFactory, kind: str, noun: str
) -> None:
    """Its state is the one expected, but Qovery says the action failed: the message names the service's
    type, as every human-readable line does (the JSON's `job_id` and `job_name` stay, for any type)."""
    script = service(kind, "svc", final_action_status="ERROR")
    sim = simulator(script)
    run = run_step(plain_env(release_inputs(sim, f"{kind}:svc")))

    assert run.code == 1, run.stderr
    said = f"The {noun} reached DEPLOYED, but Qovery reports that its action ended in ERROR."
    assert run.json()["message"].startswith(said)
    assert said in run.stderr
    if kind != "job":
        assert "job" not in run.json()["message"]
