"""Links into the Qovery console: the job's page, and one deployment's log.

Every id in a link came from the API or from the user: each is percent-encoded as one path segment, so
none can add a segment, a query or a scheme. The base URL is the `console-url` input, https only.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from qovery_job_deploy.identity import ServiceIdentity

DEFAULT_CONSOLE_URL = "https://console.qovery.com"


def console_base(value: str) -> str:
    """The `console-url` input, checked: an https URL with a host, no query or fragment; no trailing `/`."""
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be an https:// URL such as https://console.qovery.com")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must be a plain https:// URL, without credentials, query or fragment")
    return text.rstrip("/")


def job_page_url(base: str, identity: ServiceIdentity) -> str | None:
    """`{base}/organization/{org}/project/{project}/environment/{env}/service/{job}`; None without the ids."""
    ids = (identity.organization_id, identity.project_id, identity.environment_id)
    if not all(ids):
        return None
    organization, project, environment = (_segment(value or "") for value in ids)
    return (
        f"{base}/organization/{organization}/project/{project}/environment/{environment}"
        f"/service/{_segment(identity.service_id)}"
    )


def deployment_log_url(base: str, identity: ServiceIdentity, execution_id: str) -> str | None:
    page = job_page_url(base, identity)
    return None if page is None else f"{page}/deployments/logs/{_segment(execution_id)}"


def console_url(base: str, identity: ServiceIdentity, execution_id: str | None) -> str | None:
    """The most precise link known: the deployment's log once its execution id is, the job page before."""
    if execution_id:
        return deployment_log_url(base, identity, execution_id)
    return job_page_url(base, identity)


def _segment(value: str) -> str:
    return quote(value.strip(), safe="")
