"""The services every simulator has, unless given others: for the demo, the container checks, the runner
emulators and the benchmarks. All of them in DEMO_ENVIRONMENT (production in acme / shop)."""

from __future__ import annotations

from qovery_job_deploy.simulator.scripts import (
    API_CONTAINER,
    BROKEN_APPLICATION,
    BUILD_ERROR,
    DEMO_ENVIRONMENT,
    FAILURE_JOB,
    HOSTILE_LOG_JOB,
    HOSTILE_LOG_LINES,
    INGRESS_HELM,
    NETWORK_TERRAFORM,
    POSTGRES_DATABASE,
    SLOW_JOB,
    SUCCESS_JOB,
    WEB_APPLICATION,
    JobScript,
    Link,
)


def builtin_jobs() -> list[JobScript]:
    """The built-in jobs alone (see `builtin_services`)."""
    return [script for script in builtin_services() if script.kind == "job"]


def builtin_services() -> list[JobScript]:
    """The services every simulator has: for the demo, the container tests and the runner emulators.
    All of them in DEMO_ENVIRONMENT (production in acme / shop)."""
    return [
        JobScript(
            SUCCESS_JOB,
            timeline=[(0.0, "QUEUED"), (0.5, "DEPLOYING"), (1.0, "EXECUTING"), (2.0, "DEPLOYED")],
            stale_seconds=0.5,
            past_durations=[2, 2, 3],
            about="succeeds (DEPLOYED) in about 2 s",
            job_name="migrate",
            environment_id=DEMO_ENVIRONMENT,
        ),
        JobScript(
            FAILURE_JOB,
            timeline=[(0.0, "QUEUED"), (0.5, "DEPLOYING"), (1.0, "EXECUTING"), (2.0, "DEPLOYMENT_ERROR")],
            stale_seconds=0.5,
            about="fails (DEPLOYMENT_ERROR) after about 2 s, with a migration error in its log",
            job_name="add-orders-index",
            environment_id=DEMO_ENVIRONMENT,
            log_lines=[
                "Running migrations for shop",
                "Applying 0042_add_orders_index...",
                'psql: error: relation "orders_idx" already exists',
                "Process exited with code 1",
            ],
        ),
        JobScript(
            HOSTILE_LOG_JOB,
            timeline=[(0.0, "QUEUED"), (0.5, "EXECUTING"), (1.0, "DEPLOYMENT_ERROR")],
            log_lines=list(HOSTILE_LOG_LINES),
            about="fails, its log trying runner commands and escapes (for tests)",
            job_name="hostile-log",
            environment_id=DEMO_ENVIRONMENT,
        ),
        JobScript(
            SLOW_JOB,
            timeline=[(0.0, "QUEUED"), (1.0, "EXECUTING"), (600.0, "DEPLOYED")],
            about="runs for 10 minutes: try `timeout`, `cancel-on-timeout`, Ctrl-C",
            job_name="nightly-report",
            environment_id=DEMO_ENVIRONMENT,
        ),
        JobScript(
            API_CONTAINER,
            kind="container",
            timeline=[(0.0, "QUEUED"), (0.5, "BUILDING"), (1.2, "DEPLOYING"), (2.0, "DEPLOYED")],
            stale_seconds=0.5,
            past_durations=[2, 2],
            about="succeeds (DEPLOYED) in about 2 s, BUILDING then DEPLOYING",
            job_name="api",
            environment_id=DEMO_ENVIRONMENT,
            current_image_tag="1.4.2",
        ),
        JobScript(
            WEB_APPLICATION,
            kind="application",
            timeline=[(0.0, "QUEUED"), (0.5, "BUILDING"), (2.0, "DEPLOYING"), (3.0, "DEPLOYED")],
            stale_seconds=0.5,
            past_durations=[3, 4],
            about="builds, then succeeds (DEPLOYED) in about 3 s; answers on a custom domain",
            job_name="web",
            environment_id=DEMO_ENVIRONMENT,
            links=[  # a port of its Qovery domain, and its own domain, the default
                Link("https://p3000-web-88888888.qovery.example", is_default=False, internal_port=3000),
                Link("https://www.shop.example", is_qovery_domain=False, internal_port=3000),
            ],
        ),
        JobScript(
            BROKEN_APPLICATION,
            kind="application",
            timeline=[(0.0, "QUEUED"), (0.5, "BUILDING"), (2.0, "BUILD_ERROR")],
            stale_seconds=0.5,
            about="fails to build (BUILD_ERROR) after about 2 s, the build's output in its log",
            job_name="web-broken",
            environment_id=DEMO_ENVIRONMENT,
            log_lines=[
                "Step 4/9 : COPY package.json package-lock.json ./",
                "Step 5/9 : RUN npm ci",
                "npm ERR! code ERESOLVE",
                "npm ERR! ERESOLVE could not resolve dependency: peer react@18 from react-dom@18.3.1",
                "The command '/bin/sh -c npm ci' returned a non-zero code: 1",
            ],
            log_error=dict(BUILD_ERROR),
        ),
        JobScript(
            INGRESS_HELM,
            kind="helm",
            timeline=[(0.0, "QUEUED"), (0.5, "DEPLOYING"), (2.0, "DEPLOYED")],
            about="succeeds (DEPLOYED) in about 2 s",
            job_name="ingress",
            environment_id=DEMO_ENVIRONMENT,
            current_chart_version="4.11.3",
        ),
        JobScript(
            POSTGRES_DATABASE,
            kind="database",
            timeline=[(0.0, "QUEUED"), (0.5, "DEPLOYING"), (2.0, "DEPLOYED")],
            about="succeeds (DEPLOYED) in about 2 s",
            job_name="postgres",
            environment_id=DEMO_ENVIRONMENT,
        ),
        JobScript(
            NETWORK_TERRAFORM,
            kind="terraform",
            timeline=[(0.0, "QUEUED"), (0.5, "DEPLOYING"), (1.0, "EXECUTING"), (2.0, "DEPLOYED")],
            about="applies its terraform (DEPLOYED) in about 2 s, its status in the environment's only",
            job_name="network",
            environment_id=DEMO_ENVIRONMENT,
        ),
    ]
