"""What `GET /{kind}/{id}` (and each environment's list of a kind) answers for a service: one body per kind,
shaped as the spec's `LifecycleJobResponse`, `Application`, `ContainerResponse`, `HelmResponse`, `Database`,
`TerraformResponse`.

Each carries the service's current source, what a deployer can deploy again: an application's
`git_repository.deployed_commit_id`, a container's (or job's) image `tag`, a helm chart's
`source.repository.chart_version` or `source.git.git_repository.deployed_commit_id`, a terraform service's
`terraform_files_source.git.git_repository.deployed_commit_id`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qovery_job_deploy.simulator.scripts import CREATED_AT, DeploymentRequest, JobScript

REGISTRY = {
    "id": "55555555-5555-4555-8555-555555555555",
    "name": "registry",
    "url": "https://registry.example.com",
    "kind": "GENERIC_CR",
}
SIZING = {"maximum_cpu": 16000, "maximum_memory": 16384, "cpu": 500, "memory": 512}


def service_body(script: JobScript, mine: list[DeploymentRequest], now: float) -> dict[str, Any]:
    """The service as `GET /{kind}/{id}` returns it, given its deployment requests (`mine`): the source
    the last one that succeeded asked for (its commit, tag or chart version) is the current one."""
    succeeded = [r for r in mine if now >= r.ends_at() and r.state_at(now) == "DEPLOYED"]
    last = max(succeeded, key=lambda r: r.created_at) if succeeded else None
    asked = last.asked.get("body") if last else None
    return _BY_KIND[script.kind](script, asked if isinstance(asked, dict) else {})


def _common(script: JobScript) -> dict[str, Any]:
    return {
        "id": script.job_id,
        "created_at": CREATED_AT,
        "environment": {"id": script.environment_id},
        "name": script.job_name,
        "icon_uri": f"https://example.com/{script.kind}.svg",
        "service_type": script.service_type,
    }


def _image(script: JobScript, deployed: dict[str, Any]) -> dict[str, Any]:
    tag = deployed.get("image_tag") or script.current_image_tag
    return {"image_name": f"shop/{script.job_name}", "tag": tag, "registry": dict(REGISTRY)}


def _git(script: JobScript, deployed: dict[str, Any]) -> dict[str, Any]:
    return {
        "provider": "GITHUB",
        "owner": "acme",
        "name": f"acme/{script.job_name}",
        "url": f"https://github.com/acme/{script.job_name}.git",
        "branch": "main",
        "root_path": "/",
        "deployed_commit_id": deployed.get("git_commit_id") or script.current_commit,
    }


def _job(script: JobScript, deployed: dict[str, Any]) -> dict[str, Any]:
    """A lifecycle job (`LifecycleJobResponse`)."""
    return _common(script) | {
        **SIZING,
        "maximum_gpu": 0,
        "gpu": 0,
        "auto_preview": False,
        "source": (
            {"docker": {"git_repository": _git(script, deployed), "dockerfile_path": "Dockerfile"}}
            if script.job_origin == "git"
            else {"image": _image(script, deployed)}
        ),
        "healthchecks": {},
        "job_type": "LIFECYCLE",
        "schedule": {"on_start": {"arguments": ["migrate"]}},
    }


def _application(script: JobScript, deployed: dict[str, Any]) -> dict[str, Any]:
    """An application built from git (`Application`)."""
    return _common(script) | {
        **SIZING,
        "gpu": 0,
        "git_repository": _git(script, deployed),
        "build_mode": "DOCKER",
        "dockerfile_path": "Dockerfile",
        "healthchecks": {},
        "auto_preview": False,
        "auto_deploy": False,
        "min_running_instances": 1,
        "max_running_instances": 2,
    }


def _container(script: JobScript, deployed: dict[str, Any]) -> dict[str, Any]:
    """A container run from a registry's image (`ContainerResponse`)."""
    return (
        _common(script)
        | {
            **SIZING,
            "maximum_gpu": 0,
            "gpu": 0,
            "healthchecks": {},
            "auto_preview": False,
            "auto_deploy": False,
            "min_running_instances": 1,
            "max_running_instances": 2,
        }
        | _image(script, deployed)
    )


def _helm(script: JobScript, deployed: dict[str, Any]) -> dict[str, Any]:
    """A helm chart (`HelmResponse`): from a chart repository at a version, or from git at a commit."""
    source: dict[str, Any]
    if script.current_chart_version is None:
        source = {"git": {"git_repository": _git(script, deployed)}}
    else:
        version = deployed.get("chart_version") or script.current_chart_version
        repository = {
            "id": "66666666-0000-4000-8000-00000000c4a7",
            "name": "charts",
            "url": "https://charts.example.com",
        }
        source = {
            "repository": {"chart_name": script.job_name, "chart_version": version, "repository": repository}
        }
    return _common(script) | {
        "auto_preview": False,
        "auto_deploy": False,
        "source": source,
        "arguments": [],
        "allow_cluster_wide_resources": False,
        "values_override": {},
        "timeout_sec": 600,
    }


def _database(script: JobScript, deployed: dict[str, Any]) -> dict[str, Any]:
    """A database run as a container (`Database`): nothing to choose when deploying it."""
    return _common(script) | {
        "type": "POSTGRESQL",
        "version": "16",
        "mode": "CONTAINER",
        "accessibility": "PRIVATE",
        "cpu": 250,
        "memory": 256,
        "storage": 10,
        "host": f"{script.job_name}.internal",
        "port": 5432,
    }


def _terraform(script: JobScript, deployed: dict[str, Any]) -> dict[str, Any]:
    """A terraform service from git (`TerraformResponse`), its state in the cluster's Kubernetes backend."""
    return _common(script) | {
        "timeout_sec": 600,
        "auto_deploy": False,
        "terraform_files_source": {"git": {"git_repository": _git(script, deployed)}},
        "terraform_variables_source": {"tf_var_file_paths": [], "tf_vars": []},
        "engine": "TERRAFORM",
        "backend": {"kubernetes": {}},
        "provider_version": {"read_from_terraform_block": False, "explicit_version": "1.9.0"},
        "job_resources": {"cpu_milli": 500, "ram_mib": 512, "gpu": 0, "storage_gib": 1},
        "use_cluster_credentials": False,
        "action_extra_arguments": {},
    }


# Each kind's body, by the kind's name (`scripts.KIND_ROWS`).
_BY_KIND: dict[str, Callable[[JobScript, dict[str, Any]], dict[str, Any]]] = {
    "job": _job,
    "application": _application,
    "container": _container,
    "helm": _helm,
    "database": _database,
    "terraform": _terraform,
}
