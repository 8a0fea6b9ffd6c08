# shellcheck shell=bash
# Sourced by ./build-apk.sh (not executed): the background services of a stack — start one detached, wait for its
# health URL, stop it by PID — and the router's bootstrap. Used by `up`/`down`/`status` (scripts/stack.sh) and by
# `bench propagation` (scripts/bench.sh), which points LOG_DIR and RUN_DIR at a directory of its own.
[ "${BASH_SOURCE[0]}" != "$0" ] || { echo "${BASH_SOURCE[0]} is sourced by ./build-apk.sh; run that" >&2; exit 2; }

# The services of the stack in start order (`down` stops them in reverse order; PostgreSQL is started before and
# stopped after them).
STACK_SERVICES=(config deployer echo enforcer adapter router)

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# How messages name a service: the router (and `router-<x>`, a second router of a benchmark) is Envoy, every other
# one our binary apk-<name>.
label() {
    case "$1" in
        router*) echo "$1 (Envoy)" ;;
        redis) echo "redis-server" ;;
        *) echo "apk-$1" ;;
    esac
}

# What the command line of the service's process contains: Envoy's is the bootstrap this stack renders, ours the
# binary's name.
cmdline_marker() {
    case "$1" in
        router) echo "$RUN_DIR/envoy.yaml" ;;
        router-*) echo "$RUN_DIR/envoy-${1#router-}.yaml" ;;
        redis) echo "redis-server" ;;
        *) echo "apk-${1%%-*}" ;;   # `adapter-<x>`: a second apk-adapter of a benchmark
    esac
}

# True when the PID in the service's PID file is alive and is still the process we started (not a reused PID).
is_running() {
    local file pid
    file="$(pid_file "$1")"
    [ -f "$file" ] || return 1
    pid="$(cat "$file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(cmdline_marker "$1")"
}

# The address to connect to for a service bound to $1 (a wildcard bind is reached over the loopback interface).
connect_host() {
    case "$1" in
        0.0.0.0 | "") echo 127.0.0.1 ;;
        *) echo "$1" ;;
    esac
}

# Polls URL until it answers 2xx, the process dies, or the deadline passes.
wait_for_health() {
    local name="$1" url="$2" deadline=$((SECONDS + READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        if curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; then return 0; fi
        is_running "$name" || die "$(label "$name") exited during start-up; see $LOG_DIR/$name.log"
        sleep 0.2   # poll interval, not a synchronisation delay
    done
    die "$(label "$name") did not answer $url within ${READY_TIMEOUT}s; see $LOG_DIR/$name.log"
}

# start_service NAME BINARY [VAR=value…] [-- ARG…]: starts BINARY in the background with those environment variables
# and arguments, output to .apk/logs/NAME.log, PID in .apk/run/NAME.pid; does nothing when it is already running.
#
# The process must outlive this script, and Envoy asks the kernel for SIGTERM when its parent exits
# (PR_SET_PDEATHSIG): so every service is started as the grandchild of a throwaway subshell and execs its binary only
# once that subshell has exited (the grandchild then belongs to init or the nearest subreaper, which stays).
# start_redis PORT: the stack's redis-server (service name `redis`) on loopback, keeping nothing on disk (quota
# counters live for one window).
start_redis() {
    start_service redis "$(command -v redis-server || echo /usr/bin/redis-server)" -- --bind 127.0.0.1 --port "$1" \
        --save "" --appendonly no --dir "$RUN_DIR"
}

start_service() {
    local name="$1" binary="$2" variables=() pid deadline
    shift 2
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
        variables+=("$1")
        shift
    done
    if [ "$#" -gt 0 ]; then shift; fi   # the `--`
    if is_running "$name"; then
        log "$(label "$name") already running (PID $(cat "$(pid_file "$name")"))"
        return 0
    fi
    mkdir -p "$LOG_DIR" "$RUN_DIR"
    log "starting $(label "$name") (log: $LOG_DIR/$name.log)"
    (
        parent="$BASHPID"
        (
            limit=$((SECONDS + 5))
            while ((SECONDS < limit)) && read -r _ _ _ ppid _ <"/proc/$BASHPID/stat" && [ "$ppid" = "$parent" ]; do
                sleep 0.01   # poll interval: waiting for the subshell's exit
            done
            exec env "${variables[@]}" nohup "$binary" "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null
        ) &
        echo "$!" >"$(pid_file "$name")"
    )
    # Until the exec the PID is still a copy of this script: wait (bounded) until it is the service.
    pid="$(cat "$(pid_file "$name")")"
    deadline=$((SECONDS + 10))
    until is_running "$name"; do
        kill -0 "$pid" 2>/dev/null || die "$(label "$name") exited at once; see $LOG_DIR/$name.log"
        ((SECONDS < deadline)) || die "$(label "$name") (PID $pid) did not start within 10s"
        sleep 0.01   # poll interval
    done
}

stop_service() {
    local name="$1" file pid deadline
    file="$(pid_file "$name")"
    if ! is_running "$name"; then
        [ -f "$file" ] && log "$(label "$name") is not running (removing stale PID file)"
        rm -f "$file" "$RUN_DIR/$name.health"
        return 0
    fi
    pid="$(cat "$file")"
    log "stopping $(label "$name") (PID $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.1   # poll interval
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$(label "$name") ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file" "$RUN_DIR/$name.health"
}

# The services that have a PID file: the known ones in start order, then any other (e.g. left by an older version).
recorded_services() {
    local name file
    for name in "${STACK_SERVICES[@]}"; do
        [ -f "$(pid_file "$name")" ] && echo "$name"
    done
    shopt -s nullglob
    for file in "$RUN_DIR"/*.pid; do
        name="$(basename "$file" .pid)"
        [[ " ${STACK_SERVICES[*]} " == *" $name "* ]] || echo "$name"
    done
    return 0
}

# render_router_bootstrap ENVOY [OUTPUT]: renders services/router/envoy-bootstrap.yaml.template into OUTPUT
# ($RUN_DIR/envoy.yaml by default; every placeholder must get a value) and lets Envoy validate it.
render_router_bootstrap() {
    local envoy="$1" output="${2:-$RUN_DIR/envoy.yaml}"
    python3 - "$ROOT/services/router/envoy-bootstrap.yaml.template" "$output" \
        GATEWAY_NAME="$GATEWAY_NAME" ADMIN_ADDRESS=127.0.0.1 ADMIN_PORT="$ROUTER_ADMIN_PORT" \
        XDS_HOST="$(connect_host "$ADAPTER_HOST")" XDS_PORT="$ADAPTER_XDS_PORT" <<'PY' || die "could not render the Envoy bootstrap"
import os, string, sys
template, output, *pairs = sys.argv[1:]
values = dict(pair.split("=", 1) for pair in pairs)
try:
    text = string.Template(open(template).read()).substitute(values)
except KeyError as error:
    sys.exit(f"{template}: no value for placeholder {error}")
except ValueError as error:
    sys.exit(f"{template}: {error}")
with open(output + ".tmp", "w") as file:
    file.write(text)
os.replace(output + ".tmp", output)
PY
    "$envoy" --mode validate -l warning -c "$output" >>"$LOG_DIR/router.log" 2>&1 ||
        die "Envoy rejected the bootstrap $output; see $LOG_DIR/router.log"
}
