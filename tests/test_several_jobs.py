"""Several jobs in one step, named the way people name them, each with its own verdict.

The entrypoint runs as GitHub, GitLab and `docker run` run it, against the simulator over real sockets.
"""

from __future__ import annotations

import json
import signal
import uuid
from collections import deque
from pathlib import Path

import pytest
from support.inputs import inputs, job_inputs, jobs_inputs
from support.sims import SimFactory, job
from support.step import github_env, gitlab_env, plain_env, run_step

from qovery_job_deploy.simulator import Fault, JobScript, Place, QoverySimulator

ENV = "e0e0e0e0-0000-4000-8000-000000000001"
OK = [(0.0, "QUEUED"), (0.3, "EXECUTING"), (1.0, "DEPLOYED")]
BAD = [(0.0, "QUEUED"), (0.3, "EXECUTING"), (0.8, "DEPLOYMENT_ERROR")]


def named(name: str, timeline: list[tuple[float, str]] = OK, environment_id: str = ENV) -> JobScript:
    return JobScript(str(uuid.uuid4()), timeline=list(timeline), job_name=name, environment_id=environment_id)


def start(simulator: SimFactory, *jobs: JobScript, places: list[Place] | None = None) -> QoverySimulator:
    sim = simulator(*jobs)
    for place in places or ():
        sim.places[place.environment_id] = place
    return sim


def test_two_jobs_by_name_both_succeed_with_one_read_per_interval(
    simulator: SimFactory, tmp_path: Path
) -> None:
    migrate, report = named("migrate"), named("Nightly report", [(0.0, "QUEUED"), (1.6, "DEPLOYED")])
    sim = start(simulator, migrate, report)
    env, files = github_env(
        tmp_path, jobs_inputs(sim, "migrate\n  nightly REPORT  \n")
    )  # a YAML block scalar
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    outputs = run.outputs()
    jobs = json.loads(outputs["jobs"])
    assert [job["name"] for job in jobs] == ["migrate", "Nightly report"]
    assert [job["verdict"] for job in jobs] == ["succeeded", "succeeded"]
    assert [job["deployment_request_id"] for job in jobs] == [
        sim.deployments_of(migrate.job_id)[0].id,
        sim.deployments_of(report.job_id)[0].id,
    ]
    assert json.loads(outputs["result"])["jobs"] == jobs
    assert f"job migrate -> {migrate.job_id}" in run.stderr
    assert "migrate: DEPLOYED" in run.stderr and "Nightly report: DEPLOYED" in run.stderr
    # Both jobs share an environment: while both are followed (report waiting in Qovery's queue behind
    # migrate, then running), each read is the environment's, never one per job; once migrate has ended,
    # report alone is read by itself (one request either way).
    migrate_ended = sim.terminal_at[sim.deployments_of(migrate.job_id)[0].id]
    assert sim.deployments_of(report.job_id)[0].start == sim.deployments_of(migrate.job_id)[0].ends_at()
    joint = [e.received_at for e in sim.exchanges if e.method == "GET" and e.path.endswith(f"{ENV}/statuses")]
    assert len(joint) >= 2
    alone = [e for e in sim.exchanges if e.method == "GET" and e.path.endswith("/status")]
    assert alone and all(e.path == f"/job/{report.job_id}/status" for e in alone)
    assert all(e.received_at > migrate_ended for e in alone)
    for operation in ("organizations", "projects", "environments", "environment_services"):
        assert sim.calls(operation) <= 1, operation
    summary = run.summary()
    assert "| Job | Verdict | Final state | Duration |" in summary
    assert "| migrate (shop / production) | `succeeded` | `DEPLOYED` |" in summary


def test_one_failure_decides_the_exit_code_and_every_job_is_reported(simulator: SimFactory) -> None:
    migrate, report = named("migrate", BAD), named("report")
    sim = start(simulator, migrate, report)
    run = run_step(plain_env(jobs_inputs(sim, "migrate, report")))

    assert run.code == 1, run.stderr
    result = run.json()
    assert result["verdict"] == "failed"
    assert result["state"] == "DEPLOYMENT_ERROR"  # the single-value fields describe the deciding job
    assert {job["name"]: job["verdict"] for job in result["jobs"]} == {
        "migrate": "failed",
        "report": "succeeded",
    }
    assert "2 jobs: 1 failed, 1 succeeded" in result["message"]


