"""The exceptions that cross layers. Exit codes are decided in one place: `outcome.py`.

The API's own failures (ApiError and its kinds) are in `api/errors.py`."""

from __future__ import annotations


class ActionError(Exception):
    """Base: a message meant for the user."""


class InputError(ActionError):
    """Invalid input: nothing was deployed (exit code 2)."""


class Interrupted(BaseException):
    """Raised from a signal handler so that sleeps and socket reads stop at once.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum
