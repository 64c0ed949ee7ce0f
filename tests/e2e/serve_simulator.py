"""The process behind harness.SimulatorProcess and harness.GitHubProcess: the simulator's built-in services (with
the argument `previews`, and staging, the previews' blueprint, as `python -m qovery_job_deploy.simulator` has them;
with the argument `github`, the fake GitHub API of tests/support/github.py instead, whose token is
QJD_E2E_GITHUB_TOKEN) on 127.0.0.1, in real time, until its stdin closes. It prints its URL first and, once stopped,
its record, pickled: the simulator's deployment requests, exchanges, services and environments, or the fake
GitHub's exchanges, deployments, statuses and comments. It imports only what it serves, so that it starts in a fraction of a second; the test process checks the
exchanges against the OpenAPI spec afterwards."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import Any

from qovery_job_deploy.simulator import QoverySimulator, serve
from qovery_job_deploy.simulator.catalogue import builtin_services
from qovery_job_deploy.simulator.environments import STAGING, blueprint_services


def main() -> None:
    out = sys.stdout.buffer
    served: Any
    if sys.argv[1:] == ["github"]:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: support.github
        from support.github import FakeGitHub  # noqa: PLC0415 - only this kind of process needs it

        # Checked by the test process, as the simulator's exchanges are: no answer waits on openapi-core here.
        served = FakeGitHub(token=os.environ["QJD_E2E_GITHUB_TOKEN"], validator=lambda exchange: [])
    elif sys.argv[1:] == ["previews"]:
        served = QoverySimulator(builtin_services() + blueprint_services(), places=[STAGING])
    else:
        served = QoverySimulator()
    with serve(served):
        out.write(f"{served.url}\n".encode())
        out.flush()
        sys.stdin.buffer.read()  # until the test process closes it
    if isinstance(served, QoverySimulator):
        record: tuple[Any, ...] = (served.requests, served.exchanges, served.services, served.places)
    else:
        record = (served.exchanges, served.deployments, served.statuses, served.comments)
    pickle.dump(record, out)
    out.flush()


if __name__ == "__main__":
    main()
