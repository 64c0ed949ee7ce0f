"""A client of the simulator for the tests that drive it directly: `requests` on its in-process transport,
time passing on its virtual clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from qovery_job_deploy.simulator import QoverySimulator
from qovery_job_deploy.simulator.scripts import KIND_ROWS
from qovery_job_deploy.simulator.transport import SimulatorAdapter
from support.sims import IN_PROCESS, TOKEN

# Where a deployment request ends, whatever its event.
TERMINAL = (
    "DEPLOYED",
    "STOPPED",
    "DELETED",
    "CANCELED",
    "BUILD_ERROR",
    "DEPLOYMENT_ERROR",
    "STOP_ERROR",
    "DELETE_ERROR",
)


@dataclass
class Client:
    """A `requests` session on the simulator's in-process transport, its time the simulator's clock."""

    sim: QoverySimulator
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        clock = IN_PROCESS[self.sim.url][1]
        self.sleep, self.now = clock.sleep, clock.now
        self.session.mount(self.sim.url, SimulatorAdapter(self.sim, clock.sleep))
        self.session.headers["Authorization"] = f"Token {TOKEN}"

    def get(self, path: str, **params: str) -> requests.Response:
        return self.session.get(self.sim.url + path, params=params, timeout=5)

    def ok(self, path: str, **params: str) -> Any:
        answer = self.get(path, **params)
        assert answer.status_code == 200, (path, answer.status_code)
        return answer.json()

    def deploy(self, kind: str, service_id: str, body: Any, query: dict[str, str]) -> requests.Response:
        url = f"{self.sim.url}/{kind}/{service_id}/deploy"
        if body is None:
            return self.session.post(url, params=query, timeout=5)
        return self.session.post(url, params=query, json=body, timeout=5)

    def status(self, kind: str, service_id: str) -> Any:
        """The service's status: its own `GET /{kind}/{id}/status`, or for a kind that has none (terraform),
        its item in its environment's statuses."""
        if KIND_ROWS[kind].own_status:
            return self.ok(f"/{kind}/{service_id}/status")
        everything = self.ok(f"/environment/{self.sim.services[service_id].environment_id}/statuses")
        (status,) = [one for one in everything[f"{kind}s"] if one["id"] == service_id]
        return status

    def follow(self, kind: str, service_id: str, request_id: str) -> tuple[list[str], dict[str, Any]]:
        """The states our request went through (read every 0.1 s), and its last status."""
        seen: list[str] = []
        for _ in range(200):
            status = self.status(kind, service_id)
            if status["deployment_request_id"] == request_id:
                if not seen or seen[-1] != status["state"]:
                    seen.append(status["state"])
                if status["state"] in TERMINAL:
                    return seen, status
            self.sleep(0.1)
        raise AssertionError(f"{kind} {service_id} never ended: {seen}")
