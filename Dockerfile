# Container image for qovery-job-deploy: deploys a Qovery job and waits for its verdict.
#
# Base: the official Debian slim Python image, pinned by tag AND digest (with both, the digest
# decides; the tag says what it is). Where the digest comes from: docker-library/repo-info,
# repos/python/remote/3.13-slim-trixie.md, the digest at its top ("Manifest MIME:
# application/vnd.oci.image.index.v1+json"): the multi-arch index (linux/amd64, linux/arm64, ...) of
# python:3.13-slim-trixie built 2026-08-05 with PYTHON_VERSION=3.13.14. It was read from that public
# record, not resolved from the machine that wrote this (it reaches no container registry); GitHub CI
# pulls it by digest (.github/workflows/ci.yml, QJD_E2E_BASE=pull). Dependabot (.github/dependabot.yml)
# proposes the new digest when the tag moves; it reads FROM lines, not ARG defaults, hence a named
# stage rather than a build argument.
#
# Why 3.13 on Debian 13 (trixie) rather than 3.12 on Debian 12 (bookworm), whose record
# (repos/python/remote/3.12-slim-bookworm.md: 3.12.14, index sha256:0f5b26b9...) was the alternative:
#   - support: bookworm's regular security support ended in June 2026 (LTS only since, to 2028);
#     trixie has it until 2028, LTS to 2030. Python 3.12 gets security fixes until 2028-10, 3.13
#     until 2029-10;
#   - size: 43.0 MB compressed for linux/amd64, against 45.4 MB for 3.12-slim-bookworm;
#   - proof here: the e2e stand-in base is Debian's own python3 (no registry is reachable). Trixie's
#     is 3.13, the base's minor version, so the checks run the very interpreter line the image ships
#     (bookworm's 3.11 could only stand in for 3.12). The dependencies are pure Python or have
#     cp313 wheels in requirements.txt (the stand-in build installs them with --require-hashes).
#
# A local or mirrored base: override the stage, e.g.
#   docker buildx build --build-context base=docker-image://registry.example.com/python:3.13-slim-trixie .
#   podman build --from registry.example.com/python:3.13-slim-trixie .   (replaces this first FROM)
# (tests/e2e/run.sh builds on a stand-in base made from Debian packages and tagged with this name;
# tests/e2e/test_image.py builds this file unchanged with podman's --from).
FROM python:3.13-slim-trixie@sha256:9662417aace5ae7b8e2609cce472b72a8958e134ba372808abe9cc1a0c0125e6 AS base

FROM base AS builder

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
# A PyPI mirror, for runners that reach no PyPI: `--build-arg PIP_INDEX_URL=https://mirror.example/simple`,
# read by pip in this stage only (the final image never has it). The lock files' hashes still decide: a
# mirror cannot swap a package. A URL with credentials goes in a secret instead, a pip.conf with its
# `index-url` (`--secret id=pip.conf,src=FILE`), mounted for this one step: a build argument stays in the
# builder stage's history and layer cache. PIP_INDEX_URL, when given too, beats the secret's pip.conf.
COPY requirements.txt requirements-build.txt /tmp/
ARG PIP_INDEX_URL
RUN --mount=type=secret,id=pip.conf,target=/etc/pip.conf,required=false \
    /opt/venv/bin/pip install --require-hashes --no-deps --only-binary=:all: \
        -r /tmp/requirements.txt \
    && /opt/venv/bin/pip install --require-hashes --no-deps --only-binary=:all: \
        -r /tmp/requirements-build.txt

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
FROM base

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
