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
DEPLOYER_HOST="${APK_DEPLOYER_HOST:-127.0.0.1}"
DEPLOYER_PORT="${APK_DEPLOYER_PORT:-9444}"
READY_TIMEOUT="${APK_READY_TIMEOUT:-60}"   # seconds to wait for /health after starting a service
STOP_TIMEOUT="${APK_STOP_TIMEOUT:-15}"     # seconds between SIGTERM and SIGKILL
UP_CONFIGURATION="${APK_BUILD_CONFIGURATION:-release}"   # `debug` makes `up` skip the (slow) release build

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build-apk.sh: error: %s\n' "$*" >&2; exit 1; }

# Installs what the build, the tests and the stack need and is missing (apt as root), each guarded so that a second
# run installs nothing. PostgreSQL itself is found or installed by scripts/postgres.sh.
ensure_deps() {
    command -v swift >/dev/null 2>&1 || die "swift is not on PATH (APK needs Swift 6.2 or later)"
    local missing=()
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    [ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
    if [ "${#missing[@]}" -gt 0 ]; then
        [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || die "missing: ${missing[*]} (install them)"
        log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2 ||
            { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2; }
    fi
}

# A free TCP port on the loopback interface (asked from the kernel).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Generators of committed files. `check` runs them in check mode: regenerate elsewhere and fail on any difference
# (added, removed or changed files) without touching the tree.
run_generators() {
    scripts/protos/generate.sh --check || die "generated protos drifted: run ./build-apk.sh protos and commit the result"
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

# Builds once, starts a throwaway PostgreSQL cluster (real server, own port and folder) for the store and
# integration tests, runs every test, and stops the cluster whatever happened.
cmd_test() {
    ensure_deps
    log "building (debug, with tests)"
    swift build --build-tests
    local pg_dir pg_port env_line status=0
    pg_dir="$(mktemp -d /tmp/apk-test-pg.XXXXXX)"
    chmod 755 "$pg_dir"
    pg_port="$(free_port)"
    log "starting a test PostgreSQL on 127.0.0.1:$pg_port ($pg_dir)"
    env_line="$(scripts/postgres.sh test-env "$pg_dir/pg" "$pg_port")" || die "could not start the test PostgreSQL"
    # shellcheck disable=SC2064  # expand now: the trap must stop this cluster
    trap "APK_PG_DIR='$pg_dir/pg' APK_PG_PORT='$pg_port' scripts/postgres.sh stop || true; rm -rf '$pg_dir'" EXIT
    eval "$env_line"
    export APK_TEST_DATABASE_URL
    log "running tests"
    swift test --skip-build "$@" || status=$?
    return "$status"
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
    swift build -c "$UP_CONFIGURATION" --product apk-deployer
    local bin database_url
    bin="$(swift build -c "$UP_CONFIGURATION" --show-bin-path)"
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    if [ -n "${DATABASE_URL:-}" ] || [ -n "${POSTGRES_HOST:-}" ]; then
        database_url="${DATABASE_URL:-}"
        log "using the PostgreSQL server given by DATABASE_URL/POSTGRES_*"
    else
        APK_PG_PORT="${APK_PG_PORT:-5432}" scripts/postgres.sh start
        touch "$RUN_DIR/postgres.managed"
        database_url="$(APK_PG_PORT="${APK_PG_PORT:-5432}" scripts/postgres.sh url)"
    fi
    start_service config "$bin/apk-config" HTTP_HOST="$CONFIG_HOST" HTTP_PORT="$CONFIG_PORT"
    echo "http://$CONFIG_HOST:$CONFIG_PORT/health" >"$RUN_DIR/config.health"
    # The reference quick-start client is a development fixture; the local stack seeds it (never in production).
    start_service deployer "$bin/apk-deployer" HTTP_HOST="$DEPLOYER_HOST" HTTP_PORT="$DEPLOYER_PORT" \
        SEED_DEV_CLIENT=true ${database_url:+DATABASE_URL="$database_url"}
    echo "http://$DEPLOYER_HOST:$DEPLOYER_PORT/ready" >"$RUN_DIR/deployer.health"
    wait_for_health config "http://$CONFIG_HOST:$CONFIG_PORT/health"
    wait_for_health deployer "http://$DEPLOYER_HOST:$DEPLOYER_PORT/ready"
    log "apk-config is up on http://$CONFIG_HOST:$CONFIG_PORT, apk-deployer on http://$DEPLOYER_HOST:$DEPLOYER_PORT"
    local d="http://$DEPLOYER_HOST:$DEPLOYER_PORT"
    cat <<EOF

Quick start:

  # OpenAPI -> apk-conf
  curl -sS -X POST http://$CONFIG_HOST:$CONFIG_PORT/api/configurator/apis/generate-configuration \\
       -F "definition=@test/fixtures/openapi/petstore-3.0.yaml" -o petstore.apk-conf.yaml

  # apk-conf + OpenAPI -> Kubernetes resources (zip; add -H 'Accept: application/yaml' for one YAML stream)
  curl -sS -X POST "http://$CONFIG_HOST:$CONFIG_PORT/api/configurator/apis/generate-k8s-resources?organization=default" \\
       -F "apkConfiguration=@petstore.apk-conf.yaml" -F "definitionFile=@test/fixtures/openapi/petstore-3.0.yaml" \\
       -o petstore-k8s.zip

  # a token from the built-in issuer (development client of the reference quick start)
  TOKEN=\$(curl -sS -u 45f1c5c8-a92e-11ed-afa1-0242ac120002:4fbd62ec-a92e-11ed-afa1-0242ac120002 \\
       -d 'grant_type=client_credentials&scope=apk:api_create' $d/oauth2/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

  # deploy, list, generate an internal key, undeploy
  curl -sS -X POST $d/api/deployer/apis/deploy -H "Authorization: Bearer \$TOKEN" \\
       -F "apkConfiguration=@petstore.apk-conf.yaml" -F "definitionFile=@test/fixtures/openapi/petstore-3.0.yaml"
  curl -sS $d/api/runtime/apis -H "Authorization: Bearer \$TOKEN"
  curl -sS -X POST $d/api/runtime/apis/<id>/generate-key -H "Authorization: Bearer \$TOKEN"
  curl -sS -X POST "$d/api/deployer/apis/undeploy?apiId=<id>" -H "Authorization: Bearer \$TOKEN"

  ./build-apk.sh status    # what is running
  ./build-apk.sh down      # stop it (data in .apk/postgres survives)

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
    if [ -f "$RUN_DIR/postgres.managed" ]; then
        APK_PG_PORT="${APK_PG_PORT:-5432}" scripts/postgres.sh stop || true
        rm -f "$RUN_DIR/postgres.managed"
    fi
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
    [ -n "$what" ] || die "usage: ./build-apk.sh bench config [rounds] | bench deploy [preloaded] [deploys]"
    shift
    case "$what" in
        config) swift run -c release apk-bench config "$@" ;;
        deploy)
            swift build -c release --product apk-bench
            local pg_dir pg_port env_line
            pg_dir="$(mktemp -d /tmp/apk-bench-pg.XXXXXX)"
            chmod 755 "$pg_dir"
            pg_port="$(free_port)"
            env_line="$(scripts/postgres.sh test-env "$pg_dir/pg" "$pg_port")" || die "could not start PostgreSQL"
            # shellcheck disable=SC2064
            trap "APK_PG_DIR='$pg_dir/pg' APK_PG_PORT='$pg_port' scripts/postgres.sh stop || true; rm -rf '$pg_dir'" EXIT
            eval "$env_line"
            DATABASE_URL="$APK_TEST_DATABASE_URL" "$(swift build -c release --show-bin-path)/apk-bench" deploy "$@"
            ;;
        *) die "unknown benchmark '$what' (known: config, deploy)" ;;
    esac
}

cmd_help() {
    cat <<'EOF'
Usage: ./build-apk.sh <command> [arguments]

  build             debug build of everything, tests included (swift build --build-tests)
  release [PROD…]   release build of the executables (all, or the named products)
  test [ARGS…]      install what is missing, build once, run every test (ARGS go to swift test, e.g. --filter X)
  up                release build; start PostgreSQL (.apk/postgres, unless DATABASE_URL/POSTGRES_* point elsewhere),
                    apk-config and apk-deployer in the background (logs .apk/logs, PIDs .apk/run), wait until
                    they are ready, print the quick start
  down              stop exactly the processes recorded in .apk/run (SIGTERM, then SIGKILL after a deadline)
  status            show what `up` started and whether it answers
  check             warning-free build + no drift of generated files
  bench config      conversion benchmarks (OpenAPI → apk-conf → CRs) from a release build
  bench deploy [N] [M]  deploy-core latency with N APIs preloaded (1000), M deploys (200), PostgreSQL vs in-memory
  protos [--check]  regenerate shared/Sources/{EnvoyProtos,EnvoyGRPC,APKProtos} from xds-protos and proto/apk
                    (installs protoc, a venv in .apk/venv-xds and the plugins in tools/protoc-plugins if missing)
  help              this text

Environment: APK_CONFIG_HOST (127.0.0.1), APK_CONFIG_PORT (9443), APK_DEPLOYER_HOST (127.0.0.1),
APK_DEPLOYER_PORT (9444), APK_PG_PORT (5432), DATABASE_URL, APK_READY_TIMEOUT (60 s),
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
        protos) scripts/protos/generate.sh "$@" ;;
        help | -h | --help) cmd_help ;;
        *)
            cmd_help >&2
            die "unknown command '$command'"
            ;;
    esac
}

main "$@"
