"""The image as podman builds and runs it: size, layer caching, contents, and runs against the simulator
(success, failure, signals, an unprivileged user), the token never shown."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from support.sims import SimFactory, finish, served

from qovery_job_deploy.simulator import FAILURE_JOB, SLOW_JOB, SUCCESS_JOB, QoverySimulator

from .conftest import BuiltImage
from .harness import (
    BUILD_TIMEOUT,
    LOGS,
    RUN_TIMEOUT,
    TOKEN,
    Run,
    Setup,
    metric,
    podman,
    podman_env,
    run,
    runner_repo,
)

# The image adds the interpreter's venv, the package and its two dependencies to its base: about 15 MB.
# Twice that means something unintended got in (a pip cache, the sources, build tools).
MAX_MB_ABOVE_BASE = 30


def test_cold_build_adds_little_to_its_base(image: BuiltImage) -> None:
    above = (image.size - image.base_size) / 1e6
    assert above < MAX_MB_ABOVE_BASE, (
        f"the image adds {above:.1f} MB to its base, over {MAX_MB_ABOVE_BASE} MB"
    )


@pytest.mark.timeout(BUILD_TIMEOUT * 2)
def test_rebuild_after_a_source_change_downloads_nothing(
    image: BuiltImage, setup: Setup, build_context: Path, tmp_path: Path
) -> None:
    # The --no-cache build made a new chain of layers beside any from earlier runs; one cached build of
    # the same sources settles which chain podman follows from now on.
    prime = run(
        "build-prime",
        ["podman", "build", "--network=host", "-t", image.name, build_context],
        timeout=BUILD_TIMEOUT,
    )
    assert prime.code == 0, prime.tail()
    # A copy of the build context with one source file changed: content, not mtime, decides the cache.
    context = runner_repo(tmp_path / "context", setup)
    init = context / "src" / "qovery_job_deploy" / "__init__.py"
    init.write_text(
        init.read_text(encoding="utf-8") + f"\n# e2e warm rebuild {uuid.uuid4()}\n", encoding="utf-8"
    )
    warm = run(
        "build-warm",
        ["podman", "build", "--network=host", "-t", f"{image.name}-warm", context],
        timeout=BUILD_TIMEOUT,
    )
    podman("rmi", f"{image.name}-warm")
    assert warm.code == 0, warm.tail()
    metric("image rebuild after a source change (s)", warm.seconds)
    lines = warm.stdout.splitlines()
    pip_steps = [i for i, line in enumerate(lines) if "STEP" in line and "--require-hashes" in line]
    assert pip_steps, f"no `pip install --require-hashes` step in the build log\n{warm.tail()}"
    assert all(lines[i + 1].startswith("--> Using cache") for i in pip_steps), (
        f"the dependency layer was rebuilt after a source-only change\n{warm.tail(30)}"
    )
    downloads = [line for line in lines if line.startswith(("Collecting ", "Downloading "))]
    assert not downloads, f"the rebuild after a source-only change downloaded packages: {downloads[:5]}"


@pytest.mark.usefixtures("runs")  # it times nothing: the runner runs go beside it
def test_image_holds_the_program_and_nothing_to_build_with(image: BuiltImage) -> None:
    probe = podman(
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        image.name,
        "-c",
        """command -v qovery-job-deploy || echo NO-CONSOLE-SCRIPT
        test -f /app/entrypoint.py || echo NO-ENTRYPOINT-PY
        python -m pip --version >/dev/null 2>&1 && echo PIP-LEFT-IN-IMAGE
        test -d /src && echo SOURCES-LEFT-IN-IMAGE
        python -c "import qovery_job_deploy, requests, pydantic_settings" || echo IMPORT-FAILED
        true""",
        name="image-contents",
    )
    assert probe.code == 0, probe.tail()
    for problem in (
        "NO-CONSOLE-SCRIPT",
        "NO-ENTRYPOINT-PY",
        "PIP-LEFT-IN-IMAGE",
        "SOURCES-LEFT-IN-IMAGE",
        "IMPORT-FAILED",
    ):
        assert problem not in probe.stdout + probe.stderr, probe.tail()
    config = json.loads(podman("image", "inspect", "--format", "{{json .Config}}", image.name).stdout)
    assert "PYTHONUNBUFFERED=1" in config["Env"]
    # Exec form: the program is PID 1 and receives the signals itself.
    assert config["Entrypoint"] == ["python", "/app/entrypoint.py"]


def podman_run_argv(image: BuiltImage, sim: QoverySimulator, job: str, *options: str) -> list[str]:
    # The token goes through the environment (inherited by name), never the command line.
    return ["podman", "run", "--network=host", "-e", "QOVERY_API_TOKEN", "-e", f"QOVERY_JOB_ID={job}",
            "-e", f"QOVERY_API_URL={sim.url}", *options, image.name]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "job", "options", "code", "state"),
    [
        ("run-success", SUCCESS_JOB, [], 0, "DEPLOYED"),
        # No USER in the Dockerfile (GitHub needs root), and nothing else needs root: prove it.
        ("run-nonroot", SUCCESS_JOB, ["--user", "65534:65534"], 0, "DEPLOYED"),
        ("run-failure", FAILURE_JOB, [], 1, "DEPLOYMENT_ERROR"),
    ],
    ids=["success", "nonroot", "failure"],
)
@pytest.mark.usefixtures("runs")  # it times nothing: the runner runs go beside it
def test_podman_run(
    image: BuiltImage,
    served_simulator: SimFactory,
    name: str,
    job: str,
    options: list[str],
    code: int,
    state: str,
) -> None:
    sim = served_simulator()
    result = run(name, [*podman_run_argv(image, sim, job, "--rm", *options)], timeout=RUN_TIMEOUT,
                 env=podman_env({"QOVERY_API_TOKEN": TOKEN}))  # fmt: skip
    result.assert_no_token()
    assert result.code == code, result.tail()
    assert json.loads(result.stdout)["state"] == state, (
        "stdout is not exactly one JSON object with that state"
    )
    assert len(sim.deployments_of(job)) == 1, "one deployment requested, no more"


# How each signal is sent, and the exit code it must end the run with.
SIGNALS = [
    ("sigterm", signal.SIGTERM, "podman-kill", 143),
    ("sigterm-proxy", signal.SIGTERM, "proxy", 143),  # to `podman run`, which forwards it
    ("sigint", signal.SIGINT, "podman-kill", 130),
]


@pytest.fixture(scope="module")
def signalled(image: BuiltImage) -> Iterator[dict[str, Future[tuple[Run, float]]]]:
    """Each of SIGNALS sent to a run of the image polling a long deployment, by name: the run, and how long it
    took to stop. The three runs start at once and reach their polling side by side; then each is signalled in
    its turn, alone, so that the seconds it is timed in are as quiet as when they ran one after another."""
    sims = {name: served() for name, *_ in SIGNALS}
    turn = threading.Lock()
    try:
        with ThreadPoolExecutor(len(SIGNALS)) as pool:
            yield {
                name: pool.submit(signal_a_run, image, sims[name], name, signum, how, turn)
                for name, signum, how, _ in SIGNALS
            }
    finally:
        for sim in sims.values():
            finish(sim)


def signal_a_run(
    image: BuiltImage, sim: QoverySimulator, name: str, signum: signal.Signals, how: str, turn: threading.Lock
) -> tuple[Run, float]:
    container = f"qjd-e2e-{name}-{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen(
        podman_run_argv(image, sim, SLOW_JOB, "--name", container),
        env=podman_env({"QOVERY_API_TOKEN": TOKEN}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Wait until the program polls the deployment it requested: past start-up, mid-wait.
        give_up = time.monotonic() + 30
        while sim.calls("request_status") + sim.calls("status") < 2 or not sim.deployments_of(SLOW_JOB):
            assert process.poll() is None and time.monotonic() < give_up, "the step never got to polling"
            time.sleep(0.1)
        with turn:
            time.sleep(0.5)
            sent = time.monotonic()
            if how == "podman-kill":
                podman("kill", "--signal", signum.name.removeprefix("SIG"), container)
            else:
                process.send_signal(signum)
            stdout, stderr = process.communicate(timeout=10)
            took = time.monotonic() - sent
            podman("rm", "--force", "--time", "0", container)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
            podman("rm", "--force", "--time", "0", container)
    result = Run(name, process.returncode, stdout, stderr, 0.0, took)
    (LOGS / f"{name}.out").write_text(stdout, encoding="utf-8")
    (LOGS / f"{name}.err").write_text(stderr, encoding="utf-8")
    return result, took


@pytest.mark.parametrize(("name", "signum", "how", "code"), SIGNALS, ids=[name for name, *_ in SIGNALS])
def test_signal_ends_the_run_within_2_seconds(
    signalled: dict[str, Future[tuple[Run, float]]], name: str, signum: signal.Signals, how: str, code: int
) -> None:
    result, took = signalled[name].result()
    result.assert_no_token()
    assert result.code == code, result.tail()
    assert took <= 2.0, f"took {took:.1f} s to stop after {signum.name}, limit 2 s"
