"""A reader that goes away: `step 2>&1 >result.json | head -1` closes the log's pipe after one line. Losing
the log (stderr or stdout) never stops a deployment, never changes its verdict or the exit code, and the
result is still written wherever it can be. Real pipes, a real process: the boundary is the point."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.inputs import job_inputs
from support.sims import SimFactory, job
from support.step import ENTRYPOINT, github_env, plain_env

from qovery_job_deploy.streams import Tolerant

SLOW_ENOUGH = ((0.0, "QUEUED"), (1.0, "EXECUTING"), (2.0, "DEPLOYED"))  # the reader is gone before the end


@pytest.mark.process
def test_a_log_pipe_closed_after_one_line_changes_nothing(
    served_simulator: SimFactory, tmp_path: Path
) -> None:
    script = job(*SLOW_ENOUGH)
    sim = served_simulator(script)
    result = tmp_path / "out.json"
    with result.open("w") as stdout:
        process = subprocess.Popen(
            [sys.executable, str(ENTRYPOINT)],
            env=plain_env(job_inputs(sim, script)),
            stdout=stdout,
            stderr=subprocess.PIPE,
        )
        assert process.stderr is not None
        first = process.stderr.readline()  # as `head -1`: one line, then the pipe is closed
        process.stderr.close()
        code = process.wait(timeout=60)

    assert first  # the log had begun
    assert code == 0
    assert len(sim.deployments_of(script.job_id)) == 1
    assert json.loads(result.read_text())["verdict"] == "succeeded"


@pytest.mark.process
def test_stdout_closed_on_github_keeps_the_outputs_and_the_exit_code(
    served_simulator: SimFactory, tmp_path: Path
) -> None:
    """On GitHub stdout carries the runner's commands; without it the outputs file is still written."""
    script = job(*SLOW_ENOUGH)
    sim = served_simulator(script)
    env, files = github_env(tmp_path, job_inputs(sim, script))
    process = subprocess.Popen(
        [sys.executable, str(ENTRYPOINT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdout is not None
    process.stdout.close()  # nobody reads it at all
    code = process.wait(timeout=60)

    assert code == 0
    assert len(sim.deployments_of(script.job_id)) == 1
    assert "verdict<<" in files["output"].read_text() and "succeeded" in files["output"].read_text()


class Gone(io.StringIO):
    """A stream whose reader went away after `room` writes."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, text: str, /) -> int:
        if self.room <= 0:
            raise BrokenPipeError(32, "Broken pipe")
        self.room -= 1
        return super().write(text)


def test_a_tolerant_stream_keeps_what_it_could_write_and_drops_the_rest() -> None:
    stream = Gone(room=1)
    tolerant = Tolerant(stream)
    assert tolerant.write("one\n") == 4 and not tolerant.lost
    assert tolerant.write("two\n") == 4 and tolerant.lost
    tolerant.write("three\n")
    tolerant.flush()
    assert stream.getvalue() == "one\n"
