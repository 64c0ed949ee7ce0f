"""The read budget of the common cases, pinned: exactly which requests, how many of each, at the default
poll interval, on the virtual clock. The benchmark (`benchmarks/run.py`) measures the same reads against
Qovery's CLI; these tests keep its figure from regressing silently. The CLI's 3 s poller reads
ceil(length / 3) times (at 3 s, 6 s, ...): the comments compare."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable

import pytest
from support.inputs import inputs, sim_inputs
from support.previews import in_environment, preview_inputs, previews, step
from support.sims import SimFactory, default_url, requests_by_operation
from support.step import plain_env, run_step

from qovery_job_deploy.simulator import Fault, JobScript, QoverySimulator
from qovery_job_deploy.simulator.routes import route

JOB_ID = "6c1b4f9e-0000-4000-8000-000000000000"
ENV = "e0e0e0e0-0000-4000-8000-0000000000bb"


def deployment(length: float, end: str = "DEPLOYED", **options: object) -> JobScript:
    """A job deployment shaped like the benchmark's: queued, then running, then its end at `length` s."""
    timeline = [(0.0, "QUEUED"), (1.0, "DEPLOYING"), (2.0, "EXECUTING"), (length, end)]
    return JobScript(JOB_ID, timeline=timeline, stale_seconds=1.0, environment_id=ENV, **options)  # type: ignore[arg-type]


# Before the POST, for a job given by id: its name and environment (`service`), the environment's name
# and console ids (`environment`), its project's name (`projects`, the organization's list), and its
# status (the baseline every check compares with).
BEFORE = {"service": 1, "environment": 1, "projects": 1, "status": 1, "deploy": 1}


