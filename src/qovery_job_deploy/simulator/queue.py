"""Qovery's deployment queue: an environment deploys one request at a time, in the order they came.

A request asked for while another of its environment runs waits in its queued state (QUEUED, STOP_QUEUED,
...) until that one ends, then plays its timeline. A request cancelled while it waits never runs, and frees
its place; one cancelled while it runs lets the next start at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from qovery_job_deploy.simulator.scripts import DeploymentRequest


def schedule(requests: Iterable[DeploymentRequest]) -> None:
    """Set when each of one environment's requests starts: when it came, or when the one before it ended.
    Called again whenever a request comes or is cancelled, since a cancellation moves the later ones."""
    busy_until = float("-inf")
    for request in sorted(requests, key=lambda r: r.created_at):
        request.started_at = max(request.created_at, busy_until)
        busy_until = max(busy_until, request.ends_at())
