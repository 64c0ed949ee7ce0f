"""What the benchmarks share: where things are, the stage they run on (the step as `docker run` runs it, in
real time; or in this process on a virtual clock, for the test suite's smoke runs), their options, history
noise, and how a report is written. Not a benchmark itself."""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qovery_job_deploy.cli import main  # noqa: E402
from qovery_job_deploy.clock import VirtualClock  # noqa: E402
from qovery_job_deploy.simulator import JobScript, QoverySimulator, serve  # noqa: E402
from qovery_job_deploy.simulator.transport import SimulatorAdapter  # noqa: E402

TOKEN = "qov_benchmark-token"  # noqa: S105 - the simulator's, not a secret
RESULTS = ROOT / "benchmarks" / "results"
HISTORY_NOISE = 0.05  # past runs vary by about 5 % (lognormal sigma), as does the run measured


def options(doc: str | None, quick: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options every benchmark takes: `--quick` (a smoke run, `quick` says what it does), `--seed`,
    `--out` (where the report goes); from `argv`, else the command line."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def step_env(sim: QoverySimulator, variables: dict[str, str]) -> dict[str, str]:
    """The environment `docker run -e QOVERY_...` would give the step: the token, the simulator's URL and
    `variables`."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "src")}
    return env | {"QOVERY_API_TOKEN": TOKEN, "QOVERY_API_URL": sim.url} | variables


@dataclass(frozen=True)
class Ran:
    """One run of the step: its exit code, its stdout (the JSON result) and its peak RSS in kB."""

    code: int
    stdout: str
    rss_kb: int


class Stage(Protocol):
    """Where a benchmark runs: its time (wall seconds), its simulators, the step, and HTTP sessions for the
    reference pollers."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def simulator(self, scripts: list[JobScript]) -> AbstractContextManager[QoverySimulator]: ...

    def step(self, sim: QoverySimulator, variables: dict[str, str], timeout: float = 600) -> Ran: ...

    def session(self, sim: QoverySimulator) -> requests.Session: ...

    def together(self, calls: Sequence[Callable[[], None]], stagger: float = 0.0) -> None: ...


class RealStage:
    """Real time, each simulator on 127.0.0.1, the real entrypoint a process of its own as `docker run`
    starts it, and what runs together in threads, all at once: the benchmarks' figures."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    @contextmanager
    def simulator(self, scripts: list[JobScript]) -> Iterator[QoverySimulator]:
        sim = QoverySimulator(scripts)
        with serve(sim):
            yield sim

    def step(self, sim: QoverySimulator, variables: dict[str, str], timeout: float = 600) -> Ran:
        """The entrypoint, its JSON result on stdout; exit status and peak RSS from wait4, killed after
        `timeout` seconds."""
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "entrypoint.py")],
            env=step_env(sim, variables),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert process.stdout is not None
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        try:
            output = process.stdout.read()
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        return Ran(process.returncode, output.decode("utf-8"), usage.ru_maxrss)

    def session(self, sim: QoverySimulator) -> requests.Session:
        return requests.Session()

    def together(self, calls: Sequence[Callable[[], None]], stagger: float = 0.0) -> None:
        """Each call in a thread of its own, started `stagger` seconds apart; the first error is raised once
        all have ended."""
        errors: list[BaseException] = []

        def one(call: Callable[[], None]) -> None:
            try:
                call()
            except BaseException as error:  # reported after all threads end
                errors.append(error)

        threads = [threading.Thread(target=one, args=(call,)) for call in calls]
        for thread in threads:
            thread.start()
            time.sleep(stagger)
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]


class VirtualStage:
    """A virtual clock, simulators in this process, the step (`cli.main`) in this process through the
    simulator's transport: the benchmark's code paths in milliseconds, for the test suite's smoke runs.
    What the real stage runs at once runs here one after another (the step handles signals, which only
    the main thread can), on one clock: each deployment's figures are exact, the load of running at once
    is absent, and the peak RSS is this process's."""

    def __init__(self) -> None:
        self.clock = VirtualClock()

    def now(self) -> float:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)

    @contextmanager
    def simulator(self, scripts: list[JobScript]) -> Iterator[QoverySimulator]:
        yield QoverySimulator(scripts, clock=self.clock.now, wall=self.clock.now)

    def step(self, sim: QoverySimulator, variables: dict[str, str], timeout: float = 600) -> Ran:
        environ = {"QOVERY_API_TOKEN": TOKEN, "QOVERY_API_URL": sim.url} | variables
        out = io.StringIO()
        code = main([], environ, out, io.StringIO(), clock=self.clock, transport=self._transport(sim))
        return Ran(code, out.getvalue(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    def session(self, sim: QoverySimulator) -> requests.Session:
        session = requests.Session()
        session.mount("http://", self._transport(sim))
        session.mount("https://", self._transport(sim))
        return session

    def together(self, calls: Sequence[Callable[[], None]], stagger: float = 0.0) -> None:
        for call in calls:
            call()
            self.sleep(stagger)

    def _transport(self, sim: QoverySimulator) -> SimulatorAdapter:
        return SimulatorAdapter(sim, self.clock.sleep)


def noisy(rng: random.Random, value: float) -> float:
    return value * rng.lognormvariate(0.0, HISTORY_NOISE)


def write(out: Path, stem: str, text: str, data: Any) -> None:
    """`stem.md` (the Markdown report) and `stem.json` (its figures) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.md").write_text(text)
    (out / f"{stem}.json").write_text(json.dumps(data, indent=1))
