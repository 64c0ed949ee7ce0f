"""The plain runner (`docker run`, a terminal): the human log on stderr and the JSON result as the only
thing on stdout, so that `docker run ... > result.json` works. The other runners build on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

from qovery_job_deploy.deploy import Outcome
from qovery_job_deploy.log import HumanLog
from qovery_job_deploy.report import result_json


class Runner:
    name = "plain"

    def __init__(self, environ: Mapping[str, str], stdout: TextIO) -> None:
        self.environ = environ
        self.stdout = stdout
        self.dotenv_file: Path | None = None  # the `dotenv-file` input, once settings are read

    def mask(self, secrets: Iterable[str]) -> None:
        """Hide secrets from the log before anything else is printed (only GitHub can)."""

    def begin(self, log: HumanLog, title: str) -> None:
        log.info(title)

    def end(self, log: HumanLog) -> None:
        """Close what `begin` opened."""

    def input_error(self, message: str) -> None:
        """Flag invalid input where the runner shows it best (the log has it already)."""

    def publish(self, outcome: Outcome) -> None:
        self.stdout.write(result_json(outcome) + "\n")
        self.stdout.flush()
