"""The environment's variables that look like an input's but are none (`QOVERY_SEQUENTAIL`,
`QOVERY_SERVICE`, on GitHub `INPUT_JOB_ID` for `INPUT_JOB-ID`): the step ignores them, so it says which
input's variable each most likely means (`near_misses`), by name only: a value is never shown.

Other tools' variables are left alone: Qovery's CLI reads `QOVERY_CLI_ACCESS_TOKEN`, Qovery gives a service
`QOVERY_PROJECT_ID`, and this step's own dotenv report writes `QOVERY_ENVIRONMENT_ID`, `QOVERY_STATE` and
`QOVERY_JOB_MIGRATE_URL` for the jobs after it. Only a variable a typo away from an input's is named: the
words both names share are set aside, and what is left of each must be alike (`difflib`, at least
`CUTOFF`), so that an input's name with a word added or dropped (`QOVERY_PROJECT_ID`, `QOVERY_TOKEN`) is
another variable, not a misspelling.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from qovery_job_deploy.inputs.names import GITHUB, github_env_name, platform_of, qovery_env_name
from qovery_job_deploy.text import one_line

# How alike the words two names do not share must be (difflib's ratio): SEQUENTAIL and SEQUENTIAL 0.9,
# SERVICE and SERVICES 0.93, WIAT and WAIT 0.75; ENV and TOKEN (QOVERY_GITHUB_ENV) 0.5.
CUTOFF = 0.75
QOVERY_PREFIX, GITHUB_PREFIX = "QOVERY_", "INPUT_"


@dataclass(frozen=True)
class NearMiss:
    """A variable no input reads (`variable`, as it is set) and the input's variable it most likely means."""

    variable: str
    meant: str
    field: str  # the input `meant` belongs to

    def warning(self) -> str:
        return f"{self.shown} is not an input of this step (ignored); did you mean {self.meant}?"

    def hint(self) -> str:
        """Said where the input it means is missing."""
        return f"did you mean {self.meant}? ({self.shown} is set)"

    @property
    def shown(self) -> str:
        """The name, a control character in it written as an escape (`\\r`): a name holds anything but `=`."""
        return one_line(repr(self.variable)[1:-1], 80)


def input_variables(fields: Iterable[str]) -> dict[str, str]:
    """Every variable an input is read from (`QOVERY_JOB_ID`, `INPUT_JOB-ID`), with its input."""
    return {variable: name for name in fields for variable in (qovery_env_name(name), github_env_name(name))}


def near_misses(environ: Mapping[str, str], fields: Iterable[str]) -> list[NearMiss]:
    """The variables set (not empty) whose name starts as an input's (`QOVERY_`; `INPUT_` too on GitHub,
    where the runner gives the inputs so; elsewhere they may be anyone's) but that no input reads, each
    with the closest input's variable of the same prefix; none for a variable no input's is close to."""
    known = input_variables(fields)
    prefixes = (QOVERY_PREFIX, GITHUB_PREFIX) if platform_of(environ) is GITHUB else (QOVERY_PREFIX,)
    found = []
    for variable in sorted(environ):  # the same order every run
        prefix = next((prefix for prefix in prefixes if variable.upper().startswith(prefix)), None)
        if prefix is None or variable in known or not environ[variable].strip():
            continue
        candidates = [name for name in known if name.startswith(prefix)]
        if meant := _closest(variable.upper(), candidates):
            found.append(NearMiss(variable, meant, known[meant]))
    return found


def _closest(name: str, candidates: Iterable[str]) -> str | None:
    scored = [(_likeness(name, candidate), candidate) for candidate in candidates]
    score, best = max(scored, default=(0.0, ""))
    return best if score >= CUTOFF else None


def _likeness(name: str, candidate: str) -> float:
    """How alike the words the two names do not share are: 1 when only separators or case differ, 0 when
    one name is the other with whole words added (`QOVERY_ENVIRONMENT_ID`) or dropped (`QOVERY_TOKEN`)."""
    words, candidate_words = _words(name), _words(candidate)
    rest = "_".join((words - candidate_words).elements())
    candidate_rest = "_".join((candidate_words - words).elements())
    if not rest and not candidate_rest:
        return 1.0
    return difflib.SequenceMatcher(None, rest, candidate_rest).ratio()  # 0 when either is empty


def _words(name: str) -> Counter[str]:
    return Counter(word for word in re.split(r"[_-]+", name) if word)
