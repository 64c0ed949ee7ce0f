"""What the e2e checks drive: podman, act and gitlab-ci-local, as tests/e2e/run.sh set them up, and simulators
served by processes of their own for the runner runs that go at once.

Every process is run with a timeout, its output kept under the cache's logs/ directory (named after the
check), and every output scanned for the token with the suite's own scan (step.assert_secret_absent).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from support.contract import validate, validate_github
from support.github import REPOSITORY, FakeGitHub
from support.step import StepRun, assert_secret_absent

from qovery_job_deploy.simulator import DeploymentRequest, Exchange, QoverySimulator

REPO = Path(__file__).resolve().parents[2]
E2E = REPO / "tests" / "e2e"
CACHE = Path(os.environ.get("QJD_E2E_CACHE", REPO / ".cache" / "e2e"))
LOGS = CACHE / "logs"
IMAGE = "localhost/qovery-job-deploy:e2e"

# Upper bounds, so that a hang fails one check instead of eating CI's whole time budget.
RUN_TIMEOUT = 120  # one `podman run` of the image (a deployment takes ~2 s)
RUNNER_TIMEOUT = 600  # one act or gitlab-ci-local run, image build included
BUILD_TIMEOUT = 1200  # one image build

# Fake tokens that the simulator accepts (any `qov_` token); no output of any run may contain either. TOKEN is
# given to act as a secret, which act itself masks; VAR_TOKEN only as a configuration variable, which it does
# not: only the step's own `::add-mask::` keeps VAR_TOKEN out of the log.
TOKEN = f"qov_e2e_{secrets.token_urlsafe(18)}"
VAR_TOKEN = f"qov_var_{secrets.token_urlsafe(18)}"
# The job's GitHub token in every act run (its secret GITHUB_TOKEN, `${{ github.token }}`), which the fake GitHub
# accepts: without it act would take `gh auth token` from this machine. No output may contain it either.
GITHUB_TOKEN = f"ghs_e2e{secrets.token_urlsafe(18)}"

# Figures the checks measure: printed at the end of the session, the image's also written to
# image-metrics.json for benchmarks/run.py to quote.
METRICS: dict[str, str] = {}
T = TypeVar("T")


@dataclass(frozen=True)
class Setup:
    """What tests/e2e/run.sh prepared (its setup.json)."""

    base_mode: str  # "standin" (built from Debian packages) or "pull" (the Dockerfile's pinned base)
    act: Path
    gitlab_ci_local: Path
    helper_image: str  # bash, rsync, python3: gitlab-ci-local's helper and act's job image
    base_image_id: str
    lint_bin: Path  # zizmor, check-jsonschema
    wheels: Path  # the lock files' wheels for the base's interpreter: the PyPI mirror's (pypi_mirror.py)

    @classmethod
    def load(cls) -> Setup:
        path = CACHE / "setup.json"
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: run `bash tests/e2e/run.sh`, which sets up and runs these"
            )
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            base_mode=raw["base_mode"],
            act=Path(raw["act"]),
            gitlab_ci_local=Path(raw["gitlab_ci_local"]),
            helper_image=raw["helper_image"],
            base_image_id=raw["base_image_id"],
            lint_bin=Path(raw["lint_bin"]),
            wheels=Path(raw["wheels"]),
        )


@dataclass(frozen=True)
class Run:
    """One finished process: its exit code, what it printed, and when it started (wall clock)."""

    name: str
    code: int
    stdout: str
    stderr: str
    started_at: float
    seconds: float

    def tail(self, lines: int = 40) -> str:
        text = (self.stdout + "\n" + self.stderr).strip().splitlines()
        return f"--- last lines of {LOGS / self.name}.*:\n" + "\n".join(text[-lines:])

    def assert_no_token(self) -> None:
        for token in (TOKEN, VAR_TOKEN, GITHUB_TOKEN):
            assert_secret_absent(StepRun(self.code, self.stdout, self.stderr, self.seconds), token)


# podman 4.3 (Debian 12's) races a container's exit when it inspects that container: reading /proc/PID/cgroup
# of a process that has just ended gives ESRCH, which it returns as an error (containers/podman#16383, fixed
# in 4.4 by #16504). act lists a step's container the moment it exits, so now and then a job fails with
# "failed to list containers: Error response from daemon: read /proc/N/cgroup: no such process", nothing of
# the step's involved (seen once in about twenty e2e stages).
PODMAN_PROC_RACE = re.compile(r"read /proc/\d+/cgroup: no such process")
# gitlab-ci-local copies a job's artifacts out of its helper container the moment that container exits, which
# races podman 4.3's cleanup of it: the podman service logs `error in copier subprocess: ... merged: no such
# file or directory`, and gitlab-ci-local finds no artifacts directory at all (ENOENT on scandir). One
# gitlab-ci-local run at a time (runs._gitlab) made it rare, not impossible (seen again on 2026-12-06).
GITLAB_ARTIFACTS_LOST = re.compile(
    r"ENOENT: no such file or directory, scandir '[^']*/\.gitlab-ci-local/artifacts/"
)
PODMAN_COPIER_RACE = re.compile(r"error in copier subprocess: .*merged: no such file or directory")
PODMAN_SERVICE_LOG = LOGS / "podman-service.log"


class PodmanRaced(Exception):
    """A runner run that met one of podman 4.3's races (PODMAN_PROC_RACE; GITLAB_ARTIFACTS_LOST with
    PODMAN_COPIER_RACE in the podman service's log): its launch runs again, from scratch, once."""

    def __init__(self, run: Run, evidence: str) -> None:
        super().__init__(f"{run.name}: podman 4.3's race: {evidence}")
        self.run = run


