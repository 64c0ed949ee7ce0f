"""The API's failures: refused, or worth retrying (and whether Qovery may have acted).

They are ActionErrors, a message meant for the user, so `main` reports them like any other; the general
errors stay in `qovery_job_deploy.errors`, which imports nothing, so that the layers above the API
(settings, names, the engine) share them without importing the API."""

from __future__ import annotations

from qovery_job_deploy.errors import ActionError
from qovery_job_deploy.text import one_line


class ApiError(ActionError):
    """Qovery refused a request, or could not be reached after retries."""


class RefusedError(ApiError):
    """A definitive answer (4xx other than 429/409): retrying cannot help."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class TransientError(ApiError):
    """A failure worth retrying.

    `acted` says whether Qovery may have carried the request out: False when it surely did not
    (connection refused, 429, 409), None when nobody can tell (timeout, reset, 5xx, unreadable body).
    Only the former may be retried for a POST.

    `still_working` says, when `acted` is None, whether Qovery may still be working on the request (a 502 or
    504 from a gateway, our own read timeout) rather than having surely answered or never seen it (a 503, a
    reset before any byte of answer): what it did may take longer to show.

    `rate_limited` marks a 429: Qovery is there and said when to come back (`retry_after`, else when its
    limit resets). That is never a failure in itself: it is waited out however many times it comes, until
    the step's `timeout` (`retry.call_with_retries`).
    """

    def __init__(
        self,
        message: str,
        *,
        acted: bool | None,
        retry_after: float | None = None,
        still_working: bool = False,
        hint: str = "",
        max_attempts: int | None = None,
        rate_limited: bool = False,
    ) -> None:
        super().__init__(message)
        self.acted = acted
        self.still_working = still_working
        self.retry_after = retry_after
        # How to fix it, said once in the final report rather than in every retry's warning.
        self.hint = hint
        # Fewer tries than the policy's, for failures that rarely heal in seconds (a name that does not
        # resolve, a failed TLS handshake, an unreachable proxy).
        self.max_attempts = max_attempts
        self.rate_limited = rate_limited
        self.deadline_reached = False  # set when the step's timeout, not the retry policy, gave up

    def with_hint(self) -> TransientError:
        """The same failure with its fix appended: what the step reports once the retries are over."""
        if not self.hint:
            return self
        final = TransientError(
            f"{str(self).rstrip('.')}. {self.hint}",
            acted=self.acted,
            retry_after=self.retry_after,
            still_working=self.still_working,
            max_attempts=self.max_attempts,
            rate_limited=self.rate_limited,
        )
        final.deadline_reached = self.deadline_reached
        return final


def rate_limited_out(error: BaseException) -> bool:
    """A 429 whose wait ran past the step's `timeout`: the timeout ended it, not Qovery."""
    return isinstance(error, TransientError) and error.rate_limited and error.deadline_reached


def short_error(error: ActionError) -> str:
    """An error in a few words, for a best-effort read's one info line: `HTTP 404`, or its text."""
    if isinstance(error, RefusedError):
        return f"HTTP {error.status_code}"
    return one_line(error, 160)


def token_refused(error: BaseException, *, first_read: bool) -> bool:
    """The token itself refused: a 401 (rejected), or a 403 on the service's own read (not allowed to see
    it): what no later read or deployment can get past, unlike a 403 on its environment alone."""
    return isinstance(error, RefusedError) and (
        error.status_code == 401 or (error.status_code == 403 and first_read)
    )
