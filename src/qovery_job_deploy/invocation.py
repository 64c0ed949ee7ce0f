"""How a user runs this program's commands from where they are: for the hints the demo and simulator print.

The quick start (`python3 -m venv .venv && .venv/bin/pip install -e .`) does not activate the venv, so a bare
`qovery-job-deploy` there is "command not found": a hint must say `.venv/bin/qovery-job-deploy`. In the image,
or with the venv activated, the shell finds the bare name, and a hint says just that. So each command is
named as the shell would run *this* installation: its bare name when PATH finds that very file, else its path
(relative to the working directory when it lies below it).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

PROG = "qovery-job-deploy"


@dataclass(frozen=True)
class Commands:
    step: str  # qovery-job-deploy, or the path to it
    python: str  # the interpreter running this process, as the shell would find it

    @property
    def simulator(self) -> str:
        return f"{self.python} -m qovery_job_deploy.simulator"


def commands(executable: str | None = None, cwd: Path | None = None, path: str | None = None) -> Commands:
    """This installation's commands; the interpreter, working directory and PATH are the process's own
    unless given (the tests give theirs)."""
    interpreter = Path(os.path.abspath(executable or sys.executable))  # a venv's python: not resolved
    where = Path(os.path.abspath(cwd or Path.cwd()))
    search = os.environ.get("PATH", os.defpath) if path is None else path
    python = _as_typed(_plain_python(interpreter), where, search)
    script = interpreter.parent / PROG  # where pip puts the console script, beside the interpreter
    step = _as_typed(script, where, search) if script.is_file() else f"{python} -m qovery_job_deploy"
    return Commands(step=step, python=python)


def _plain_python(interpreter: Path) -> Path:
    """`python` rather than `python3` when both are the same interpreter: the README says `python`."""
    plain = interpreter.with_name("python")
    try:
        return plain if os.path.samefile(plain, interpreter) else interpreter
    except OSError:  # no `python` beside it
        return interpreter


def _as_typed(program: Path, cwd: Path, search: str) -> str:
    found = shutil.which(program.name, path=search)
    if found is not None and Path(os.path.abspath(found)) == program:
        return program.name
    shown = program.relative_to(cwd) if program.is_relative_to(cwd) else program
    return shlex.quote(str(shown))
