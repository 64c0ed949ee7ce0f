from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.sims import SimFactory, finish, in_process, served

from qovery_job_deploy.simulator import JobScript, QoverySimulator


def _factory(make: Callable[..., QoverySimulator]) -> Iterator[SimFactory]:
    started: list[QoverySimulator] = []

    def start(*jobs: JobScript, **options: Any) -> QoverySimulator:
        sim = make(*jobs, **options)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        finish(sim)


@pytest.fixture
def simulator() -> Iterator[SimFactory]:
    """Simulators reached in-process, on a virtual clock; every exchange is checked against Qovery's
    OpenAPI spec. A test that plays a newer API on purpose lists what it expects in
    `sim.allowed_deviations`; any other violation fails the test at teardown."""
    yield from _factory(in_process)


@pytest.fixture
def served_simulator() -> Iterator[SimFactory]:
    """Simulators on 127.0.0.1 in real time, for the tests where the process or the wire is the point."""
    yield from _factory(served)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test against a served simulator (plain or TLS) runs the step as a process in real time: marked so."""
    for item in items:
        if {"served_simulator", "https_simulator"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.process)
