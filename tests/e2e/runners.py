"""The two CI runner emulators, run in scratch repositories: nektos/act (GitHub Actions) and
gitlab-ci-local (GitLab CI), both through podman's Docker API, both on the host network so that the
simulator on 127.0.0.1 is reachable."""

from __future__ import annotations

import dataclasses
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .harness import (
    GITHUB_TOKEN,
    RUNNER_TIMEOUT,
    TOKEN,
    Run,
    Setup,
    commit_all,
    podman_env,
    run,
    service_log_since,
    service_log_size,
    unless_podman_raced,
)

# GITHUB_API_URL in an act run that is given no fake GitHub: port 9 of the loopback (discard), where nothing
# listens on these machines: a step that calls GitHub anyway is refused at once, and nothing leaves the machine.
NO_GITHUB = "http://127.0.0.1:9"


@dataclass(frozen=True)
class Act:
    setup: Setup
    docker_host: str
    repo: Path
    home: Path  # per run (by name): act's XDG dirs and secrets file, the copy run_jobs commits to

    def run(
        self,
        name: str,
        workflow: str,
        api_url: str | None,
        *extra: str,
        event: str = "push",
        github_api_url: str = NO_GITHUB,
    ) -> Run:
        """`act EVENT` (push unless said) of one workflow; the token as a secret, the simulator's URL (when given)
        as QOVERY_API_URL in the environment of every job (act's `--env`, like a workflow-level `env:`). Each run
        (by name) has act's XDG directories and secrets file of its own, so that runs can go at once.

        No run reaches GitHub: GITHUB_API_URL is a loopback fake's (`github_api_url`) or a closed loopback port,
        whatever a workflow asks (act takes it from `--env` over its https://api.github.com), and the job's token
        (`${{ github.token }}`, the secret GITHUB_TOKEN) is a fake one, never `gh auth token` from this machine."""
        home = self.home / name
        (home / "config" / "act").mkdir(parents=True, exist_ok=True)
        (home / "config" / "act" / "actrc").write_text("")  # no user configuration
        secrets_file = home / "act.secrets"
        secrets_file.write_text(f"QOVERY_API_TOKEN={TOKEN}\nGITHUB_TOKEN={GITHUB_TOKEN}\n", encoding="utf-8")
        secrets_file.chmod(0o600)
        env = podman_env(
            {
                "DOCKER_HOST": self.docker_host,
                "XDG_CACHE_HOME": str(home / "cache"),
                "XDG_CONFIG_HOME": str(home / "config"),
            }
        )
        argv: list[str | Path] = [
            self.setup.act, event, "-W", workflow, "-P", f"ubuntu-latest={self.setup.helper_image}",
            "--pull=false", "--rm", "--secret-file", secrets_file, "--env", f"GITHUB_API_URL={github_api_url}",
            *(["--env", f"QOVERY_API_URL={api_url}"] if api_url else []), *extra,
        ]  # fmt: skip
        return unless_podman_raced(run(name, argv, timeout=RUNNER_TIMEOUT, env=env, cwd=self.repo))

    def run_jobs(
        self,
        name: str,
        jobs: dict[str, dict[str, Any]],
        api_urls: dict[str, str],
        *extra: str,
        event: str = "push",
        github_api_url: str = NO_GITHUB,
    ) -> JobsRun:
        """Several checks' jobs as one workflow in one act run, all at once (act's default is one job per CPU).
        Each job reaches its own simulator through a job-level `env: QOVERY_API_URL`, and nothing else gives the
        step a URL; each simulator serves from a process of its own (harness.SimulatorProcess): five jobs at once
        starved simulators served by the test process on this 2-core machine, past a step's 5 s read bound. The
        workflow is committed to a copy of the repository of the run's own, so that runs can go at once; `event` and
        `github_api_url` as in `run`."""
        workflow = {
            "name": name,
            "on": event,
            "permissions": {},
            "jobs": {
                job_id: job
                | {"name": job_id, "env": job.get("env", {}) | {"QOVERY_API_URL": api_urls[job_id]}}
                for job_id, job in jobs.items()
            },
        }
        assert "GITHUB_API_URL" not in yaml.safe_dump(workflow), (
            f"{name}: a job sets GITHUB_API_URL, over the loopback one that keeps every run away from GitHub"
        )
        act = dataclasses.replace(self, repo=self.home / name / "repo")
        shutil.rmtree(act.repo, ignore_errors=True)  # a launch's first attempt's (runs.Launch)
        shutil.copytree(self.repo, act.repo, symlinks=True)
        path = act.repo / ".github" / "workflows" / f"{name}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(workflow, sort_keys=False), encoding="utf-8")
        commit_all(act.repo, f"e2e: {name}")
        workflow_path = str(path.relative_to(act.repo))
        run = act.run(
            name, workflow_path, None, "--concurrent-jobs", str(len(jobs)), *extra,
            event=event, github_api_url=github_api_url,
        )  # fmt: skip
        return JobsRun(run, name, workflow, act.repo)