@pytest.mark.parametrize(
    ("case", "script", "reads"),
    [
        # Nothing known: the first read at 6 s, then every 3 s until 21 s: 6 status reads (the CLI 7).
        ("20 s, no history", deployment(20), BEFORE | {"status": 1 + 6}),
        # Reads at 6, 9, ..., 42 s: 13 (the CLI 14); no history read within the first 90 s.
        ("40 s, no history", deployment(40), BEFORE | {"status": 1 + 13}),
        ("70 s, no history", deployment(70), BEFORE | {"status": 1 + 23}),
        # Past 90 s, the history is asked once (here there is none); reads at 6, 9, ..., 102 s: 33 (the CLI
        # 34).
        ("100 s, no history", deployment(100), BEFORE | {"status": 1 + 33, "history": 1}),
        # The last run's 20 s, in the status before the POST: the far pace (every 4.7 s) until 14 s, then
        # every second until the end; no history read.
        ("20 s, last run 20 s", deployment(20, past_durations=[20, 20, 20]), BEFORE | {"status": 1 + 3 + 7}),
        # A failure: the same reads, and its deployment log once, after the verdict.
        ("8 s, fails", deployment(8, "DEPLOYMENT_ERROR"), BEFORE | {"status": 1 + 2, "logs": 1}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_job_given_by_id_makes_exactly_these_requests(
    simulator: SimFactory, case: str, script: JobScript, reads: dict[str, int]
) -> None:
    sim = simulator(script)
    run = run_step(plain_env(inputs(job_id=JOB_ID, api_url=sim.url)))

    assert run.code in (0, 1), run.stderr
    assert requests_by_operation(sim) == reads
    # The names and the console link that those reads pay for: in the log, the result and its link.
    assert "Deploying Qovery job migrate (shop / production)" in run.stderr
    assert run.json()["job_name"] == "migrate"
    assert f"/environment/{ENV}/service/{JOB_ID}/deployments/logs/" in run.json()["console_url"]


def test_no_two_status_reads_come_at_the_same_moment_when_the_far_pace_meets_the_window(
    simulator: SimFactory,
) -> None:
    """Sums of float pauses land a hair before the expected window: that must not be a second read."""
    script = deployment(60, past_durations=[60, 61, 59, 60])
    sim = simulator(script)
    run = run_step(plain_env(inputs(job_id=JOB_ID, api_url=sim.url)))

    assert run.code == 0, run.stderr
    moments = [e.received_at for e in sim.exchanges if e.path.endswith("/status")]
    assert len(moments) == len(set(moments)), moments


def test_a_release_reads_each_service_once_before_deploying_it(simulator: SimFactory) -> None:
    """A job whose source decides between `image-tag` and `git-commit-id`: the read that names and places
    it also tells its source (`plan.py`); no second `GET /job/{id}`."""
    script = deployment(5)
    sim = simulator(script)
    given = inputs(
        api_url=sim.url,
        services=JOB_ID,
        environment=ENV,
        image_tag="v2",
        git_commit_id="fedcba9876543210fedcba9876543210fedcba98",
    )
    run = run_step(plain_env(given))

    assert run.code == 0, run.stderr
    assert requests_by_operation(sim)["service"] == 1
    ((deploy, _),) = [(e, e) for e in sim.exchanges if e.method == "POST"]
    assert b'"image_tag": "v2"' in deploy.body  # the job's source (an image) chose the value


@pytest.mark.parametrize(
    ("timeout", "first_read"),
    [("5s", 3.0), ("8s", 3.0), ("9s", 6.0), ("30m", 6.0)],  # one pause when the second would pass it
)
def test_the_first_read_waits_two_pauses_unless_the_timeout_comes_first(
    simulator: SimFactory, timeout: str, first_read: float
) -> None:
    sim = simulator(deployment(20))
    run = run_step(plain_env(inputs(job_id=JOB_ID, api_url=sim.url, timeout=timeout)))

    assert run.code in (0, 124), run.stderr
    posted = next(e.received_at for e in sim.exchanges if e.method == "POST")
    reads = [
        e.received_at - posted for e in sim.exchanges if e.path.endswith("/status") and e.received_at > posted
    ]
    assert round(reads[0], 2) == first_read
    assert run.json()["state"] in ("EXECUTING", "DEPLOYED")  # a state that was read, not the POST's QUEUED


@pytest.mark.parametrize("status", [403, 500])
def test_without_the_project_read_the_label_names_the_environment_and_says_why(
    simulator: SimFactory, status: int
) -> None:
    sim = simulator(deployment(5))
    sim.faults["projects"] = deque([Fault(status=status)] * 10)
    run = run_step(plain_env(inputs(job_id=JOB_ID, api_url=sim.url)))

    assert run.code == 0, run.stderr  # only a label: never a verdict
    assert sim.calls("projects") == 1  # one try: a name is not worth the step's patience
    (said,) = [line for line in run.stderr.splitlines() if "The project's name is unavailable (" in line]
    assert f"HTTP {status}" in said and said.endswith("; labels name the environment")
    assert "Deploying Qovery job migrate (production)" in run.stderr
    assert "migrate (shop / production)" not in run.stderr


OTHER_ENV = "e0e0e0e0-0000-4000-8000-0000000000cc"
MIGRATE, API, REPORT, CLEANUP = (f"6c1b4f9e-0000-4000-8000-00000000000{n}" for n in range(1, 5))
# Both values given: a job's own read (its source) decides which it takes, a container takes the tag.
VALUES = {"image-tag": "v2", "git-commit-id": "fedcba9876543210fedcba9876543210fedcba98"}
NAME_READS = ("service", "environment", "organizations", "projects", "environments", "environment_services")


def release_services() -> list[JobScript]:
    """Three services of one environment, and a job of another one (`staging`) of the same project."""
    return [
        JobScript(MIGRATE, job_name="migrate", environment_id=ENV),
        JobScript(API, kind="container", job_name="api", environment_id=ENV),
        JobScript(REPORT, job_name="report", environment_id=ENV),
        JobScript(CLEANUP, job_name="cleanup", environment_id=OTHER_ENV, environment_name="staging"),
    ]


@pytest.mark.parametrize(
    "given",
    [
        # Names all the way: the organization's projects, read to find the environment, also name the
        # project in the labels; a job given by UUID that its environment does not list is read alone.
        {
            "organization": "acme",
            "project": "shop",
            "environment": "production",
            "services": f"migrate, container:api, {REPORT}, job:{CLEANUP}",
        },
        # The environment by UUID: its lists give the names; its own read, the labels.
        {"environment": ENV, "services": f"migrate, api, {REPORT}"},
        # UUIDs alone: each service's kind is found by its own read, which also names and places it.
        {"services": f"{MIGRATE}, {API}, {REPORT}"},
    ],
    ids=["names", "environment-uuid", "uuids"],
)
def test_a_release_reads_each_service_at_most_once_and_no_list_twice(
    simulator: SimFactory, given: dict[str, str]
) -> None:
    """Names, UUIDs, labels and the plan share one directory of reads: whoever asks, `GET /{kind}/{id}`
    of a service is read at most once a run, and each list (and each environment) once."""
    sim = simulator(*release_services())
    run = run_step(plain_env(inputs(api_url=sim.url) | VALUES | given))

    assert run.code == 0, run.stderr
    reads = Counter(
        e.path for e in sim.exchanges if e.method == "GET" and route(e.method, e.path).operation in NAME_READS
    )
    assert reads and max(reads.values()) == 1, reads
    if API not in given["services"]:  # named: its environment's list named and placed it, no more to read
        assert f"/container/{API}" not in reads
    assert "migrate (shop / production)" in run.stderr  # the labels were completed from those reads


def test_a_failed_label_read_is_not_read_again_by_the_plan(simulator: SimFactory) -> None:
    """A job whose own read decides its values: that read is patient from the first asker (the labels), so
    a 503 is retried once there and the plan asks no more; the labels get the names."""
    script = deployment(5)
    script.faults["service"] = deque([Fault(status=503)])
    sim = simulator(script)
    run = run_step(plain_env(inputs(job_id=JOB_ID, api_url=sim.url) | VALUES))

    assert run.code == 0, run.stderr
    assert sim.calls("service") == 2  # the 503 and its retry: one read
    assert "Deploying Qovery job migrate (shop / production)" in run.stderr
    assert "names and console links are unavailable" not in run.stderr


def test_a_terraform_service_costs_a_job_s_reads_each_status_its_environment_s(simulator: SimFactory) -> None:
    """Qovery has no status endpoint for a terraform service: each read of its status is its environment's
    statuses, as many as a job's status reads ("20 s, no history"); its one `GET /terraform/{id}` names
    it, places it and tells the commit it runs, deployed again when no commit is given."""
    timeline = [(0.0, "QUEUED"), (1.0, "DEPLOYING"), (2.0, "EXECUTING"), (20, "DEPLOYED")]
    script = JobScript(
        JOB_ID,
        timeline=timeline,
        kind="terraform",
        stale_seconds=1.0,
        environment_id=ENV,
        current_commit="c0de" * 10,
    )
    sim = simulator(script)
    run = run_step(plain_env(inputs(services=f"terraform:{JOB_ID}", api_url=sim.url)))

    assert run.code == 0, run.stderr
    reads = {"service": 1, "environment": 1, "projects": 1, "environment_statuses": 1 + 6, "deploy": 1}
    assert requests_by_operation(sim) == reads
    assert sim.deployments_of(JOB_ID)[0].asked["body"] == {"git_commit_id": script.current_commit}
    assert "Deploying Qovery terraform service migrate (shop / production)" in run.stderr


# Where a service answers, once it succeeded: one link read per environment with a service that has links
# (an application, a container, a helm chart), after the verdicts; jobs, databases and terraform services
# have none, so the budgets above are unchanged.


def test_a_container_given_by_id_costs_a_job_s_reads_and_one_link_read(simulator: SimFactory) -> None:
    """The "20 s, no history" budget, plus `GET /container/{id}/link` once it succeeded."""
    timeline = [(0.0, "QUEUED"), (1.0, "BUILDING"), (2.0, "DEPLOYING"), (20, "DEPLOYED")]
    script = JobScript(JOB_ID, timeline=timeline, kind="container", stale_seconds=1.0, environment_id=ENV)
    sim = simulator(script)
    run = run_step(plain_env(inputs(services=f"container:{JOB_ID}", api_url=sim.url)))

    assert run.code == 0, run.stderr
    assert requests_by_operation(sim) == BEFORE | {"status": 1 + 6, "links": 1}
    assert run.json()["url"] == f"https://migrate-{JOB_ID[:8]}.qovery.example"


@pytest.mark.parametrize(
    ("kinds", "links"),
    [
        (
            ("job", "container", "application"),
            {"environment_links": 1},
        ),  # two with links: their environment's
        (("job", "container", "job"), {"links": 1}),  # one: its own
        (("job", "database", "terraform"), {}),  # none: no link read
    ],
    ids=["two-linked", "one-linked", "none-linked"],
)
def test_a_release_reads_links_once_per_environment(
    simulator: SimFactory, kinds: tuple[str, ...], links: dict[str, int]
) -> None:
    ids = [MIGRATE, API, REPORT]
    scripts = [
        JobScript(service_id, kind=kind, job_name=f"s{n}", environment_id=ENV)
        for n, (service_id, kind) in enumerate(zip(ids, kinds, strict=True))
    ]
    sim = simulator(*scripts)
    services = ", ".join(f"{kind}:{service_id}" for service_id, kind in zip(ids, kinds, strict=True))
    run = run_step(plain_env(inputs(api_url=sim.url, services=services) | VALUES))

    assert run.code == 0, run.stderr
    counted = requests_by_operation(sim)
    assert {op: counted[op] for op in ("links", "environment_links") if op in counted} == links


# A preview's run reads its environment's links once: the services' URLs and the preview's own link
# (`environment-url`) share that one read, whatever is named.
NOTHING_NAMED = {"project": "shop", "environment": "pr-42", "clone-from": "staging"}


@pytest.mark.parametrize(
    ("later", "given", "answering"),
    [
        (False, preview_inputs, ("api", "web")),  # the first run: the clone, everything deployed
        (True, preview_inputs, ("api", "web")),  # a later run: api and web
        (
            True,
            lambda sim: preview_inputs(sim, services="api"),
            ("api",),
        ),  # alone: its environment's read too
        (True, lambda sim: sim_inputs(sim, **NOTHING_NAMED), ("api", "web")),  # nothing named: all again
        (True, lambda sim: preview_inputs(sim, **{"dry-run": "true"}), ()),  # no URL: only the preview's link
    ],
    ids=["first-run", "later-run", "one-named", "nothing-named", "dry-run"],
)
def test_a_preview_run_reads_its_environment_s_links_once(
    simulator: SimFactory,
    later: bool,
    given: Callable[[QoverySimulator], dict[str, str]],
    answering: tuple[str, ...],
) -> None:
    sim = previews(simulator)
    if later:
        assert step(sim).code == 0
    before = {operation: sim.calls(operation) for operation in ("links", "environment_links")}
    run = run_step(plain_env(given(sim)))

    assert run.code == 0, run.stderr
    assert {operation: sim.calls(operation) - count for operation, count in before.items()} == {
        "links": 0,
        "environment_links": 1,
    }
    (clone,) = sim.environments.clones
    services = in_environment(sim, clone)
    result = run.json()
    assert result["environment_url"] == default_url(services["api"])  # the preview's first default link
    assert {s["name"]: s["url"] for s in result["services"]} == {
        s["name"]: default_url(services[s["name"]]) if s["name"] in answering else None
        for s in result["services"]
    }
    assert set(answering) <= {s["name"] for s in result["services"]}


def test_a_preview_s_link_read_that_fails_is_not_read_again_for_its_own_link(simulator: SimFactory) -> None:
    """The one read fails: the services have no URL and the preview no link, each said in its line, and
    the verdicts stand."""
    sim = previews(simulator)
    assert step(sim).code == 0
    (clone,) = sim.environments.clones
    first = next(s for s in sim.services.values() if s.environment_id == clone)  # answers for its environment
    first.faults["environment_links"] = deque([Fault(status=500)] * 2)
    before = sim.calls("environment_links")
    run = step(sim)

    assert run.code == 0, run.stderr
    assert sim.calls("environment_links") - before == 1
    result = run.json()
    assert result["environment_url"] is None
    assert [s["url"] for s in result["services"]] == [None, None]
    said = "are unavailable (Qovery answered HTTP 500 to GET)"
    assert f"The URLs of api (shop / pr-42), web (shop / pr-42) {said}" in run.stderr
    assert "The preview's link is unavailable (Qovery answered HTTP 500 to GET)" in run.stderr
