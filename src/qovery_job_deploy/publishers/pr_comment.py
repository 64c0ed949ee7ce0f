"""One pull-request comment kept current (`pr-comment: true`, on `pull_request` and `pull_request_target`
events): the verdict of each service with its type, where it answers, its Qovery console link, what was
deployed and when, and on a failure Qovery's diagnosis in short.

One comment per pull request and Qovery environment: a hidden marker opens its body, so that a later run
finds it among the pull request's comments, read a page of 100 at a time from the oldest (`_search`: 10
pages at most, then the newest page), and updates it (`PATCH`) instead of adding another; a comment that
does not open with the marker (anyone else's) is never touched. Two requests a run on a pull request of
100 comments or fewer, one more for each further page read. On any other event, one line of the log and
nothing else; a dry run comments nothing.

A `delete-environment` run keys the comment on the environment it deletes (`outcome.environment`), as the
deploy runs into it did on their services' environment: it finds the same comment and replaces it with the
deletion's word (the preview deleted, and when; or why not). It adds none where there was none.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from qovery_job_deploy import markdown as md
from qovery_job_deploy.outcome import Outcome, RunOutcome, Verdict
from qovery_job_deploy.publishers import Target
from qovery_job_deploy.publishers.github_api import (
    PULL_REQUEST_EVENTS,
    Budget,
    GitHubApi,
    GitHubRun,
    api_for,
    github_run,
    guarded,
)
from qovery_job_deploy.results import diagnosis_of, headline, message, noun
from qovery_job_deploy.summary import ICONS, MAX_MESSAGE, console_link, md_link, url_link, what_was_asked
from qovery_job_deploy.text import one_line

WHAT = "Pull-request comment"
PERMISSION = "pull-requests: write"
SECONDS = 4.0  # the first page of comments and the update (or the addition) together
PAGE_SECONDS = 1.0  # added to them for each further page read
PER_PAGE = 100  # GitHub's most
# The pages of comments read from the oldest before giving up: the first 1,000 comments, then the newest
# page. A pull request's thread rarely runs past a few hundred comments, and the step's comment is among
# the first it had when the step first ran. The bound keeps a huge thread's cost small: 12 requests (11
# pages and the write; retries aside) of the job token's 1,000 an hour per repository, and 14 s at most
# (SECONDS, and PAGE_SECONDS for each of the 10 further pages).
MAX_PAGES = 10
MAX_ROWS = 100  # services shown; a comment holds 65,536 characters at most
MARKER = "<!-- qovery-job-deploy pr-comment environment={key} -->"
_KEY_SAFE = re.compile(r"[^A-Za-z0-9,-]")


class PullRequestComment:
    def __init__(self, target: Target, now: Callable[[], float] = time.time) -> None:
        self.target = target
        self.now = now

    def publish(self, outcome: RunOutcome) -> list[str]:
        """The comment added or updated; never a problem of the report: a line or a warning at most."""
        found = self._pull_request(outcome) if self.target.github.pr_comment else None
        if found is None:
            return []
        run, key = found
        log = self.target.log
        api = api_for(self.target, run, WHAT)
        if api is None:
            return []
        marker = MARKER.format(key=key)
        if outcome.deletion is not None:
            body = deletion_markdown(outcome, marker, when=self.now(), run_url=run.run_url)
        else:
            body = comment_markdown(outcome, marker, sha=run.sha, when=self.now(), run_url=run.run_url)
        budget = Budget(self.target.clock, SECONDS)
        issue = run.repo_path(f"/issues/{run.pull_request}/comments")
        with guarded(self.target, api, WHAT, PERMISSION):
            ours, unread = _search(api, issue, budget, marker)
            if unread:
                done = "none is updated" if outcome.deletion is not None else "a new one is added"
                self.target.warning(
                    f"{WHAT}: pull request #{run.pull_request} {unread}, so {done} (an earlier one may be "
                    "among those left unread)"
                )
            if ours is None and outcome.deletion is not None:
                log.info(f"Pull request #{run.pull_request}: no comment of this environment to update")
            elif ours is None:
                api.call("POST", issue, budget, body={"body": body}, creates=True)
                log.info(f"Pull request #{run.pull_request}: comment added")
            else:
                api.call("PATCH", run.repo_path(f"/issues/comments/{ours}"), budget, body={"body": body})
                log.info(f"Pull request #{run.pull_request}: comment updated")
        return []

    def _pull_request(self, outcome: RunOutcome) -> tuple[GitHubRun, str] | None:
        """The pull request to comment on and the environments' key; None (said in a line) for none."""
        log = self.target.log
        if outcome.dry_run:
            log.info("pr-comment: a dry run comments nothing")
            return None
        run = github_run(self.target.environ)
        if isinstance(run, str):
            self.target.warning(f"{WHAT}: {run}; nothing was sent to GitHub")
            return None
        if run.event_name not in PULL_REQUEST_EVENTS or run.pull_request is None:
            event = one_line(run.event_name or "unknown", 40)
            log.info(f"pr-comment: the `{event}` event has no pull request to comment on")
            return None
        key = environment_key(outcome)
        if key is None:
            log.info("pr-comment: no comment, since no Qovery environment is known (nothing was resolved)")
            return None
        return run, key


