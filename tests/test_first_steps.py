"""A new user's first steps: the README's quick start creates `.venv/bin/...` without activating it, so every
command the README, the demo and the simulator then suggest must be one the shell can run from there."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
from pathlib import Path

import pytest
from support.sims import TOKEN, SimFactory
from support.step import ROOT, base_env, run_step

from qovery_job_deploy.demo import SCENARIOS
from qovery_job_deploy.invocation import PROG, Commands, commands
from qovery_job_deploy.simulator import QoverySimulator, builtin_services
from qovery_job_deploy.simulator.__main__ import introduction

QUICK_START = Commands(step=f".venv/bin/{PROG}", python=".venv/bin/python")


def executable(path: Path, target: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if target is not None:
        path.symlink_to(target)
    else:
        path.write_text("#!/bin/sh\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def venv(repo: Path, *, console_script: bool = True) -> Path:
    """What `python3 -m venv .venv && .venv/bin/pip install -e .` leaves: python3, python -> python3, and
    pip's console script beside them. Returns the interpreter as a console script's shebang names it."""
    bin_dir = repo / ".venv" / "bin"
    interpreter = executable(bin_dir / "python3")
    executable(bin_dir / "python", "python3")
    if console_script:
        executable(bin_dir / PROG)
    return interpreter


@pytest.mark.parametrize(
    ("repo", "cwd", "on_path", "console_script", "expected"),
    [
        # The quick start: in the clone, the venv not activated.
        ("repo", "repo", False, True, QUICK_START),
        # The venv activated (or the image, where PATH has /opt/venv/bin): the bare names.
        ("repo", "repo", True, True, Commands(step=PROG, python="python")),
        # From another directory: a path that works from anywhere.
        (
            "repo",
            "elsewhere",
            False,
            True,
            Commands("{tmp}/repo/.venv/bin/" + PROG, "{tmp}/repo/.venv/bin/python"),
        ),
        # A path with a space is quoted for the shell.
        ("my repo", ".", False, True, Commands(f"'my repo/.venv/bin/{PROG}'", "'my repo/.venv/bin/python'")),
        # No console script (the sources on PYTHONPATH): the package through its interpreter.
        ("repo", "repo", False, False, Commands(".venv/bin/python -m qovery_job_deploy", ".venv/bin/python")),
    ],
)
def test_commands_are_named_as_the_shell_would_run_this_installation(
    tmp_path: Path, repo: str, cwd: str, on_path: bool, console_script: bool, expected: Commands
) -> None:
    interpreter = venv(tmp_path / repo, console_script=console_script)
    (tmp_path / "elsewhere").mkdir()
    other = tmp_path / "usr-bin"  # another python on PATH, as /usr/bin has: not ours
    executable(other / "python")
    path = os.pathsep.join([str(interpreter.parent)] * on_path + [str(other)])

    found = commands(str(interpreter), cwd=tmp_path / cwd, path=path)

    assert found == Commands(expected.step.format(tmp=tmp_path), expected.python.format(tmp=tmp_path))


def runnable(command: str, path: str) -> bool:
    """Whether a shell in this directory, with this PATH, would find the command's program."""
    words = shlex.split(command)
    program = next(word for word in words if not re.fullmatch(r"[A-Z_]+=\S*", word))  # after VAR=value
    if "/" in program:
        return os.access(program, os.X_OK)
    return shutil.which(program, path=path) is not None


def test_the_demo_suggests_only_commands_the_user_can_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the quick start, in the clone, with the venv not on PATH: the demo's "Next:" commands, and the
    one it shows for the user's own job, each run as printed."""
    monkeypatch.chdir(ROOT)
    env = base_env() | {"PATH": os.defpath}  # not activated: no .venv/bin on PATH
    run = run_step(env, args=["demo"])

    assert run.code == 0, run.stderr
    after = run.stdout.split("\nNext:\n", 1)[1]
    suggested = [line.strip() for line in after.splitlines() if line.startswith("  ") and line[2] != " "]
    # the other scenarios, --help, the simulator, your own job
    assert len(suggested) == len(SCENARIOS) - 1 + 3, after
    assert [command for command in suggested if not runnable(command, env["PATH"])] == []
    # and the scenarios listed while it runs, in the command the demo says it runs
    assert all(runnable(line.strip(), env["PATH"]) for line in run.stderr.splitlines() if PROG in line)