RETRIED: list[str] = []  # the runs that met podman's race (once_more_if_podman_raced), for the e2e figures


def once_more_if_podman_raced(attempt: Callable[[], T], retried: list[str] = RETRIED) -> T:
    """`attempt()`, and once more from scratch when a runner in it met one of podman 4.3's races (PodmanRaced),
    which is podman's and says nothing of the step; each race noted in `retried` (the e2e figures list RETRIED).
    The attempt makes all it uses anew (its simulators, its fake GitHub, its copies). A second race fails the
    checks that read it."""
    try:
        return attempt()
    except PodmanRaced as raced:
        retried.append(str(raced))
        return attempt()


def unless_podman_raced(run: Run, service_log: str = "") -> Run:
    """`run`, or PodmanRaced when podman's race is in what it printed (PODMAN_PROC_RACE), or when its
    artifacts were lost (GITLAB_ARTIFACTS_LOST, a gitlab-ci-local run) as the podman service logged its
    copier's race (`service_log`: what it logged while the run went)."""
    printed = run.stdout + "\n" + run.stderr
    if found := PODMAN_PROC_RACE.search(printed):
        raise PodmanRaced(run, found.group(0))
    lost, copier = GITLAB_ARTIFACTS_LOST.search(printed), PODMAN_COPIER_RACE.search(service_log)
    if lost and copier:
        raise PodmanRaced(run, f"{lost.group(0)}...; the podman service: {copier.group(0)}")
    return run


def service_log_size() -> int:
    """Where the podman service's log ends now (0 while there is none)."""
    return PODMAN_SERVICE_LOG.stat().st_size if PODMAN_SERVICE_LOG.exists() else 0


def service_log_since(offset: int) -> str:
    """What the podman service logged since `offset`."""
    if not PODMAN_SERVICE_LOG.exists():
        return ""
    with PODMAN_SERVICE_LOG.open("rb") as log:
        log.seek(offset)
        return log.read().decode("utf-8", "replace")


def podman_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every podman, act and gitlab-ci-local process: the private containers.conf."""
    return os.environ | {"CONTAINERS_CONF": str(E2E / "containers.conf")} | (extra or {})


def run(
    name: str,
    argv: Sequence[str | Path],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run to completion (killed at `timeout`: exit code 124 then), output kept in LOGS/name.{out,err}."""
    started_at, started = time.time(), time.monotonic()
    try:
        done = subprocess.run(
            [str(arg) for arg in argv],
            env=env or podman_env(),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
        code, stdout, stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        code = 124
        stdout = _text(expired.stdout)
        stderr = _text(expired.stderr) + f"\n(killed after {timeout} s)"
    result = Run(name, code, stdout, stderr, started_at, time.monotonic() - started)
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / f"{name}.out").write_text(stdout, encoding="utf-8")
    (LOGS / f"{name}.err").write_text(stderr, encoding="utf-8")
    return result


def _text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return output or ""


def podman(*args: str | Path, name: str = "podman", timeout: float = RUN_TIMEOUT) -> Run:
    return run(name, ["podman", *args], timeout=timeout)


def image_size(image: str) -> int:
    return int(podman("image", "inspect", "--format", "{{.Size}}", image).stdout.strip())


def metric(name: str, value: float | str) -> None:
    METRICS[name] = f"{value:.1f}" if isinstance(value, float) else value


