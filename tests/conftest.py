from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from contract import validate  # tests/ is on sys.path: pytest's rootdir conftest rule

from qovery_job_deploy.simulator import JobScript, QoverySimulator

SimFactory = Callable[..., QoverySimulator]


@pytest.fixture
def simulator() -> Iterator[SimFactory]:
    """Start simulators whose every exchange is checked against Qovery's OpenAPI spec.

    A test that plays a newer API on purpose (an unknown state) lists the violations it expects in
    `sim.allowed_deviations`; any other violation fails the test at teardown.
    """
    started: list[QoverySimulator] = []

    def start(*jobs: JobScript) -> QoverySimulator:
        sim = QoverySimulator(list(jobs) or None, validator=validate).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()
        unexpected = [
            error
            for error in sim.contract_errors
            if not any(allowed in error for allowed in getattr(sim, "allowed_deviations", ()))
        ]
        assert not unexpected, "simulator exchanges broke the OpenAPI contract:\n" + "\n".join(unexpected)
