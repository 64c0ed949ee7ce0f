# Container image for qovery-job-deploy: deploys a Qovery job and waits for its verdict.
#
# Base: the official Debian slim Python image, pinned by tag AND digest (with both, the digest
# decides; the tag says what it is). The digest is the multi-arch index (linux/amd64,
# linux/arm64, ...) published for python:3.12.12-slim-bookworm, which python:3.12-slim-bookworm
# named in the same release. It was taken from public pins of that image, not resolved from the
# machine that wrote this (it reaches no container registry); GitHub CI pulls it by digest
# (.github/workflows/ci.yml, QJD_E2E_BASE=pull). To update: resolve the tag again, e.g.
# `docker buildx imagetools inspect python:3.12-slim-bookworm`, and replace the digest.
# Override for a local or mirrored base with `--build-arg BASE_IMAGE=...`
# (tests/e2e/run.sh does that with a stand-in base built from Debian packages).
ARG BASE_IMAGE=python:3.12-slim-bookworm@sha256:593bd06efe90efa80dc4eee3948be7c0fde4134606dd40d8dd8dbcade98e669c

# ---------------------------------------------------------------------------------------------
# builder: a virtualenv with the hash-pinned runtime dependencies, then the package itself.
FROM ${BASE_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv

# Dependencies first, from the lock files alone: a change to the sources does not invalidate
# these layers, so a source-only rebuild reuses them and downloads nothing.
# --require-hashes: every artifact must match a hash in the lock file;
# --no-deps: the locks are complete, pip resolves nothing on its own;
# --only-binary: wheels only, no build step, no compiler in the image.
COPY requirements.lock requirements-build.lock /tmp/
RUN /opt/venv/bin/pip install --require-hashes --no-deps --only-binary=:all: \
        -r /tmp/requirements.lock \
    && /opt/venv/bin/pip install --require-hashes --no-deps --only-binary=:all: \
        -r /tmp/requirements-build.lock

# Then the project (.dockerignore lets only what the build needs into the context), built
# with the pinned backend installed above (--no-build-isolation: nothing fetched here), and
# the build-only tools (pip, setuptools) dropped from the venv: the final image installs
# nothing at run time.
COPY . /src
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation /src \
    && /opt/venv/bin/pip uninstall --yes setuptools pip \
    && /opt/venv/bin/python -c "import qovery_job_deploy" \
    && mkdir -p /app \
    && cp /src/entrypoint.py /app/entrypoint.py

# ---------------------------------------------------------------------------------------------
# final: the base image plus the virtualenv and the entrypoint; no pip cache, no sources,
# no build tools.
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="qovery-job-deploy" \
      org.opencontainers.image.description="Deploy a Qovery job and wait for its verdict"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app

# No USER instruction on purpose: GitHub requires Docker container actions to run as the
# default user (root); with USER the action cannot write to GITHUB_WORKSPACE nor to the
# GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files the runner mounts. Nothing else in this program
# needs root: it only talks HTTPS to the Qovery API and writes those result files, so plain
# `docker run --user 65534:65534 ...` works too where no such files are used.

# Exec form: the program is PID 1 and receives SIGTERM/SIGINT directly (it installs handlers,
# so `docker stop` or a cancelled CI job ends it promptly with exit code 143/130).
ENTRYPOINT ["python", "/app/entrypoint.py"]