def scratch_repo(directory: Path) -> Path:
    """A copy of the working tree (tracked and untracked files, not ignored ones) as a fresh one-commit
    git repository: the runners read git metadata, and gitlab-ci-local copies only tracked files."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = REPO / relative
        if source.is_file():  # deleted but still tracked files are skipped
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(directory, "init", "-q", "-b", "main")
    commit_all(directory, "e2e snapshot")
    return directory


def runner_repo(directory: Path, setup: Setup) -> Path:
    """A scratch repository for a runner. On the stand-in base, the Dockerfile's FROM lines lose their
    digest (podman can't tag the stand-in by digest, and a runner's build takes no --build-arg);
    nothing else changes."""
    repo = scratch_repo(directory)
    if setup.base_mode == "standin":
        dockerfile = repo / "Dockerfile"
        text = dockerfile.read_text(encoding="utf-8")
        dockerfile.write_text(re.sub(r"@sha256:[0-9a-f]{64}", "", text), encoding="utf-8")
        commit_all(repo, "e2e: base without digest")
    return repo


def act_repo(directory: Path, setup: Setup) -> Path:
    """A scratch repository for act (`runner_repo`) whose remote `origin` is the fake GitHub's repository, acme/shop:
    act takes GITHUB_REPOSITORY from it (nektos/act without one)."""
    repo = runner_repo(directory, setup)
    git(repo, "remote", "add", "origin", f"https://github.com/{REPOSITORY}.git")
    return repo


def git(directory: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@localhost", "-c", "commit.gpgsign=false", *args],
        cwd=directory,
        check=True,
        capture_output=True,
    )


def commit_all(directory: Path, message: str) -> None:
    git(directory, "add", "-A")
    git(directory, "commit", "-q", "--allow-empty", "-m", message)


def head_commit(directory: Path) -> str:
    """The commit a runner takes for the pushed one (`github.sha`, `CI_COMMIT_SHA`)."""
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, check=True
    ).stdout.strip()


class _ServedProcess:
    """What tests/e2e/serve_simulator.py serves on 127.0.0.1 in real time, in a process of its own: the runner runs
    that go at once then never wait on the test process (its GIL, the contract checks). Its URL comes first; what it
    saw comes back, pickled, when it stops."""

    def __init__(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.name = name
        with (LOGS / f"{name}.simulator.err").open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, E2E / "serve_simulator.py", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=os.environ | (env or {}),
            )
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().decode().strip()
        if not self.url:
            self._process.kill()
            self._process.wait()
            raise RuntimeError(f"{name} did not start: see {LOGS / name}.simulator.err")

    def _stop(self) -> Any:
        """Stop serving (once): it closes its stdin, then prints its record (its URL, the first line, was read)."""
        out, _ = self._process.communicate(timeout=60)
        return pickle.loads(out)  # noqa: S301 - our own child's output


class SimulatorProcess(_ServedProcess):
    """The simulator's built-in services, as `served()` has them (with `previews`, and staging, the previews'
    blueprint, as `python -m qovery_job_deploy.simulator` has them), served by a process of its own. Every answered
    exchange is checked against the OpenAPI spec when it stops, as a served simulator checks each one as it
    answers."""

    def __init__(self, name: str, *, previews: bool = False) -> None:
        super().__init__(name, *(["previews"] if previews else []))  # and staging, the previews' blueprint
        self._record: QoverySimulator | None = None

    def stop(self) -> QoverySimulator:
        """Stop serving (once; later calls return the same record): a simulator holding what this one saw, its
        exchanges checked against the spec (`unexpected_contract_errors`)."""
        if self._record is None:
            requests, exchanges, services, places = self._stop()
            record = QoverySimulator()
            record.url, record.requests, record.exchanges = self.url, requests, exchanges
            record.services, record.places = services, places  # as they were when it stopped
            # The exchanges a served simulator checks: those it answered (a reset or a hang has no status).
            record.contract_errors = [
                error for exchange in exchanges if exchange.status for error in validate(exchange)
            ]
            self._record = record
        return self._record

    @property
    def exchanges(self) -> list[Exchange]:
        return self._stopped().exchanges

    def deployments_of(self, job_id: str) -> list[DeploymentRequest]:
        return self._stopped().deployments_of(job_id)

    def _stopped(self) -> QoverySimulator:
        assert self._record is not None, f"the simulator {self.name} is read before it stopped"
        return self._record


class GitHubProcess(_ServedProcess):
    """The fake GitHub API of tests/support/github.py (repository acme/shop, token GITHUB_TOKEN) served by a process
    of its own; what it saw (`FakeGitHub`, its exchanges checked against GitHub's subset) once it stopped."""

    def __init__(self, name: str) -> None:
        super().__init__(name, "github", env={"QJD_E2E_GITHUB_TOKEN": GITHUB_TOKEN})
        self._record: FakeGitHub | None = None

    def stop(self) -> FakeGitHub:
        if self._record is None:
            record = FakeGitHub(token=GITHUB_TOKEN, url=self.url)
            record.exchanges, record.deployments, record.statuses, record.comments = self._stop()
            record.contract_errors = [
                error
                for exchange in record.exchanges
                if exchange.status
                for error in validate_github(exchange)
            ]
            self._record = record
        return self._record
