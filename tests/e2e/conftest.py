"""Fixtures of the e2e checks: the image (built cold once), podman's Docker API for the runners, the
scratch repositories the runners work in, and the runner runs, all started at once (`runs`). Every test here is marked `e2e`: the default `pytest` run
leaves them out; `bash tests/e2e/run.sh` sets the machine up and runs them (`pytest -m e2e`)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.github import finish_github
from support.sims import finish

from .harness import (
    BUILD_TIMEOUT,
    CACHE,
    IMAGE,
    LOGS,
    METRICS,
    PODMAN_SERVICE_LOG,
    REPO,
    RETRIED,
    Setup,
    act_repo,
    commit_all,
    image_size,
    metric,
    podman,
    podman_env,
    run,
    runner_repo,
)
from .runners import Act, GitlabCiLocal
from .runs import Runners, Runs


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)
    # The checks that run alone first, those that time something (the image's builds and signals, act's
    # start-up), the image's before the runners'; then those that go beside or read the runner runs (fixture
    # `runs`), which start at the first of them.
    items.sort(
        key=lambda item: (
            "runs" in getattr(item, "fixturenames", ()),
            MODULE_ORDER.get(Path(str(item.fspath)).stem, 0),
        )
    )


MODULE_ORDER = {"test_image": -4, "test_gitlab": -3, "test_act": -2, "test_readme_examples": -1}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not METRICS:
        return
    lines = [f"{name:<64} {value}" for name, value in METRICS.items()]
    lines += [f"run once more after a podman 4.3 race: {raced}" for raced in RETRIED]
    terminalreporter.write_sep("-", "e2e figures")
    for line in lines:
        terminalreporter.write_line(line)
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    image = {name: value for name, value in METRICS.items() if name.startswith("image")}
    if image:  # for benchmarks/run.py to quote beside its own figures
        (CACHE / "image-metrics.json").write_text(json.dumps(image) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def setup() -> Setup:
    return Setup.load()


@dataclass(frozen=True)
class BuiltImage:
    name: str
    build_seconds: float
    size: int  # bytes, as podman counts them
    base_size: int


@pytest.fixture(scope="session")
def build_context(setup: Setup, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What podman builds: a copy of the working tree, its FROM without digest on the stand-in base."""
    return runner_repo(tmp_path_factory.mktemp("build") / "context", setup)


@pytest.fixture(scope="session")
def image(setup: Setup, build_context: Path) -> BuiltImage:
    """The image, built cold (no layer cache) from the working tree: never a stale one."""
    podman("rmi", "--force", IMAGE)
    build = run(
        "build-cold",
        ["podman", "build", "--no-cache", "--network=host", "-t", IMAGE, build_context],
        timeout=BUILD_TIMEOUT,
    )
    if build.code != 0:
        pytest.fail(f"podman build failed (exit {build.code})\n{build.tail()}")
    built = BuiltImage(IMAGE, build.seconds, image_size(IMAGE), image_size(setup.base_image_id))
    metric("image build, cold (s)", built.build_seconds)
    metric("image size above its base (MB)", (built.size - built.base_size) / 1e6)
    metric("image size, total (MB)", built.size / 1e6)
    return built


@pytest.fixture(scope="session")
def docker_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """podman's Docker-compatible API, which act and gitlab-ci-local talk to; stopped by PID afterwards."""
    socket = tmp_path_factory.mktemp("podman") / "podman.sock"
    log = PODMAN_SERVICE_LOG.open("w")
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        env=podman_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        give_up = time.monotonic() + 10
        while not socket.exists() and service.poll() is None and time.monotonic() < give_up:
            time.sleep(0.1)
        if not socket.exists():
            pytest.fail(f"podman system service did not start: see {PODMAN_SERVICE_LOG}")
        yield f"unix://{socket}"
    finally:
        service.terminate()
        try:
            service.wait(timeout=5)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()
        log.close()


@pytest.fixture(scope="session")
def act(setup: Setup, docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Act]:
    home = tmp_path_factory.mktemp("act")
    yield Act(setup, docker_host, act_repo(home / "repo", setup), home)
    # act names its containers after the workflow and job; remove any an interrupted run left.
    names = podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    for name in names:
        if name.startswith("act-e2e-"):
            podman("rm", "--force", "--time", "0", name)
    podman("rmi", "act-dockeraction:latest")


@pytest.fixture(scope="session")
def act_release(act: Act, image: BuiltImage, tmp_path_factory: pytest.TempPathFactory) -> Act:
    """act in a repository whose action.yml is what a release commit has: the image by digest
    (scripts/release_action.py), here the one just built, referenced as docker://localhost/...@sha256:..."""
    digest = podman("image", "inspect", "--format", "{{.Digest}}", image.name).stdout.strip()
    repo = act_repo(tmp_path_factory.mktemp("act-release") / "repo", act.setup)
    done = run(
        "release-action",
        [
            sys.executable,
            REPO / "scripts" / "release_action.py",
            repo / "action.yml",
            "--image",
            image.name,
            "--digest",
            digest,
        ],
        timeout=30,
    )
    assert done.code == 0, done.tail()
    commit_all(repo, "release: action.yml uses the pre-built image")
    return dataclasses.replace(act, repo=repo)


@pytest.fixture(scope="session")
def gitlab_ci_local(
    setup: Setup, docker_host: str, tmp_path_factory: pytest.TempPathFactory
) -> GitlabCiLocal:
    home = tmp_path_factory.mktemp("gitlab-ci-local")
    return GitlabCiLocal(setup, docker_host, runner_repo(home / "repo", setup), home / "home")


@pytest.fixture(scope="session")
def runs(
    request: pytest.FixtureRequest,
    act_release: Act,
    gitlab_ci_local: GitlabCiLocal,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Runs]:
    """Every runner run the selected checks read (runs.py), started at once when the first check that goes beside
    or reads them begins, after the checks that run alone (they time something: the image's builds and signals,
    act's start-up). At the end, each simulator they reached stops if it still serves, and any exchange that broke
    the OpenAPI contract fails the session."""
    modules = {Path(str(item.fspath)).stem for item in request.session.items}
    with ThreadPoolExecutor(max_workers=16, thread_name_prefix="e2e-run") as pool:
        runners = Runners(act_release, gitlab_ci_local, tmp_path_factory.mktemp("runs"))
        started = Runs(runners, pool)
        started.start(modules)
        yield started
    for sim in started.sims:
        finish(sim.stop())
    for github in started.githubs:
        finish_github(github.stop())