def test_sequential_stops_at_the_first_failure_and_skips_the_rest(simulator: SimFactory) -> None:
    first, second, third = named("migrate"), named("seed", BAD), named("report")
    sim = start(simulator, first, second, third)
    run = run_step(plain_env(jobs_inputs(sim, "migrate,seed,report", sequential="true")))

    assert run.code == 1, run.stderr
    verdicts = [job["verdict"] for job in run.json()["jobs"]]
    assert verdicts == ["succeeded", "failed", "skipped"]
    assert run.json()["jobs"][2]["duration_seconds"] == 0  # never deployed
    assert sim.deployments_of(third.job_id) == []  # nothing was sent for it
    # One after another: the second was requested only once the first had ended.
    assert sim.deployments_of(second.job_id)[0].created_at >= sim.deployments_of(first.job_id)[0].ends_at()


THREE_SECONDS = [(0.0, "QUEUED"), (0.3, "EXECUTING"), (3.0, "DEPLOYED")]


def test_each_job_is_timed_from_its_own_request_and_its_verdict_said_when_it_ends(
    simulator: SimFactory, tmp_path: Path
) -> None:
    sim = start(simulator, named("migrate", THREE_SECONDS), named("seed", THREE_SECONDS))
    env, files = github_env(tmp_path, jobs_inputs(sim, "migrate, seed", sequential="true"))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    outputs = run.outputs()
    assert [job["duration_seconds"] for job in json.loads(outputs["jobs"])] == [3, 3]
    assert outputs["duration-seconds"] == "6"  # the step's: one job after the other
    assert "| seed (shop / production) | `succeeded` | `DEPLOYED` | 3 s |" in run.summary()
    # migrate's verdict is in the log before seed is even requested, and the step's last word is a tally.
    lines = run.stderr.splitlines()
    ended = next(i for i, line in enumerate(lines) if "migrate (shop / production): succeeded: " in line)
    requested = next(i for i, line in enumerate(lines) if "seed: the job is" in line)
    assert ended < requested
    assert "] succeeded: 2 jobs: 2 succeeded\n" in run.stderr


def test_several_timeouts_say_each_message_once(simulator: SimFactory) -> None:
    long = [(0.0, "QUEUED"), (0.3, "EXECUTING"), (600.0, "DEPLOYED")]
    sim = start(simulator, named("migrate", long), named("report", long))
    run = run_step(plain_env(jobs_inputs(sim, "migrate, report", timeout="5s")))

    assert run.code == 124, run.stderr
    assert run.stderr.count("Timed out") == 2  # one line per job; the tally does not repeat one
    assert "] timed_out: 2 jobs: 2 timed out\n" in run.stderr
    # The result, read on its own, keeps the deciding job's message.
    assert run.json()["message"].startswith("2 jobs: 2 timed out. migrate (shop / production): Timed out")


@pytest.mark.parametrize(
    ("timelines", "title"),
    [
        ((OK, OK, OK), "3 Qovery jobs deployed"),
        ((OK, BAD, OK), "3 Qovery jobs: 1 failed"),
        ((BAD, BAD, OK), "3 Qovery jobs: 2 failed"),
        ((BAD, BAD, BAD), "3 Qovery jobs: all failed"),
    ],
)
def test_the_summary_title_reads_naturally(
    simulator: SimFactory, tmp_path: Path, timelines: tuple[list[tuple[float, str]], ...], title: str
) -> None:
    scripts = [named(name, timeline) for name, timeline in zip(("a", "b", "c"), timelines, strict=True)]
    sim = start(simulator, *scripts)
    env, files = github_env(tmp_path, jobs_inputs(sim, "a, b, c"))
    run = run_step(env, files)

    assert run.summary().splitlines()[0].endswith(f" {title}")


@pytest.mark.parametrize(
    ("jobs", "scope", "words"),
    [
        ("migrate, report, migrat", {}, ["no job is named 'migrat' in environment production", "migrate"]),
        ("migrate", {"environment": "prod"}, ["no environment is named 'prod'", "production"]),
        ("migrate", {"project": "shp"}, ["no project is named 'shp'", "shop"]),
        ("migrate", {"organization": "acne"}, ["no organization is named 'acne'", "acme"]),
    ],
)
def test_a_name_that_matches_nothing_lists_what_exists_and_deploys_nothing(
    simulator: SimFactory, jobs: str, scope: dict[str, str], words: list[str]
) -> None:
    sim = start(simulator, named("migrate"), named("report"))
    run = run_step(plain_env(jobs_inputs(sim, jobs, **scope)))

    assert run.code == 2, run.stderr
    for word in words:
        assert word in run.stderr
    assert "from the environment variable QOVERY_" in run.stderr  # the rejected value's source
    assert sim.calls("deploy") == 0 and sim.calls("status") == 0
    assert run.stdout == ""  # an input error writes no result


