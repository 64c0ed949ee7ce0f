"""Runs the step with the environment each CI platform gives a container step: in this process, on the
simulator's virtual clock, when the API URL is an in-process simulator's; else entrypoint.py as a
subprocess (a served simulator, a closed port, a name that does not resolve)."""

from __future__ import annotations

import copy
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from requests.adapters import BaseAdapter

from qovery_job_deploy.cli import main
from qovery_job_deploy.clock import VirtualClock
from qovery_job_deploy.simulator.transport import SimulatorAdapter
from support.github import GITHUB_IN_PROCESS, GITHUB_SERVED, GITHUB_TOKEN, Routed
from support.runner_files import parse_dotenv, parse_github_output, parse_result_file
from support.sims import IN_PROCESS, SERVED

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "entrypoint.py"
# What the runner makes of an expression in an input's `default:` (github-token's).
WORKFLOW_VALUES = {"${{ github.token }}": GITHUB_TOKEN}
# The variables that may hold a token: every run is scanned for each of their values.
SECRET_VARIABLES = (
    "QOVERY_API_TOKEN",
    "INPUT_API-TOKEN",
    "QOVERY_GITHUB_TOKEN",
    "INPUT_GITHUB-TOKEN",
    "GITHUB_TOKEN",
)


@dataclass
class StepRun:
    code: int
    stdout: str
    stderr: str
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.stdout)
        return result

    def outputs(self) -> dict[str, str]:
        # Bytes, not read_text: universal newlines would turn a value's CR LF into LF; the runner splits on LF.
        return parse_github_output(self.files["output"].read_bytes().decode("utf-8"))

    def summary(self) -> str:
        return self.files["summary"].read_text(encoding="utf-8")

    def dotenv(self) -> dict[str, str]:
        return parse_dotenv(self.files["dotenv"])

    def shown(self) -> str:
        """What a person reads in the CI log: both streams (on GitHub the annotations are on stdout)."""
        return self.stderr + self.stdout

    def result_file(self) -> dict[str, Any]:
        """The JSON result GitLab keeps as an artifact (qovery-result.json), as `jq` would read it."""
        return parse_result_file(self.files["result"])

    def json_result(self) -> dict[str, Any]:
        """The JSON result wherever this runner puts it: stdout, GitHub's `result` output, GitLab's file."""
        if "output" in self.files:
            result: dict[str, Any] = json.loads(self.outputs()["result"])
            return result
        if "result" in self.files:
            return self.result_file()
        return self.json()

    def problems(self) -> list[str]:
        """Each problem as the log shows it: its `error:` line, or on GitHub its error annotation's text
        (a problem is said once: not both)."""
        said = [line.split("] error: ", 1)[1] for line in self.stderr.splitlines() if "] error: " in line]
        for line in self.stdout.splitlines():
            if line.startswith("::error "):
                text = line.split("::", 2)[2]
                said.append(text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%"))
        return said

    def everything(self) -> str:
        """All that the step printed or wrote, for secret scans."""
        texts = [self.stdout, self.stderr]
        texts += [path.read_text(encoding="utf-8") for path in self.files.values() if path.exists()]
        return "\n".join(texts)


def assert_refused(run: StepRun, said: str) -> None:
    """An input error (exit 2), one of whose lines starts with `said`."""
    assert run.code == 2, run.stderr
    assert any(problem.startswith(said) for problem in run.problems()), run.problems()


def base_env() -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


def declared_inputs() -> dict[str, Any]:
    """The inputs action.yml declares: the runner sets each of them, to its `default:` or empty when the
    workflow omits it."""
    return copy.deepcopy(_action()["inputs"])


@cache
def _action() -> dict[str, Any]:
    """action.yml, parsed once per worker rather than once per GitHub run of the step (about a second of
    the suite)."""
    action: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return action


def github_env(tmp: Path, inputs: dict[str, str]) -> tuple[dict[str, str], dict[str, Path]]:
    """As the GitHub runner starts a container action: INPUT_<NAME> with hyphens kept, every declared
    input present (its action.yml `default:`, or empty, when not given), and the runner's files."""
    files = {"output": tmp / "github_output", "summary": tmp / "step_summary"}
    for path in files.values():
        path.write_text("")
    env = base_env() | {"GITHUB_ACTIONS": "true", "CI": "true"}
    env |= {"GITHUB_OUTPUT": str(files["output"]), "GITHUB_STEP_SUMMARY": str(files["summary"])}
    for name, spec in declared_inputs().items():
        default = str(spec.get("default", ""))
        env[f"INPUT_{name.upper()}"] = WORKFLOW_VALUES.get(default, default)
    for name, value in inputs.items():
        env[f"INPUT_{name.upper()}"] = value
    return env, files


def plain_env(variables: dict[str, str]) -> dict[str, str]:
    """As `docker run -e QOVERY_...`."""
    return base_env() | {
        f"QOVERY_{name.upper().replace('-', '_')}": value for name, value in variables.items()
    }


def gitlab_env(tmp: Path, variables: dict[str, str]) -> tuple[dict[str, str], dict[str, Path]]:
    env = plain_env(variables) | {"GITLAB_CI": "true", "CI": "true", "CI_PROJECT_DIR": str(tmp)}
    return env, {"dotenv": tmp / "qovery.env", "result": tmp / "qovery-result.json"}


def platform_env(platform: str, tmp: Path, inputs: dict[str, str]) -> tuple[dict[str, str], dict[str, Path]]:
    """The environment (and the runner's files) of `github`, `gitlab` or `plain` (`docker run`)."""
    if platform == "github":
        return github_env(tmp, inputs)
    if platform == "gitlab":
        return gitlab_env(tmp, inputs)
    return plain_env(inputs), {}


def run_on(platform: str, tmp: Path, inputs: dict[str, str]) -> StepRun:
    """The step as `platform` runs it (`github`, `gitlab` or `plain`) with these inputs."""
    return run_step(*platform_env(platform, tmp, inputs))


def run_step(
    env: dict[str, str],
    files: dict[str, Path] | None = None,
    *,
    args: list[str] | None = None,
    signal_when: Callable[[], bool] | None = None,
    signum: int = signal.SIGTERM,
    timeout: float = 60,
) -> StepRun:
    """In this process when nothing outside it is the point: against an in-process simulator through its
    transport, or with no simulator at all (input errors, --help, a closed port, a name that does not
    resolve) on the real network; a served simulator, or a signal, needs a process of its own."""
    url = _api_url(env, args or [])
    if signal_when is not None or url in SERVED or env.get("GITHUB_API_URL") in GITHUB_SERVED:
        return run_subprocess(env, files, args=args, signal_when=signal_when, signum=signum, timeout=timeout)
    reached = IN_PROCESS.get(url)
    if reached is None:
        return run_in_process(env, files, args=args)
    sim, clock = reached
    transport: BaseAdapter = SimulatorAdapter(sim, clock.sleep)
    if github := GITHUB_IN_PROCESS.get(env.get("GITHUB_API_URL", "")):  # GitHub's calls to the fake GitHub
        transport = Routed({sim.url: transport, github.url: SimulatorAdapter(github, clock.sleep)})
    return run_in_process(env, files, args=args, clock=clock, transport=transport)


def run_in_process(
    env: dict[str, str],
    files: dict[str, Path] | None = None,
    *,
    args: list[str] | None = None,
    clock: VirtualClock | None = None,
    transport: BaseAdapter | None = None,
) -> StepRun:
    """The command (`cli.main`) in this process, on a virtual clock: nothing really waits. Without a
    transport it uses the real network, its retries paced in virtual time. `seconds` is virtual time."""
    clock = clock or VirtualClock()
    stdout, stderr = io.StringIO(), io.StringIO()
    started = clock.now()
    code = main(args or [], env, stdout, stderr, clock=clock, transport=transport)
    step = StepRun(code, stdout.getvalue(), stderr.getvalue(), clock.now() - started, files or {})
    _scan_for_secrets(step, env)
    return step


def _api_url(env: dict[str, str], args: list[str]) -> str:
    for index, arg in enumerate(args):
        if arg.startswith("--api-url="):
            return arg.split("=", 1)[1]
        if arg == "--api-url" and index + 1 < len(args):
            return args[index + 1]
    return env.get("INPUT_API-URL") or env.get("QOVERY_API_URL") or ""


def run_subprocess(
    env: dict[str, str],
    files: dict[str, Path] | None = None,
    *,
    args: list[str] | None = None,
    signal_when: Callable[[], bool] | None = None,
    signum: int = signal.SIGTERM,
    timeout: float = 60,
) -> StepRun:
    """entrypoint.py in a process of its own, as a runner starts it."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(ENTRYPOINT), *(args or [])],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    if signal_when is not None:  # signal once the condition holds (e.g. the step has read a status)
        give_up = time.monotonic() + timeout
        while not signal_when() and process.poll() is None and time.monotonic() < give_up:
            time.sleep(0.05)
        time.sleep(0.5)  # the condition is seen from the simulator: let the step digest that answer
        process.send_signal(signum)
        started = time.monotonic()  # for signals, `seconds` measures how long the step took to stop
    stdout, stderr = process.communicate(timeout=timeout)
    step = StepRun(process.returncode, stdout, stderr, time.monotonic() - started, files or {})
    _scan_for_secrets(step, env)
    return step


def _scan_for_secrets(step: StepRun, env: dict[str, str]) -> None:
    for secret in {env.get(variable, "") for variable in SECRET_VARIABLES} - {""}:
        assert_secret_absent(step, secret)


def assert_secret_absent(run: StepRun, secret: str) -> None:
    """Every run of the suite is scanned: the token, or any 8-character piece of it, must appear nowhere
    (the `::add-mask::` line, which GitHub consumes and never shows, excepted)."""
    text = run.everything().replace(f"::add-mask::{secret}\n", "")
    pieces = {secret[i : i + 8] for i in range(max(1, len(secret) - 7))} if len(secret) >= 8 else {secret}
    leaked = sorted(piece for piece in pieces if piece in text)
    assert not leaked, f"the token leaked: {len(leaked)} pieces of it appear in the step's output"