def environment_key(outcome: RunOutcome) -> str | None:
    """Which Qovery environments the comment is about: their ids, in order; None when none is known. A
    deletion's is the deleted environment's: the key of the comment its deploy runs kept."""
    identities = [service.identity for service in outcome.services if service.identity is not None]
    ids = sorted({identity.environment_id for identity in identities if identity.environment_id})
    if outcome.deletion is not None and outcome.environment is not None:
        ids = [outcome.environment.environment_id or ""]
    key = _KEY_SAFE.sub("", ",".join(ids))
    return key or None


def _search(api: GitHubApi, issue: str, budget: Budget, marker: str) -> tuple[int | None, str]:
    """The id of our comment (None: not found), and, when it was not found with pages left unread, what was
    read (else empty).

    From the oldest: GitHub lists a pull request's comments by ascending id, and this endpoint has no
    `sort` or `direction` to turn that round (its `since` filters by last update, which would need the time
    of this step's last run). The step adds its comment on its first run, mostly as the pull request opens,
    so it is on the first page; searching from the newest end would read every page of a long thread before
    reaching it. Past MAX_PAGES, the newest page once: a comment the step had to add to a thread that long
    is there, until a hundred more come after it."""
    params = {"per_page": str(PER_PAGE)}
    number = 1
    for read in range(1, MAX_PAGES + 1):
        page = api.page(issue, budget, params=params, number=number)
        if (ours := _ours(page.items, marker)) is not None or not page.more:
            return ours, ""
        if page.next is None:
            return None, (
                f"names its next page of comments in a way the step cannot follow; this environment's "
                f"comment is not among the first {read * PER_PAGE}"
            )
        number = page.next
        budget.extend(PAGE_SECONDS)
    first = MAX_PAGES * PER_PAGE
    unread = f"has more than {first} comments; this environment's comment is not among the first {first}"
    if page.last is None or page.last < number:
        return None, f"{unread}, all the step reads"
    ours = _ours(api.page(issue, budget, params=params, number=page.last).items, marker)
    return ours, "" if ours is not None else f"{unread} nor the newest {PER_PAGE}"


def _ours(listed: Any, marker: str) -> int | None:
    """The id of the first comment that opens with our marker (others' are never touched)."""
    for comment in listed if isinstance(listed, list) else []:
        body = comment.get("body") if isinstance(comment, dict) else None
        found = comment.get("id") if isinstance(comment, dict) else None
        if isinstance(body, str) and body.startswith(marker) and isinstance(found, int):
            return found
    return None


def comment_markdown(
    run: RunOutcome, marker: str, *, sha: str, when: float, run_url: str | None = None
) -> str:
    """The comment: the marker, the headline, one row per service, what was deployed and when, and Qovery's
    diagnosis of each service that did not go well. Untrusted text escaped as in the step summary."""
    lines = [marker, f"### {ICONS[run.verdict]} {headline(run)}", ""]
    if len(run.services) > 1 or not run.verdict.went_well:
        lines += [_text(message(run), MAX_MESSAGE), ""]
    lines += [
        "| Service | Type | Verdict | URL | Qovery console |",
        "|---|---|---|---|---|",
        *(_row(service) for service in run.services[:MAX_ROWS]),
    ]
    if len(run.services) > MAX_ROWS:
        lines.append(f"\n…and {len(run.services) - MAX_ROWS} more: see the step summary.")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(when))
    where = f" · {md_link('workflow run', run_url)}" if md_link("workflow run", run_url) else ""
    lines += ["", f"{run.asked_label()}: {what_was_asked(run)}. Commit {md.code(sha[:12])}, {stamp}{where}"]
    diagnoses = [_diagnosis(service) for service in run.services if not service.verdict.went_well]
    if notes := [note for note in diagnoses if note]:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def deletion_markdown(run: RunOutcome, marker: str, *, when: float, run_url: str | None = None) -> str:
    """The comment once its environment is deleted (or could not be): the marker, the headline, when, and
    the deletion's message when it is not gone."""
    deletion = run.deletion
    gone = deletion is not None and deletion.gone
    icon = "🗑️" if gone else ICONS[run.verdict]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(when))
    where = f" · {md_link('workflow run', run_url)}" if md_link("workflow run", run_url) else ""
    lines = [marker, f"### {icon} {_text(headline(run), 300)}", ""]
    if gone:
        lines.append(f"The preview environment was deleted: {stamp}{where}")
    else:
        lines += [_text(message(run), MAX_MESSAGE), "", f"{stamp}{where}"]
    return "\n".join(lines) + "\n"


def _text(value: object, limit: int = md.MAX_CELL) -> str:
    """`markdown.text`, and no `@name` that GitHub would turn into a mention (a notification) of someone:
    each `@` followed by a zero-width space."""
    return md.text(value, limit).replace("@", "@\u200b")


def _row(service: Outcome) -> str:
    return (
        f"| {_text(service.known.label())} | {_text(noun(service))} | {md.code(service.verdict.value)} "
        f"| {url_link(service.url) or md.PLACEHOLDER} | {console_link(service) or md.PLACEHOLDER} |"
    )


def _diagnosis(service: Outcome) -> str:
    """`> **api**: Qovery: ... Hint: ...`, in short; empty without Qovery's word."""
    diagnosis = diagnosis_of(service)
    if diagnosis is None or service.verdict is Verdict.SKIPPED:
        return ""
    said = " ".join(
        part
        for part in (
            f"Qovery: {_text(diagnosis.message, 300)}" if diagnosis.message else "",
            f"Hint: {_text(diagnosis.hint, 300)}" if diagnosis.hint else "",
        )
        if part
    )
    return f"> **{_text(service.known.label(), 100)}**: {said}" if said else ""