def test_a_wrong_third_name_leaves_the_first_two_undeployed(simulator: SimFactory) -> None:
    sim = start(simulator, named("migrate"), named("seed"))
    run = run_step(plain_env(jobs_inputs(sim, "migrate, seed, raport")))

    assert run.code == 2
    assert sim.calls("deploy") == 0
    assert "Names there, closest first: migrate, seed" in run.stderr or "closest first" in run.stderr


def test_an_ambiguous_environment_name_lists_the_candidates_with_their_ids(simulator: SimFactory) -> None:
    other_env = "e0e0e0e0-0000-4000-8000-000000000002"
    other = Place(other_env, "prod", "5e0f1a2b-0000-4000-8000-00000000cafe", "blog")
    sim = start(
        simulator,
        named("migrate"),
        named("migrate", environment_id=other_env),
        places=[Place(ENV, "prod"), other],
    )
    run = run_step(plain_env(jobs_inputs(sim, "migrate", project="", environment="PROD")))

    assert run.code == 2, run.stderr
    assert "matches 2" in run.stderr
    assert ENV in run.stderr and other_env in run.stderr and "project blog" in run.stderr
    assert sim.calls("deploy") == 0


def test_jobs_by_uuid_need_no_lookup(simulator: SimFactory) -> None:
    one, two = named("a"), named("b")
    sim = start(simulator, one, two)
    run = run_step(plain_env(jobs_inputs(sim, f"{one.job_id},{two.job_id}", project="", environment="")))

    assert run.code == 0, run.stderr
    for operation in ("organizations", "environments", "environment_services"):
        assert sim.calls(operation) == 0, operation
    assert [job["verdict"] for job in run.json()["jobs"]] == ["succeeded", "succeeded"]
    # GET /job tells each job's environment; the environment itself is read once for both, and then
    # both jobs are read together. Its organization's projects, once, give the label its project's name.
    assert sim.calls("service") == 2 and sim.calls("environment") == 1 and sim.calls("projects") == 1
    assert "a (shop / production): succeeded" in run.stderr
    assert sim.calls("environment_statuses") >= 1


def test_job_id_and_jobs_together_are_an_input_error() -> None:
    env = plain_env(inputs(job_id=str(uuid.uuid4()), jobs="migrate", environment=ENV))
    run = run_step(env)

    assert run.code == 2
    assert "`jobs`" in run.stderr and "job-id" in run.stderr


def test_sequential_without_waiting_is_an_input_error() -> None:
    """Nothing could stop the rest without each verdict: refused before any request, not silently ignored."""
    env = plain_env(inputs(jobs="a, b", environment=ENV, sequential="true", wait="false"))
    run = run_step(env | {"QOVERY_API_URL": "http://127.0.0.1:9"})  # nothing listens: no request is sent

    assert run.code == 2, run.stderr
    (said,) = [line for line in run.stderr.splitlines() if "error:" in line]
    assert "`sequential`" in said and "needs `wait`" in said and "set `wait: true`" in said


@pytest.mark.parametrize(
    ("failing", "said", "by_kind_reads"),
    [
        (["environment_statuses"], "kind by kind", "many"),  # then the jobs' list, every interval
        (["environment_statuses", "environment_kind_statuses"], "one by one", 1),  # then each job alone
    ],
)
def test_a_failing_environment_read_falls_back_by_kind_then_one_by_one(
    simulator: SimFactory, failing: list[str], said: str, by_kind_reads: object
) -> None:
    migrate, report = named("migrate"), named("report")
    sim = start(simulator, migrate, report)
    for operation in failing:
        sim.faults[operation] = deque([Fault(status=403)])
    run = run_step(plain_env(jobs_inputs(sim, "migrate, report")))

    assert run.code == 0, run.stderr
    assert said in run.stderr
    assert sim.calls("environment_statuses") == 1  # a failed joint read is not tried again
    if by_kind_reads == 1:
        assert sim.calls("environment_kind_statuses") == 1 and sim.calls("status") >= 4
    else:
        assert sim.calls("environment_kind_statuses") >= 2
        # Read alone only once migrate has ended (report waits behind it in Qovery's queue, then runs).
        migrate_ended = sim.terminal_at[sim.deployments_of(migrate.job_id)[0].id]
        alone = [e for e in sim.exchanges if e.method == "GET" and e.path.startswith("/job/")]
        assert alone and all(
            e.path == f"/job/{report.job_id}/status" and e.received_at > migrate_ended for e in alone
        )


