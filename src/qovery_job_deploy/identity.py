"""Who a service is, by id and by name: what the report says instead of a bare UUID, and what console
links need.

A plain value: filled from name resolution (`resolve.py`), then from `GET /{kind}/{id}` and
`GET /environment/{id}` (`labels.py`). Every name came from the API, so it is untrusted: whoever shows it
escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


def canonical_uuid(value: str | None) -> str | None:
    """The UUID in `value`, in its canonical form, or None. The one test of an id: an id from the API goes
    into our request paths and links only as the UUID the spec says it is, and an input that is a UUID
    skips the name lookups."""
    try:
        return str(UUID(value.strip())) if value else None
    except ValueError:
        return None


def is_uuid(text: str) -> bool:
    return canonical_uuid(text) is not None


@dataclass(frozen=True)
class ServiceIdentity:
    """A service (a job, or any other kind: `kind` is its `kinds.KINDS` key) by id and by names."""

    service_id: str
    name: str | None = None
    environment_id: str | None = None
    environment_name: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    organization_id: str | None = None
    kind: str = "job"
    environment_mode: str | None = None  # PRODUCTION, PREVIEW, STAGING, DEVELOPMENT, as Qovery says it

    def label(self) -> str:
        """`migrate (shop / production)` with the names that are known; its id when its name is not."""
        if not self.name:
            return self.service_id
        where = " / ".join(name for name in (self.project_name, self.environment_name) if name)
        return f"{self.name} ({where})" if where else self.name

    def short_name(self) -> str:
        """The service's name, or its id: each log line's prefix when several services deploy together."""
        return self.name or self.service_id
