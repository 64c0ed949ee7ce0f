"""The follow loop's timetable (`scheduler.py`): status reads when each pacer says, live-log reads when
their turn comes and never at the cost of a status read. In process, on the virtual clock, through the
real client, engine and writers."""

from __future__ import annotations

import itertools

from support.inputs import job_inputs
from support.sims import SimFactory, job
from support.step import plain_env, run_step

from qovery_job_deploy.live import LIVE_BUDGET_SECONDS, LIVE_SECONDS
from qovery_job_deploy.simulator import QoverySimulator

# A 30 s job whose history says 30 s: read at the far pace (every 9 s) until the window around its end.
LONG = ((0.0, "QUEUED"), (4.0, "DEPLOYING"), (12.0, "EXECUTING"), (30.0, "DEPLOYED"))
INPUTS = {"poll-interval": "3s"}


def moments(sim: QoverySimulator, suffix: str) -> list[float]:
    return [e.received_at for e in sim.exchanges if e.path.endswith(suffix)]


def posted(sim: QoverySimulator) -> float:
    return next(e.received_at for e in sim.exchanges if e.method == "POST")


def test_a_log_read_comes_when_due_between_far_status_reads_and_delays_none(simulator: SimFactory) -> None:
    script = job(*LONG, past_durations=[30, 30, 30], log_lines=["migrated 3 tables"])
    quiet_script = job(*LONG, past_durations=[30, 30, 30])
    sim, quiet = simulator(script), simulator(quiet_script)
    run = run_step(plain_env(job_inputs(sim, script, logs="live", **INPUTS)))
    reference = run_step(plain_env(job_inputs(quiet, quiet_script, **INPUTS)))

    assert run.code == 0 and reference.code == 0, run.stderr
    statuses, logs = moments(sim, "/status"), moments(sim, "/logs")
    # The same status reads, at the same moments, as without the live log.
    assert [m - posted(sim) for m in statuses] == [m - posted(quiet) for m in moments(quiet, "/status")]
    # Some log reads fall between two status reads, each with a whole budget before the next one.
    between = [m for m in logs if m not in statuses]
    assert between, (statuses, logs)
    for moment in between:
        following = min(s for s in statuses if s > moment)
        assert following - moment >= LIVE_BUDGET_SECONDS - 1e-6
    # At most one log read of the environment every LIVE_SECONDS while it runs (the last is the report's).
    assert min(b - a for a, b in itertools.pairwise(logs[:-1])) >= LIVE_SECONDS - 1e-6
    assert "migrated 3 tables" in run.stderr