def test_sigterm_with_three_jobs_in_flight_cancels_each_of_our_requests(served_simulator: SimFactory) -> None:
    slow = [(0.0, "QUEUED"), (0.5, "EXECUTING"), (120.0, "DEPLOYED")]
    jobs = [named(name, slow) for name in ("a", "b", "c")]
    sim = start(served_simulator, *jobs)
    env = plain_env(jobs_inputs(sim, "a, b, c", **{"cancel-on-abort": "true"}))
    run = run_step(env, signal_when=lambda: sim.calls("environment_statuses") >= 2, signum=signal.SIGTERM)

    assert run.code == 143, run.stderr
    assert [job["verdict"] for job in run.json()["jobs"]] == ["cancelled"] * 3
    for script in jobs:
        (ours,) = sim.deployments_of(script.job_id)
        assert ours.canceled_at is not None
    assert run.seconds < 7.5  # inside GitHub's 7.5 s from SIGINT to SIGTERM, cancellations included


def test_gitlab_gets_per_job_keys_within_its_limits(simulator: SimFactory, tmp_path: Path) -> None:
    migrate, report = named("db-migrate"), named("report", BAD)
    sim = start(simulator, migrate, report)
    env, files = gitlab_env(tmp_path, jobs_inputs(sim, "db-migrate, report"))
    run = run_step(env, files)

    assert run.code == 1, run.stderr
    report_vars = run.dotenv()
    assert report_vars["QOVERY_VERDICT"] == "failed"
    assert report_vars["QOVERY_JOB_DB_MIGRATE_VERDICT"] == "succeeded"
    assert report_vars["QOVERY_JOB_REPORT_STATE"] == "DEPLOYMENT_ERROR"
    assert (
        report_vars["QOVERY_JOB_DB_MIGRATE_DEPLOYMENT_REQUEST_ID"] == sim.deployments_of(migrate.job_id)[0].id
    )
    assert len(report_vars) <= 20


@pytest.mark.parametrize("count", [3, 6])
def test_gitlab_keeps_the_console_link_whole_beside_many_short_values(
    simulator: SimFactory, tmp_path: Path, count: int
) -> None:
    """Verdicts and states take a few bytes of their share of the 5 KB: the link takes what they leave."""
    scripts = [named(f"job-{number}", BAD if number == 0 else OK) for number in range(count)]
    sim = start(simulator, *scripts)
    env, files = gitlab_env(tmp_path, jobs_inputs(sim, ", ".join(f"job-{n}" for n in range(count))))
    run = run_step(env, files)

    assert run.code == 1, run.stderr
    report_vars = run.dotenv()
    assert report_vars["QOVERY_DEPLOYMENT_URL"] == run.result_file()["console_url"]
    assert len(report_vars) <= 20 and files["dotenv"].stat().st_size <= 5 * 1024


def test_on_github_several_services_end_with_the_tally_annotated_each_message_said_once(
    simulator: SimFactory, tmp_path: Path
) -> None:
    sim = start(simulator, named("migrate", BAD), named("report"))
    env, files = github_env(tmp_path, jobs_inputs(sim, "migrate, report"))
    run = run_step(env, files)

    assert run.code == 1, run.stderr
    commands = [line for line in run.stdout.splitlines() if line.startswith("::")]
    shown = "\n".join([run.stderr, *commands])
    assert shown.count("The deployment ended in DEPLOYMENT_ERROR; DEPLOYED was expected.") == 1
    annotation = commands[-1]
    assert annotation.startswith(
        "::error title=2 Qovery jobs%3A 1 failed (DEPLOYMENT_ERROR)::2 jobs: 1 failed, 1 succeeded"
    )
    assert "migrate (shop / production): Qovery: " in annotation  # whose diagnosis it is


def test_a_timeout_too_short_to_start_claims_no_request_and_no_turn(simulator: SimFactory) -> None:
    """One job and a timeout that is gone before its POST: the log never says it was requested, and the
    verdict speaks of no turn (nothing queued before it)."""
    script = job()
    script.faults["status"] = deque([Fault(kind="delay", seconds=0.6)])  # the status read before the POST
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, timeout="1s")))

    assert run.code == 124, run.stderr
    assert sim.calls("deploy") == 0
    assert "requesting" not in run.stderr and "turn" not in run.stderr
    assert "nothing was requested" in run.json()["message"]
