"""`logs: live`: new lines of our deployments while they run, each once, ours only, framed on GitHub,
at most one log read per environment every 5 s, and never at the cost of a status read or a verdict."""

from __future__ import annotations

from collections import Counter, deque
from pathlib import Path

import pytest
from support.inputs import inputs, job_inputs
from support.runner_commands import commands_outside_frames
from support.sims import SimFactory, job
from support.step import github_env, plain_env, run_step

from qovery_job_deploy.simulator import Fault

# A 30 s deployment: its state lines come one by one, and the job prints at the end.
LONG = ((0.0, "QUEUED"), (4.0, "DEPLOYING"), (12.0, "EXECUTING"), (30.0, "DEPLOYED"))
# The default pace: a log read never holds up a status read, so it needs room between two of them.
PACE = {"poll-interval": "3s"}


def log_lines(text: str, marker: str) -> list[str]:
    return [line for line in text.splitlines() if marker in line]


def test_lines_come_while_it_runs_each_once_and_ours_only(simulator: SimFactory) -> None:
    script = job(*LONG, log_lines=["migrated 3 tables"])
    sim = simulator(script)
    run = run_step(plain_env(job_inputs(sim, script, logs="live", **PACE)))

    assert run.code == 0, run.stderr
    lines = run.stderr.splitlines()
    verdict_at = next(i for i, line in enumerate(lines) if "succeeded: The job reached DEPLOYED" in line)
    live = [i for i, line in enumerate(lines) if line.startswith("  | ")]
    assert any(i < verdict_at for i in live), "no line was shown before the verdict"
    printed = [line for line in lines if "Deploy migrate: " in line or "migrated 3 tables" in line]
    assert printed and max(Counter(line.split("Deploy ", 1)[-1] for line in printed).values()) == 1
    assert "migrated 3 tables" in run.stderr  # the tail, after the verdict
    assert "frontend" not in run.stderr  # the other service of the environment
    assert sim.calls("logs") <= 30 / 5 + 2  # at most one read every 5 s, and the one after the verdict


def test_a_failing_log_endpoint_costs_no_status_read_and_no_verdict(simulator: SimFactory) -> None:
    script = job(*LONG)
    sim = simulator(script)
    script.faults["logs"] = deque([Fault(status=500)] * 3)
    quiet = simulator(job(*LONG))
    run = run_step(plain_env(job_inputs(sim, script, logs="live", **PACE)))
    reference = run_step(plain_env(job_inputs(quiet, next(iter(quiet.services.values())), **PACE)))

    assert run.code == 0 and reference.code == 0, run.stderr
    assert (
        "The live deployment log is unavailable (Qovery answered HTTP 500 to GET); not read live any more"
        in run.stderr
    )
    assert sim.calls("logs") == 3 + 1  # three failures, then only the read after the verdict
    assert sim.calls("status") == quiet.calls("status")  # the same status reads as without it


def test_several_services_take_turns_and_each_line_names_its_service(simulator: SimFactory) -> None:
    env_id = "e0e0e0e0-0000-4000-8000-0000000000bb"
    one = job(*LONG, job_name="one", environment_id=env_id)
    two = job(*LONG, job_name="two", environment_id=env_id)
    sim = simulator(one, two)
    given = inputs(api_url=sim.url) | PACE
    run = run_step(plain_env(given | {"services": "one, two", "environment": env_id, "logs": "live"}))

    assert run.code == 0, run.stderr
    assert log_lines(run.stderr, "  one | ") and log_lines(run.stderr, "  two | ")
    # One environment: one read per 5 s, whoever's turn (Qovery runs the two deployments one after the other).
    assert sim.calls("logs") <= run.seconds / 5 + 2 + 1


@pytest.mark.parametrize("name", ["::error::pwned", "##[error]legacy", "</details><script>x</script>"])
def test_on_github_live_lines_run_no_command(simulator: SimFactory, tmp_path: Path, name: str) -> None:
    script = job(*LONG, job_name=name)
    sim = simulator(script)
    env, files = github_env(tmp_path, job_inputs(sim, script, logs="live", **PACE))
    run = run_step(env, files)

    assert run.code == 0, run.stderr
    assert "| " in run.stdout and "EXECUTING" in run.stdout  # shown live, on stdout, framed
    # Our own commands: a frame's start, the mask, a group's title (a name in it is only its title).
    ours = ("::group::", "::endgroup::", "::stop-commands::", "::add-mask::")
    stray = [line for line in commands_outside_frames(run.stdout) if not line.startswith(ours)]
    assert not stray