@pytest.mark.parametrize(
    ("logged", "last_line"),
    [
        (True, "Each request is logged below (method, path, status); Ctrl-C stops the simulator."),
        (False, "Requests are not logged (--quiet); Ctrl-C stops the simulator."),
    ],
)
def test_the_simulator_banner_names_the_step_as_the_quick_start_installed_it(
    logged: bool, last_line: str
) -> None:
    text = introduction(QoverySimulator(), QUICK_START, logged=logged)
    lines = text.splitlines()

    # Its commands, in their order: a job that succeeds, one that fails, a release, a timeout.
    assert [line for line in lines if line.startswith(f"  .venv/bin/{PROG} ")] == [
        f"  .venv/bin/{PROG} --job-id 11111111-1111-4111-8111-111111111111",
        f"  .venv/bin/{PROG} --environment production --jobs add-orders-index",
        f"  .venv/bin/{PROG} --environment production --services migrate,api,web --sequential",
        f"  .venv/bin/{PROG} --environment production --jobs nightly-report --timeout 20s --cancel-on-timeout",
    ]
    assert lines[-1] == last_line
    assert "Restart the simulator (Ctrl-C) to clear a busy queue." in lines


def test_the_simulator_banner_s_commands_leave_it_usable(simulator: SimFactory) -> None:
    """Each command the banner suggests, run in its order and then the first again: none waits in the queue
    behind what an earlier one left running."""
    sim = simulator(*builtin_services())
    commands = [
        shlex.split(line)[1:]
        for line in introduction(sim, QUICK_START, logged=False).splitlines()
        if line.startswith(f"  .venv/bin/{PROG} ")
    ]
    assert len(commands) == 4
    env = base_env() | {"QOVERY_API_URL": sim.url, "QOVERY_API_TOKEN": TOKEN}
    verdicts, codes = [], []
    for args in [*commands, commands[0]]:
        run = run_step(env, args=args)
        verdicts.append(run.json()["verdict"])
        codes.append(run.code)
        assert "never left Qovery's queue" not in run.stderr, run.stderr
        if run.json()["verdict"] == "failed":  # what the banner says it shows
            assert 'psql: error: relation "orders_idx" already exists' in run.stderr
            assert "Qovery: The job exited with code 1 before completing." in run.stderr
    assert verdicts == ["succeeded", "failed", "succeeded", "timed_out", "succeeded"]
    assert codes == [0, 1, 0, 124, 0]
    assert run.json()["duration_seconds"] <= 10  # the last waited behind nothing


def readme_section(title: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split(f"\n{title}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


def shell_commands(markdown: str) -> list[str]:
    """Each command of the section's shell blocks and code spans, split at && ; and |."""
    blocks = re.findall(r"```sh\n(.*?)```", markdown, flags=re.DOTALL)
    prose = re.sub(r"```.*?```", "", markdown, flags=re.DOTALL)
    spans = [
        " ".join(span.split()) for span in re.findall(r"(?<!`)`([^`]+)`(?!`)", prose)
    ]  # across lines too
    lines = [line.split("#", 1)[0] for block in blocks for line in block.splitlines()] + spans
    return [part.strip() for line in lines for part in re.split(r"&&|;|\|", line) if part.strip()]


@pytest.mark.parametrize("section", ["## Quick start", "### The simulator"])
def test_the_readme_runs_the_step_and_python_from_the_venv_the_quick_start_creates(section: str) -> None:
    """The quick start's venv is never activated: `qovery-job-deploy`, `python` and `pip` alone would be
    "command not found", or worse, another installation."""
    found = shell_commands(readme_section(section))
    programs = {command.split()[0] for command in found}

    assert programs & {f".venv/bin/{PROG}", ".venv/bin/python"}, found  # the section does run them
    assert sorted(programs & {PROG, "python", "pip", "pytest"}) == []