@dataclass(frozen=True)
class JobsRun:
    """One act run of several jobs (Act.run_jobs): the run, and what each job printed."""

    run: Run
    name: str
    workflow: dict[str, Any]
    repo: Path  # the copy it ran in: its HEAD is the run's github.sha

    def log(self, job: str) -> str:
        """act's lines of one job, each `[NAME/JOB] ...` (the job padded to the longest job's length)."""
        prefix = re.compile(rf"\[{re.escape(self.name)}/{re.escape(job)} *\]")
        lines = (self.run.stdout + "\n" + self.run.stderr).splitlines()
        return "\n".join(line for line in lines if prefix.match(line))


@dataclass(frozen=True)
class GitlabCiLocal:
    setup: Setup
    docker_host: str
    repo: Path
    home: Path

    def apart(self, directory: Path) -> GitlabCiLocal:
        """gitlab-ci-local in a copy of the repository and a home of its own: a run there can go beside others
        (each writes its variables file, its state and its artifacts under its repository)."""
        repo = directory / "repo"
        shutil.rmtree(directory, ignore_errors=True)  # a launch's first attempt's (runs.Launch)
        shutil.copytree(self.repo, repo, symlinks=True)
        return dataclasses.replace(self, repo=repo, home=directory / "home")

    def run(
        self,
        name: str,
        pipeline: str,
        api_url: str,
        *jobs: str,
        variables: dict[str, str] | None = None,
        predefined: dict[str, str] | None = None,
    ) -> Run:
        """gitlab-ci-local on one pipeline file; the token and the simulator's URL as project CI/CD
        variables would come on GitLab (a variables file, never committed). GITLAB_CI=true: gitlab-ci-local
        sets it to "false"; real GitLab sets "true". `predefined`: more of GitLab's own variables, set as that one
        is (`--variable`), CI_PIPELINE_SOURCE say."""
        lines = [f'QOVERY_API_TOKEN: "{TOKEN}"', f'QOVERY_API_URL: "{api_url}"']
        lines += [f'{key}: "{value}"' for key, value in (variables or {}).items()]
        variables_file = self.repo / ".gitlab-ci-local-variables.yml"
        variables_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        variables_file.chmod(0o600)
        argv: list[str | Path] = [
            self.setup.gitlab_ci_local, "--file", pipeline, "--container-executable", "docker",
            "--helper-image", self.setup.helper_image, "--pull-policy", "if-not-present",
            "--no-artifacts-to-source", "--network", "host", "--home", self.home, "--variable", "GITLAB_CI=true",
            *[f"--variable={key}={value}" for key, value in (predefined or {}).items()], *jobs,
        ]  # fmt: skip
        service_log_from = service_log_size()
        done = run(
            name,
            argv,
            timeout=RUNNER_TIMEOUT,
            env=podman_env({"DOCKER_HOST": self.docker_host}),
            cwd=self.repo,
        )
        return unless_podman_raced(done, service_log_since(service_log_from))
