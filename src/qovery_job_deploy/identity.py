"""Who a job is: its id and, when known, its name and where it lives. A plain value: no HTTP here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobIdentity:
    job_id: str
    job_name: str | None = None
    environment_id: str | None = None
    environment_name: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    organization_id: str | None = None

    def label(self) -> str:
        """`migrate (shop / production)` when the names are known, the job's id otherwise."""
        name = self.job_name or self.job_id
        where = " / ".join(part for part in (self.project_name, self.environment_name) if part)
        return f"{name} ({where})" if where else name

    def short_name(self) -> str:
        """The job's name, or its id: the prefix of each log line when several jobs deploy together."""
        return self.job_name or self.job_id
