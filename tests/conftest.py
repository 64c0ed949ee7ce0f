from __future__ import annotations

import os
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


def pytest_itemcollected(item: pytest.Item) -> None:
    """A test against a served simulator (plain or TLS) runs the step as a process in real time: marked so
    (as it is collected: before `-m` selects)."""
    if {"served_simulator", "https_simulator"} & set(getattr(item, "fixturenames", ())):
        item.add_marker(pytest.mark.process)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist's worksteal (pyproject's `--dist`), each worker is first sent an equal share of the
    collection, in its order, and a worker with nothing left steals from the end of another's queue. Each
    share starts with its part of the process tests (the real waiting), so that no worker ends the run
    alone on one. Run after the deselection (`trylast`): on the items the workers will run."""
    workers = getattr(config, "workerinput", {}).get("workercount", 0)  # in a worker only
    if workers < 2:
        return
    waiting = [item for item in items if item.get_closest_marker("process")]
    others = [item for item in items if not item.get_closest_marker("process")]
    ordered: list[pytest.Item] = []
    for worker in range(workers):
        share = (len(items) - len(ordered)) // (workers - worker)  # as worksteal splits the collection
        first = waiting[worker::workers]
        rest = max(0, share - len(first))
        ordered += first + others[:rest]
        del others[:rest]
    items[:] = ordered + others


@pytest.hookimpl(optionalhook=True)  # xdist's: without it (`-p no:xdist`), nothing asks
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: two workers per core. The suite's CPU work alone would want one per core, but about 40 s
    of it is real waiting, in the tests where a process, a socket or a deadline is the point (signals, TLS,
    trickled answers, the demo's real time): a second worker per core runs CPU work meanwhile.
    PYTEST_XDIST_AUTO_NUM_WORKERS still decides when set (xdist's own rule, then)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 * cores
