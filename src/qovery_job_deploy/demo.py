"""`qovery-job-deploy demo`: a whole deployment against the built-in Qovery simulator, no account needed."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from qovery_job_deploy.simulator import FAILURE_JOB, SUCCESS_JOB, QoverySimulator

DEMO_TOKEN = "qov_demo-token-of-the-simulator"  # noqa: S105 - accepted by the simulator only


def run_demo(args: Sequence[str]) -> int:
    """Deploy the simulator's job (`demo failure` deploys one that fails) and return the step's exit code."""
    from qovery_job_deploy.main import run  # noqa: PLC0415 - main imports this module lazily

    job = FAILURE_JOB if list(args[:1]) == ["failure"] else SUCCESS_JOB
    with QoverySimulator() as sim:
        sys.stderr.write(
            f"Demo: a simulated Qovery API on {sim.url} plays job {job}.\n"
            "The step below deploys it exactly as it would deploy yours (the status even shows the previous\n"
            "deployment for a moment, as real Qovery's does). Human log on stderr, JSON result on stdout.\n\n"
        )
        environ = {
            "QOVERY_API_TOKEN": DEMO_TOKEN,
            "QOVERY_JOB_ID": job,
            "QOVERY_API_URL": sim.url,
            "QOVERY_TIMEOUT": "60s",
        }
        code = run([], environ, sys.stdout, sys.stderr)
    sys.stderr.write(f"\nDemo finished with exit code {code} (0 success, 1 deployment failed).\n")
    return code
