"""When to read the status next: a pure plan (`PollPlan`), and the `Pacer` that owns it for one service.

A fixed poller trades latency for reads and nothing else: reading every T seconds notices the end T/2 late
on average and reads 60/T times a minute. Knowing roughly when the end will come breaks that trade: read
rarely while the end is far, densely around it. The job's own past deployments say when that is, counted
from when the deployment left Qovery's queue: its history says how long it runs, not how long it waits.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from qovery_job_deploy.api.models import History, ServiceStatus
from qovery_job_deploy.errors import ActionError
from qovery_job_deploy.log import Log

# Far from the expected end, reads only catch early failures: at most one per FAR_SHARE of the way,
# and never further apart than FAR_MAX_FACTOR times the longest pause (a wrong history costs that much).
FAR_SHARE = 3
FAR_MAX_FACTOR = 3
# Around the expected end: three times the steady pace, so the end is noticed a third as late.
DENSE_FACTOR = 3.0
# With nothing known, the first read waits this many steady pauses after the POST. A read within the first
# pause would notice only a deployment shorter than one pause (it is queued, then started: none we know
# of is); every longer one is noticed at the very moment a steady poller notices it, one read sooner.
# Unless `timeout` ends before one more pause after it: then the first read comes after one pause, as a
# steady poller's, so that a short timeout still reports a state that was read.
FIRST_READ_FACTOR = 2
# Pauses are sums of floats: the far pace can land a hair before the window it aims at. A pause shorter
# than this would read twice at once (and never move a virtual clock on), so that moment is in the window.
SAME_MOMENT_SECONDS = 1e-3
# History is used only when it is consistent enough to be worth following.
MIN_SAMPLES = 3
MAX_SPREAD = 3.0  # the slowest typical run at most this many times the fastest
MAX_PLAUSIBLE_SECONDS = 6 * 3600.0
SINGLE_LOW, SINGLE_HIGH = 0.75, 1.35  # the band assumed around a single past run


@dataclass(frozen=True)
class Expectation:
    """When past deployments of this job ended, in seconds after their request: the band and its middle."""

    low: float
    typical: float
    high: float

    @classmethod
    def from_durations(cls, durations: Iterable[float]) -> Expectation | None:
        """None when history is absent, too short, implausible or too scattered to follow."""
        clean = sorted(d for d in durations if 0 < d < MAX_PLAUSIBLE_SECONDS)
        if len(clean) < MIN_SAMPLES:
            return None
        low, high = _percentile(clean, 0.1), _percentile(clean, 0.9)
        if high > MAX_SPREAD * low:
            return None
        return cls(low, statistics.median(clean), high)

    @classmethod
    def around(cls, seconds: float) -> Expectation | None:
        """From a single past run: a wider band, since one run says less than twenty."""
        if not 0 < seconds < MAX_PLAUSIBLE_SECONDS:
            return None
        return cls(SINGLE_LOW * seconds, seconds, SINGLE_HIGH * seconds)


class PollPlan:
    """Pauses between status reads, as a function of the time elapsed since the deploy request."""

    def __init__(
        self, longest: float, expectation: Expectation | None = None, *, first: float | None = None
    ) -> None:
        """`first`: when the first read comes with nothing known (FIRST_READ_FACTOR pauses by default)."""
        self.longest = longest
        self.expectation = expectation
        self.first = FIRST_READ_FACTOR * longest if first is None else first
        if expectation is not None:
            margin = max(1.0, 0.05 * expectation.typical)
            self.window_start = max(0.0, expectation.low - margin)
            self.window_end = expectation.high + margin
            self.far = max(longest, min(self.window_start / FAR_SHARE, FAR_MAX_FACTOR * longest))
            self.dense = longest / DENSE_FACTOR

    def next_delay(self, elapsed: float) -> float:
        if self.expectation is None and elapsed < self.longest:
            return self.first - elapsed  # nothing known: the first read
        if self.expectation is None or elapsed >= self.window_end:
            return self.longest  # nothing known, or history was wrong: a steady pace
        if self.window_start - elapsed > SAME_MOMENT_SECONDS:
            return min(self.far, self.window_start - elapsed)
        return self.dense

    def queued_delay(self) -> float:
        """The pause while the deployment waits in Qovery's queue, however long: the far pace (with nothing
        known, the first read's wait), never shorter than the steady one. The window around the end counts
        from when it leaves the queue: reading densely before then would only read the queue."""
        return self.first if self.expectation is None else self.far

    def widened(self, seconds: float) -> PollPlan:
        """This plan with its window around the end `seconds` longer: when the deployment left the queue
        is known only that closely (between the last read that saw it queued and the first that did not)."""
        if self.expectation is None or seconds <= 0:
            return self
        low, typical, high = self.expectation.low, self.expectation.typical, self.expectation.high
        return PollPlan(self.longest, Expectation(low, typical, high + seconds), first=self.first)


def _percentile(ordered: list[float], share: float) -> float:
    index = share * (len(ordered) - 1)
    below = int(index)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (index - below)


_ISO_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_iso_duration(text: str | None) -> float | None:
    """Seconds from an ISO 8601 duration (`PT1M5.2S`); None for anything else: history is only a hint."""
    match = _ISO_DURATION.match((text or "").strip())
    if not match or not any(match.groupdict().values()):
        return None
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    return (
        parts.get("days", 0) * 86400 + parts.get("hours", 0) * 3600 + parts.get("minutes", 0) * 60
    ) + parts.get("seconds", 0)


# Below this, the previous run's duration (in the status read before the POST) paces the polling alone:
# the history request would cost more reads than it saves. Above it, the history's band is worth one read.
HISTORY_WORTH_SECONDS = 30.0
# With nothing known, the history is asked once the deployment has run this long. Asked earlier, it would
# cost a read to the many deployments that end within a minute or two and gain them little (the far pace
# has no time to pay); one that runs for minutes still gains many reads from it, and its end is noticed
# as soon. (Over the benchmark's 16 deployments, asked at 30 s it cost 1.12x the CLI's reads, at 60 s
# 1.10x, at 90 s 1.09x: `benchmarks/run.py`.)
HISTORY_LATE_SECONDS = 90.0
# While our request waits in Qovery's queue, the log says so again this often.
QUEUED_REMINDER_SECONDS = 60.0


class Pacer:
    """One service's pace, told of each read: its plan, from what the status read before the POST says,
    refined once by the deployment history when the deployment proves long enough for that read to pay;
    and the plan's starting point, the POST, then the last moment the deployment was seen queued."""

    def __init__(
        self,
        poll_interval: float,
        expected: str,
        before: ServiceStatus,
        history: Callable[[], History],
        log: Log,
        *,
        posted_at: float,
        time_left: float = float("inf"),
        noun: str = "job",
    ) -> None:
        """`posted_at`: when the deploy request was sent; `time_left`: what `timeout` leaves after it;
        `noun`: what the service is called in the log (`container`)."""
        self._noun = noun
        self.poll_interval = poll_interval
        late = (FIRST_READ_FACTOR + 1) * poll_interval > time_left  # see FIRST_READ_FACTOR
        self._first = poll_interval if late else FIRST_READ_FACTOR * poll_interval
        self.expected = expected
        self._history = history
        self._log = log
        self._never_deployed = before.service_deployment_status == "NEVER_DEPLOYED"
        self._last: float | None = None
        if before.state == expected and before.steps is not None:
            self._last = before.steps.total_duration_sec  # the previous run's, free with the read
        self._history_asked = False
        self._plan: PollPlan | None = None  # made at the first `next_read`, which says what it follows
        self._started_at = posted_at
        self._queued_since: float | None = None
        self._reminded_at = 0.0

    def next_read(self, now: float, queued: str | None = None) -> float:
        """When to read the status next: asked right after the POST, then after each read that did not end
        the wait, with the state our request was seen waiting in Qovery's queue in (None: not seen so)."""
        if self._plan is None:
            self._plan = self._first_plan()
        if queued is not None:
            self._note_queued(now, queued)
            return now + self._plan.queued_delay()
        if self._queued_since is not None:  # it left the queue since the last read: the plan counts from
            self._queued_since = None  # that read, and its window reaches as far past the end as this one
            self._plan = self._plan.widened(now - self._started_at)
        elapsed = now - self._started_at
        self._plan = self._later_plan(self._plan, elapsed)
        return now + self._plan.next_delay(elapsed)

    def _note_queued(self, now: float, state: str) -> None:
        """While our request waits in Qovery's queue, the plan's clock waits with it, and the log says so
        now and then: a queued state is logged once, and a long silence after it reads like a hang."""
        self._started_at = now
        if self._queued_since is None:
            self._queued_since, self._reminded_at = now, now
        elif now - self._reminded_at >= QUEUED_REMINDER_SECONDS:
            self._reminded_at = now
            self._log.info(
                f"Still {state} after {now - self._queued_since:.0f}s: Qovery has not started it yet (it "
                "deploys an environment's services one at a time)"
            )

    def _first_plan(self) -> PollPlan:
        last = self._last
        if self._never_deployed:
            self._history_asked = True  # there is none
            self._log.info(f"First deployment of this {self._noun}: {self._steady_pace()}")
            return PollPlan(self.poll_interval, first=self._first)
        if last is not None and last < HISTORY_WORTH_SECONDS:
            # A short job: one more request would cost more than it saves; the last run is hint enough.
            self._history_asked = True
            self._log.info(f"The last deployment took {last:.0f}s: reading densely around then")
            return PollPlan(self.poll_interval, Expectation.around(last))
        if last is not None:
            return PollPlan(self.poll_interval, self._from_history(last))
        self._log.info(self._steady_pace().capitalize())
        return PollPlan(self.poll_interval, first=self._first)

    def _steady_pace(self) -> str:
        """`reading the status every 3s (the first after 6s)`: the pace with nothing known."""
        first = f" (the first after {self._first:g}s)" if self._first != self.poll_interval else ""
        return f"reading the status every {self.poll_interval:g}s{first}"

    def _later_plan(self, plan: PollPlan, elapsed: float) -> PollPlan:
        """With nothing known at first, the history is asked only once the deployment has proved long
        enough for it to pay: short deployments are spared the request."""
        if self._history_asked or elapsed < HISTORY_LATE_SECONDS:
            return plan
        return PollPlan(self.poll_interval, self._from_history(None))

    def _from_history(self, last: float | None) -> Expectation | None:
        """What the job's past successful deployments say about this one; None when they say nothing."""
        self._history_asked = True
        try:
            history = self._history().results
        except ActionError as error:
            self._log.info(f"Deployment history unavailable ({error})")
            history = []
        durations = [
            parse_iso_duration(entry.total_duration) for entry in history if entry.status == self.expected
        ]
        expectation = Expectation.from_durations(d for d in durations if d is not None)
        if expectation is None and last is not None and Expectation.around(last) is not None:
            self._log.info(
                f"No usable history, but the last deployment took {last:.0f}s: reading densely around then"
            )
            return Expectation.around(last)
        if expectation is None:
            self._log.info(f"No usable deployment history; reading the status every {self.poll_interval:g}s")
        else:
            self._log.info(
                f"Past deployments took {expectation.low:.0f}-{expectation.high:.0f}s "
                f"(typically {expectation.typical:.0f}s): reading densely around then"
            )
        return expectation
