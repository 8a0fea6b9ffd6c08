# shellcheck shell=bash disable=SC2034  # bench_propagation sets globals (APK_DIR, …) for scripts/services.sh
# Sourced by ./build-apk.sh (not executed): `bench config|deploy|propagation`. `bench propagation` runs a stack of its
# own with the functions of scripts/services.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || { echo "${BASH_SOURCE[0]} is sourced by ./build-apk.sh; run that" >&2; exit 2; }

cmd_bench() {
    ensure_deps
    local what="${1:-}"
    [ -n "$what" ] || die "usage: ./build-apk.sh bench config [rounds] | bench deploy [preloaded] [deploys] | bench propagation [deploys] [preloaded…] | bench auth [rounds] [seconds] | bench ratelimit [rounds] [seconds]"
    shift
    case "$what" in
        config) swift run -c release apk-bench config "$@" ;;
        deploy)
            swift build -c release --product apk-bench
            start_test_postgres apk-bench-pg
            DATABASE_URL="$APK_TEST_DATABASE_URL" "$(swift build -c release --show-bin-path)/apk-bench" deploy "$@"
            ;;
        propagation) bench_propagation "$@" ;;
        auth) bench_auth "$@" ;;
        ratelimit) bench_ratelimit "$@" ;;
        *) die "unknown benchmark '$what' (known: config, deploy, propagation, auth, ratelimit)" ;;
    esac
}

# bench_workspace NAME PRODUCT…: builds the products (release; APK_BENCH_CONFIGURATION=debug skips the release build,
# APK_BENCH_SCRATCH_PATH builds in another folder, e.g. .build-release beside .build), sets BENCH_BIN (their folder)
# and BENCH_WORK (a throwaway directory, removed at exit), and points the stack functions (start_service,
# stop_service, …) at that directory.
bench_workspace() {
    local name="$1" configuration="${APK_BENCH_CONFIGURATION:-release}" product
    shift
    local scratch=(${APK_BENCH_SCRATCH_PATH:+--scratch-path "$APK_BENCH_SCRATCH_PATH"})
    for product in "$@"; do
        swift build -c "$configuration" "${scratch[@]}" --product "$product" || die "could not build $product ($configuration)"
    done
    BENCH_BIN="$(swift build -c "$configuration" "${scratch[@]}" --show-bin-path)"
    BENCH_WORK="$(mktemp -d "/tmp/apk-bench-$name.XXXXXX")"
    chmod 755 "$BENCH_WORK"
    on_exit rm -rf "$BENCH_WORK"
    APK_DIR="$BENCH_WORK"
    LOG_DIR="$BENCH_WORK/logs"
    RUN_DIR="$BENCH_WORK/run"
    mkdir -p "$LOG_DIR" "$RUN_DIR"
}

# bench propagation [DEPLOYS] [PRELOAD…]: deploy → first 200 through Envoy (apk-bench propagation) on a stack of its
# own: a throwaway PostgreSQL, apk-deployer, apk-echo, apk-adapter and Envoy on free loopback ports, in a temporary
# directory (its logs are copied out when the run fails). Everything it started is stopped by PID at the end.
# APK_BENCH_CONFIGURATION=debug skips the release build (figures from a debug build are not comparable).
bench_propagation() {
    local envoy bin work status=0
    envoy="$(ensure_envoy)"
    bench_workspace propagation apk-deployer apk-echo apk-adapter apk-bench
    bin="$BENCH_BIN" work="$BENCH_WORK"
    DEPLOYER_PORT="$(free_port)"
    ECHO_PORT="$(free_port)"
    ADAPTER_XDS_PORT="$(free_port)"
    ADAPTER_PORT="$(free_port)"
    ROUTER_ADMIN_PORT="$(free_port)"
    GATEWAY_HTTP_PORT="$(free_port)"
    ADAPTER_HOST=127.0.0.1
    start_test_postgres apk-bench-propagation-pg
    # Registered after the PostgreSQL: cleanups run last-registered first, so the services stop before their database.
    on_exit bench_propagation_stop
    local deployer_url="http://127.0.0.1:$DEPLOYER_PORT" echo_url="http://127.0.0.1:$ECHO_PORT"
    local adapter_url="http://127.0.0.1:$ADAPTER_PORT" admin_url="http://127.0.0.1:$ROUTER_ADMIN_PORT"
    start_service deployer "$bin/apk-deployer" HTTP_HOST=127.0.0.1 HTTP_PORT="$DEPLOYER_PORT" SEED_DEV_CLIENT=true \
        GATEWAY_NAME="$GATEWAY_NAME" DATABASE_URL="$APK_TEST_DATABASE_URL" LOG_LEVEL=warning \
        SIGNING_KEY_KEK_FILE="$(dev_kek)"
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

# Stops what bench_propagation started, by the PID files in its directory (RUN_DIR); the throwaway PostgreSQL and the
# directory itself are the cleanups registered before this one.
bench_propagation_stop() {
    local name
    for name in router adapter echo deployer; do stop_service "$name" || true; done
}

# ensure_tool COMMAND APT-PACKAGE: installs the package when the command is missing (root and apt-get needed).
ensure_tool() {
    command -v "$1" >/dev/null 2>&1 && return
    # shellcheck disable=SC2015  # meant: die unless we are root and have apt-get
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || die "$1 is missing (install the $2 package)"
    log "installing $2"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >&2 ||
        { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >&2; }
}

# h2load_rounds ROUNDS SECONDS RATE NAME URL BODY [NAME URL BODY …]: unary gRPC calls at RATE per second (10
# connections, each paced at RATE/10 by h2load's --rps, up to 10 streams in flight each, so a slow answer does not
# hold the next call back), step after step, round after round (interleaved); prints the median p50/p99/p99.9 of
# each step and its p99 over the first step's. h2load (C, nghttp2) costs the shared cores far less than a Swift client.
h2load_rounds() {
    local rounds="$1" seconds="$2" rate="$3" out round index log
    shift 3
    out="$(mktemp)" log="$(mktemp)"
    for ((round = 1; round <= rounds; round++)); do
        for ((index = 1; index <= $#; index += 3)); do
            local name="${!index}" url_index=$((index + 1)) body_index=$((index + 2))
            rm -f "$log"
            h2load -c 10 --rps $((rate / 10)) -D "$seconds" --warm-up-time 1 -m 10 -d "${!body_index}" \
                -H 'content-type: application/grpc' -H 'te: trailers' --log-file="$log" "${!url_index}" >/dev/null 2>&1 ||
                die "h2load failed against ${!url_index}"
            printf '%s\t' "$name" >>"$out"
            python3 - "$log" >>"$out" <<'PY'
import sys
durations = sorted(int(line.split()[2]) for line in open(sys.argv[1]) if line.strip() and line.split()[1].startswith("2"))
n = len(durations)
pick = lambda p: durations[min(n - 1, int(n * p))] / 1000 if n else 0.0
print(f"{n}\t{pick(0.5):.3f}\t{pick(0.99):.3f}\t{pick(0.999):.3f}")
PY
        done
    done
    python3 - "$out" "$rate" "$seconds" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, n, p50, p99, p999 = line.rstrip("\n").split("\t")
    rows.setdefault(name, []).append((int(n), float(p50), float(p99), float(p999)))
first = None
print(f"h2load at {sys.argv[2]}/s, {sys.argv[3]} s per step, medians of {max(len(r) for r in rows.values())} interleaved rounds (ms)")
print(f"{'step':<34} {'calls':>7} {'p50':>7} {'p99':>7} {'p99.9':>7} {'p99 ÷ first':>12}")
for name, values in rows.items():
    p99 = statistics.median(v[2] for v in values)
    first = first or p99
    print(f"{name:<34} {statistics.median(v[0] for v in values):>7.0f} {statistics.median(v[1] for v in values):>7.3f} "
          f"{p99:>7.3f} {statistics.median(v[3] for v in values):>7.3f} {p99 / first:>12.2f}")
PY
    rm -f "$out" "$log"
}

# bench auth [ROUNDS] [SECONDS]: what the gateway's security costs per request (docs/benchmarks.md). One stack of its
# own on free loopback ports: a throwaway PostgreSQL, apk-deployer, apk-echo (the one backend of every step),
# apk-enforcer, and two gateways over the same API: an apk-adapter + Envoy in `native` mode and another pair in
# `enforcer` mode. scripts/bench-auth.py then runs wrk against each step, interleaved round by round, and prints
# medians and ratios to the unsecured operation of the same round (for token steps: the unsecured operation called
# with the same token, which the backend then also receives). Everything started is stopped by PID at the end.
bench_auth() {
    local rounds="${1:-5}" seconds="${2:-5}" envoy bin work
    [[ "$rounds" =~ ^[1-9][0-9]*$ && "$seconds" =~ ^[1-9][0-9]*$ ]] || die "usage: ./build-apk.sh bench auth [rounds] [seconds]"
    ensure_tool wrk wrk
    ensure_tool h2load nghttp2-client
    envoy="$(ensure_envoy)"
    bench_workspace auth apk-deployer apk-echo apk-enforcer apk-adapter apk-ratelimiter apk-bench
    bin="$BENCH_BIN" work="$BENCH_WORK"
    local deployer_port echo_port enforcer_port enforcer_grpc compare_port compare_grpc native_xds native_ops native_http native_admin
    local mode_xds mode_ops mode_http mode_admin rl_redis rl_grpc rl_ops share_xds share_ops share_http share_admin
    deployer_port="$(free_port)" echo_port="$(free_port)" enforcer_port="$(free_port)" enforcer_grpc="$(free_port)"
    compare_port="$(free_port)" compare_grpc="$(free_port)"
    rl_redis="$(free_port)" rl_grpc="$(free_port)" rl_ops="$(free_port)"
    native_xds="$(free_port)" native_ops="$(free_port)" native_http="$(free_port)" native_admin="$(free_port)"
    mode_xds="$(free_port)" mode_ops="$(free_port)" mode_http="$(free_port)" mode_admin="$(free_port)"
    share_xds="$(free_port)" share_ops="$(free_port)" share_http="$(free_port)" share_admin="$(free_port)"
    start_test_postgres apk-bench-auth-pg
    # Registered after the PostgreSQL: cleanups run last-registered first, so the services stop before their database.
    on_exit bench_auth_stop
    local d="http://127.0.0.1:$deployer_port" echo_url="http://127.0.0.1:$echo_port"
    start_service deployer "$bin/apk-deployer" HTTP_HOST=127.0.0.1 HTTP_PORT="$deployer_port" SEED_DEV_CLIENT=true \
        DATABASE_URL="$APK_TEST_DATABASE_URL" LOG_LEVEL=warning SIGNING_KEY_KEK_FILE="$(dev_kek)"
    start_service echo "$bin/apk-echo" HTTP_HOST=127.0.0.1 HTTP_PORT="$echo_port" LOG_LEVEL=warning
    wait_for_health deployer "$d/ready"
    wait_for_health echo "$echo_url/health"
    # Its token issuers come from the enforcer-mode adapter (APK discovery): ready once that adapter is up.
    start_service enforcer "$bin/apk-enforcer" HTTP_HOST=127.0.0.1 HTTP_PORT="$enforcer_port" GRPC_HOST=127.0.0.1 \
        GRPC_PORT="$enforcer_grpc" AUTH_JWKS_URL="$d/oauth2/jwks" LOG_LEVEL=warning DISCOVERY_URL="http://127.0.0.1:$mode_xds"
    # The same enforcer on grpc-swift-2's server, for the Check comparison at the end (no router uses it).
    start_service enforcer-grpc-swift "$bin/apk-enforcer" HTTP_HOST=127.0.0.1 HTTP_PORT="$compare_port" \
        GRPC_HOST=127.0.0.1 GRPC_PORT="$compare_grpc" GRPC_SERVER=grpc-swift AUTH_JWKS_URL="$d/oauth2/jwks" \
        LOG_LEVEL=warning DISCOVERY_URL="http://127.0.0.1:$mode_xds"
    local common=(WATCH_NAMESPACE=default GATEWAY_LISTENER_ADDRESS=127.0.0.1 SYSTEM_DEPLOYER_URL="$d"
        SYSTEM_CONFIG_URL=none DATABASE_URL="$APK_TEST_DATABASE_URL" LOG_LEVEL=warning XDS_HOST=127.0.0.1 HTTP_HOST=127.0.0.1
        AUTH_ENFORCER_URL="http://127.0.0.1:$enforcer_grpc" SYSTEM_ENFORCER_JWKS_URL="http://127.0.0.1:$enforcer_port"
        RATELIMITER_URL="http://127.0.0.1:$rl_grpc")
    start_service adapter "$bin/apk-adapter" "${common[@]}" HTTP_PORT="$native_ops" XDS_PORT="$native_xds" \
        GATEWAY_NAME=bench-native GATEWAY_HTTP_PORT="$native_http"
    start_service adapter-enforcer "$bin/apk-adapter" "${common[@]}" HTTP_PORT="$mode_ops" XDS_PORT="$mode_xds" \
        GATEWAY_NAME=bench-enforcer GATEWAY_HTTP_PORT="$mode_http" AUTH_ENFORCEMENT=enforcer
    # A third gateway in local-share mode (issue 12 §5): quotas under the router's share make no call.
    start_service adapter-share "$bin/apk-adapter" "${common[@]}" HTTP_PORT="$share_ops" XDS_PORT="$share_xds" \
        GATEWAY_NAME=bench-share GATEWAY_HTTP_PORT="$share_http" RATELIMIT_LOCAL_SHARE=0.5
    wait_for_health adapter "http://127.0.0.1:$native_ops/ready"
    wait_for_health adapter-enforcer "http://127.0.0.1:$mode_ops/ready"
    wait_for_health adapter-share "http://127.0.0.1:$share_ops/ready"
    wait_for_health enforcer "http://127.0.0.1:$enforcer_port/ready"
    # Quotas (issue 12 (c)): Redis and the ratelimiter, rules from the native adapter.
    start_redis "$rl_redis"
    start_service ratelimiter "$bin/apk-ratelimiter" HTTP_HOST=127.0.0.1 HTTP_PORT="$rl_ops" GRPC_HOST=127.0.0.1 \
        GRPC_PORT="$rl_grpc" REDIS_PORT="$rl_redis" XDS_PORT="$native_xds" LOG_LEVEL=warning
    wait_for_health ratelimiter "http://127.0.0.1:$rl_ops/ready"
    wait_for_health enforcer-grpc-swift "http://127.0.0.1:$compare_port/ready"
    ADAPTER_HOST=127.0.0.1
    GATEWAY_NAME=bench-native ROUTER_ADMIN_PORT="$native_admin" ADAPTER_XDS_PORT="$native_xds" \
        render_router_bootstrap "$envoy" "$RUN_DIR/envoy.yaml"
    GATEWAY_NAME=bench-enforcer ROUTER_ADMIN_PORT="$mode_admin" ADAPTER_XDS_PORT="$mode_xds" \
        render_router_bootstrap "$envoy" "$RUN_DIR/envoy-enforcer.yaml"
    GATEWAY_NAME=bench-share ROUTER_ADMIN_PORT="$share_admin" ADAPTER_XDS_PORT="$share_xds" \
        render_router_bootstrap "$envoy" "$RUN_DIR/envoy-share.yaml"
    start_service router "$envoy" -- -c "$RUN_DIR/envoy.yaml" --concurrency 2 --use-dynamic-base-id -l warning
    start_service router-share "$envoy" -- -c "$RUN_DIR/envoy-share.yaml" --concurrency 2 --use-dynamic-base-id \
        -l warning
    start_service router-enforcer "$envoy" -- -c "$RUN_DIR/envoy-enforcer.yaml" --concurrency 2 --use-dynamic-base-id \
        -l warning
    wait_for_health router "http://127.0.0.1:$native_admin/ready"
    wait_for_health router-enforcer "http://127.0.0.1:$mode_admin/ready"
    wait_for_health router-share "http://127.0.0.1:$share_admin/ready"

    # The API: an open operation (the baseline), a secured one, and one that needs two scopes.
    printf '%s\n' 'name: bench-auth' 'basePath: /bench-auth' 'version: "1.0"' 'type: REST' \
        'endpointConfigurations:' '  production:' "    - endpoint: $echo_url" 'operations:' \
        '  - {target: /open, verb: GET, secured: false}' '  - {target: /secured, verb: GET}' \
        '  - {target: /scoped, verb: GET, scopes: ["bench:read", "bench:write"]}' >"$work/bench-auth.apk-conf.yaml"
    printf '%s\n' 'openapi: 3.0.3' 'info: {title: bench-auth, version: "1.0"}' 'paths:' \
        '  /open: {get: {responses: {"200": {description: ok}}}}' \
        '  /secured: {get: {responses: {"200": {description: ok}}}}' \
        '  /scoped: {get: {responses: {"200": {description: ok}}}}' >"$work/bench-auth.openapi.yaml"
    # The same API with a backend JWT (contract §7.7), signed by the enforcer in both modes.
    sed -e 's/^name: bench-auth$/name: bench-auth-bjwt/' -e 's|^basePath: /bench-auth$|basePath: /bench-auth-bjwt|' \
        "$work/bench-auth.apk-conf.yaml" >"$work/bench-auth-bjwt.apk-conf.yaml"
    printf '%s\n' 'apiPolicies:' '  request:' '    - policyName: BackendJwt' '      parameters:' \
        '        encoding: Base64url' '        signingAlgorithm: SHA256withRSA' '        header: X-JWT-Assertion' \
        '        tokenTTL: 3600' >>"$work/bench-auth-bjwt.apk-conf.yaml"
    # The same API with subscription validation; `apk-bench subscribe` gives it a 1,001-entry allow-list.
    sed -e 's/^name: bench-auth$/name: bench-auth-subs/' -e 's|^basePath: /bench-auth$|basePath: /bench-auth-subs|' \
        "$work/bench-auth.apk-conf.yaml" >"$work/bench-auth-subs.apk-conf.yaml"
    echo 'subscriptionValidation: true' >>"$work/bench-auth-subs.apk-conf.yaml"
    # The same API with an API-level quota it never reaches: what an exact (Redis-counted) limit costs.
    sed -e 's/^name: bench-auth$/name: bench-auth-rl/' -e 's|^basePath: /bench-auth$|basePath: /bench-auth-rl|' \
        "$work/bench-auth.apk-conf.yaml" >"$work/bench-auth-rl.apk-conf.yaml"
    printf '%s\n' 'rateLimit:' '  requestsPerUnit: 4000000000' '  unit: Minute' >>"$work/bench-auth-rl.apk-conf.yaml"
    local token key id
    token="$(curl -fsS -u "$DEV_CLIENT_ID:$DEV_CLIENT_SECRET" \
        -d 'grant_type=client_credentials&scope=apk:api_create bench:read bench:write' "$d/oauth2/token" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')" || die "no token from $d/oauth2/token"
    id="$(curl -fsS -X POST "$d/api/deployer/apis/deploy" -H "Authorization: Bearer $token" \
        -F "apkConfiguration=@$work/bench-auth.apk-conf.yaml" -F "definitionFile=@$work/bench-auth.openapi.yaml" |
        sed -n 's/^id: *//p' | head -n 1 | tr -d "\"'")" || die "deploying the benchmark API failed"
    curl -fsS -o /dev/null -X POST "$d/api/deployer/apis/deploy" -H "Authorization: Bearer $token" \
        -F "apkConfiguration=@$work/bench-auth-bjwt.apk-conf.yaml" -F "definitionFile=@$work/bench-auth.openapi.yaml" ||
        die "deploying the backend-JWT benchmark API failed"
    curl -fsS -o /dev/null -X POST "$d/api/deployer/apis/deploy" -H "Authorization: Bearer $token" \
        -F "apkConfiguration=@$work/bench-auth-subs.apk-conf.yaml" -F "definitionFile=@$work/bench-auth.openapi.yaml" ||
        die "deploying the subscription benchmark API failed"
    curl -fsS -o /dev/null -X POST "$d/api/deployer/apis/deploy" -H "Authorization: Bearer $token" \
        -F "apkConfiguration=@$work/bench-auth-rl.apk-conf.yaml" -F "definitionFile=@$work/bench-auth.openapi.yaml" ||
        die "deploying the rate-limited benchmark API failed"
    DATABASE_URL="$APK_TEST_DATABASE_URL" "$bin/apk-bench" subscribe default bench-auth-subs 1.0 1000 "$DEV_CLIENT_ID" >&2 ||
        die "subscribing the benchmark client failed"
    key="$(curl -fsS -X POST "$d/api/runtime/apis/$id/generate-key" -H "Authorization: Bearer $token" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["apikey"])')" || die "generate-key failed"
    local port deadline
    for port in "$native_http" "$mode_http" "$native_http/bench-auth-bjwt" "$mode_http/bench-auth-bjwt" \
        "$native_http/bench-auth-subs" "$mode_http/bench-auth-subs" "$native_http/bench-auth-rl" "$share_http" \
        "$share_http/bench-auth-rl"; do
        deadline=$((SECONDS + 30))
        [[ "$port" == */* ]] || port="$port/bench-auth"
        until [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: gw.wso2.com' -H "Authorization: Bearer $token" \
            "http://127.0.0.1:$port/1.0/scoped")" = 200 ]; do
            ((SECONDS < deadline)) || die "the benchmark API did not become routable on port $port; logs in $LOG_DIR"
            sleep 0.2   # poll interval
        done
    done
    log "stack up in $work; $rounds interleaved rounds of ${seconds}s per step"
    local native="http://127.0.0.1:$native_http/bench-auth/1.0" mode="http://127.0.0.1:$mode_http/bench-auth/1.0"
    local native_bjwt="http://127.0.0.1:$native_http/bench-auth-bjwt/1.0" mode_bjwt="http://127.0.0.1:$mode_http/bench-auth-bjwt/1.0"
    local native_subs="http://127.0.0.1:$native_http/bench-auth-subs/1.0" mode_subs="http://127.0.0.1:$mode_http/bench-auth-subs/1.0"
    local native_rl="http://127.0.0.1:$native_http/bench-auth-rl/1.0"
    local share="http://127.0.0.1:$share_http/bench-auth/1.0" share_rl="http://127.0.0.1:$share_http/bench-auth-rl/1.0"
    local bearer="\"Host\": \"gw.wso2.com\", \"Authorization\": \"Bearer $token\""
    local internal="\"Host\": \"gw.wso2.com\", \"Internal-Key\": \"$key\"" open='"Host": "gw.wso2.com"'
    python3 "$ROOT/scripts/bench-auth.py" <<PLAN
{"rounds": $rounds, "seconds": $seconds, "connections": 50,
 "enforcer": {"pid": $(cat "$(pid_file enforcer)"), "metrics": "http://127.0.0.1:$enforcer_port/metrics"},
 "steps": [
  {"name": "unsecured", "url": "$native/open", "headers": {$open}, "baseline": "unsecured"},
  {"name": "unsecured + token sent", "url": "$native/open", "headers": {$bearer}, "baseline": "unsecured"},
  {"name": "native jwt", "url": "$native/secured", "headers": {$bearer}, "baseline": "unsecured + token sent"},
  {"name": "native jwt + 2 scopes", "url": "$native/scoped", "headers": {$bearer}, "baseline": "unsecured + token sent"},
  {"name": "native internal key", "url": "$native/secured", "headers": {$internal}, "baseline": "unsecured"},
  {"name": "native jwt + 1,001 subscribers", "url": "$native_subs/secured", "headers": {$bearer}, "baseline": "unsecured + token sent"},
  {"name": "native jwt + backend JWT", "url": "$native_bjwt/secured", "headers": {$bearer}, "baseline": "unsecured + token sent", "enforcer": true},
  {"name": "unsecured + rate limit (exact)", "url": "$native_rl/open", "headers": {$open}, "baseline": "unsecured"},
  {"name": "local-share router, unsecured", "url": "$share/open", "headers": {$open}, "baseline": "local-share router, unsecured"},
  {"name": "unsecured + rate limit (local share)", "url": "$share_rl/open", "headers": {$open}, "baseline": "local-share router, unsecured"},
  {"name": "enforcer-mode unsecured", "url": "$mode/open", "headers": {$open}, "baseline": "unsecured"},
  {"name": "enforcer jwt + 2 scopes", "url": "$mode/scoped", "headers": {$bearer}, "baseline": "unsecured + token sent", "enforcer": true},
  {"name": "enforcer internal key", "url": "$mode/secured", "headers": {$internal}, "baseline": "unsecured", "enforcer": true},
  {"name": "enforcer jwt + 1,001 subscribers", "url": "$mode_subs/secured", "headers": {$bearer}, "baseline": "unsecured + token sent", "enforcer": true},
  {"name": "enforcer jwt + backend JWT", "url": "$mode_bjwt/secured", "headers": {$bearer}, "baseline": "unsecured + token sent", "enforcer": true},
  {"name": "unsecured, 1 conn", "url": "$native/open", "headers": {$open}, "baseline": "unsecured, 1 conn", "connections": 1},
  {"name": "native jwt, 1 conn", "url": "$native/scoped", "headers": {$bearer}, "baseline": "unsecured, 1 conn", "connections": 1},
  {"name": "enforcer jwt, 1 conn", "url": "$mode/scoped", "headers": {$bearer}, "baseline": "unsecured, 1 conn", "connections": 1, "enforcer": true}
 ]}
PLAN
    # The issue's target as it is stated: the enforcer's Check at 1,000 req/s, open loop, p99 (against the Check of
    # an unsecured operation, the transport's floor), on the lean server and on grpc-swift-2's, interleaved.
    log "the enforcer's Check at 1,000 req/s (apk-bench check-load)"
    "$bin/apk-bench" check-load 127.0.0.1 "$enforcer_grpc" "$token" 1000 "$seconds" "$rounds" "$compare_grpc"
    log "the same Check at 1,000 req/s from h2load"
    "$bin/apk-bench" grpc-bodies "$work" "$token" || die "apk-bench grpc-bodies failed"
    local check="envoy.service.auth.v3.Authorization/Check"
    h2load_rounds "$rounds" "$seconds" 1000 \
        "floor (lean)" "http://127.0.0.1:$enforcer_grpc/$check" "$work/check-floor.bin" \
        "jwt + 2 scopes (lean)" "http://127.0.0.1:$enforcer_grpc/$check" "$work/check-jwt.bin" \
        "floor (grpc-swift)" "http://127.0.0.1:$compare_grpc/$check" "$work/check-floor.bin" \
        "jwt + 2 scopes (grpc-swift)" "http://127.0.0.1:$compare_grpc/$check" "$work/check-jwt.bin"
}

# Stops what bench_auth started, by the PID files in its directory (RUN_DIR).
bench_auth_stop() {
    local name
    for name in router-share router-enforcer router ratelimiter redis adapter-share adapter-enforcer adapter \
        enforcer-grpc-swift enforcer echo deployer; do
        stop_service "$name" || true
    done
}

# bench ratelimit [ROUNDS] [SECONDS]: apk-ratelimiter's ShouldRateLimit on its own (issue 12 (a), (b)): a
# redis-server and the ratelimiter (a static rule it never reaches) on free loopback ports, the always-OK floor on the
# same lean gRPC server and on grpc-swift-2's, and `redis-benchmark -t incr -P 16` on the same Redis (the physical
# limit), interleaved round after round; medians. The load generator (apk-bench ratelimit) shares the 2 cores.
bench_ratelimit() {
    local rounds="${1:-5}" seconds="${2:-5}" bin redis_port grpc ops floor floor_swift round
    ensure_tool h2load nghttp2-client
    bench_workspace ratelimit apk-ratelimiter apk-bench
    bin="$BENCH_BIN"
    redis_port="$(free_port)" grpc="$(free_port)" ops="$(free_port)" floor="$(free_port)" floor_swift="$(free_port)"
    on_exit bench_ratelimit_stop
    start_redis "$redis_port"
    start_service ratelimiter "$bin/apk-ratelimiter" HTTP_HOST=127.0.0.1 HTTP_PORT="$ops" GRPC_HOST=127.0.0.1 \
        GRPC_PORT="$grpc" REDIS_PORT="$redis_port" LOG_LEVEL=warning \
        RULES_JSON='{"rules":[{"descriptorValue":"bench","limit":{"requestsPerUnit":4000000000,"unit":"MINUTE"}}]}'
    start_service bench-floor "$bin/apk-bench" -- ratelimit-floor "$floor" lean
    start_service bench-floorswift "$bin/apk-bench" -- ratelimit-floor "$floor_swift" grpc-swift
    wait_for_health ratelimiter "http://127.0.0.1:$ops/ready"
    local out="$BENCH_WORK/results.txt"
    for ((round = 1; round <= rounds; round++)); do
        log "round $round of $rounds"
        { echo "## ratelimiter"; "$bin/apk-bench" ratelimit "$grpc" "$seconds" 32 5000 "$(cat "$(pid_file ratelimiter)")"
          echo "## floor-lean"; "$bin/apk-bench" ratelimit "$floor" "$seconds" 32 5000 "$(cat "$(pid_file bench-floor)")"
          echo "## floor-grpc-swift"
          "$bin/apk-bench" ratelimit "$floor_swift" "$seconds" 32 5000 "$(cat "$(pid_file bench-floorswift)")"
          echo "## redis"; redis-benchmark -p "$redis_port" -t incr -P 16 -q -n 1000000 2>/dev/null | tr '\r' '\n' | tail -n 2
        } >>"$out" 2>&1 || die "a benchmark round failed; see $out and $LOG_DIR"
    done
    python3 - "$out" <<'PY'
import re, statistics, sys
runs = {}
current = None
for line in open(sys.argv[1]):
    if line.startswith("## "):
        current = runs.setdefault(line[3:].strip(), {})
        continue
    if current is None:
        continue
    for key, pattern in [("decisions/s", r"closed loop: ([0-9.]+) decisions/s"), ("closed p99 ms", r"closed loop:.*p99 ([0-9.]+) ms"),
                         ("server ms CPU/decision", r"server CPU: ([0-9.]+) ms per decision"),
                         ("decisions per CPU-second", r"([0-9.]+) decisions per CPU-second"),
                         ("open p50 ms", r"open loop at \d+/s: p50 ([0-9.]+) ms"), ("open p99 ms", r"open loop at \d+/s:.*p99 ([0-9.]+) ms"),
                         ("INCR/s", r"INCR: ([0-9.]+) requests per second")]:
        match = re.search(pattern, line)
        if match:
            current.setdefault(key, []).append(float(match.group(1)))
print(f"medians of {max((len(v) for r in runs.values() for v in r.values()), default=0)} interleaved rounds")
for name, values in runs.items():
    print(name + ": " + ", ".join(f"{key} {statistics.median(v):.3f}" for key, v in values.items()))
PY
    # The p99 target as stated (5,000 decisions/s), from h2load: the ratelimiter (Redis INCRBY + EXPIRE per call)
    # against the always-OK floor on the same lean server.
    "$bin/apk-bench" grpc-bodies "$BENCH_WORK" none || die "apk-bench grpc-bodies failed"
    local rls="envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit"
    h2load_rounds "$rounds" "$seconds" 5000 \
        "floor (lean)" "http://127.0.0.1:$floor/$rls" "$BENCH_WORK/rls.bin" \
        "ratelimiter" "http://127.0.0.1:$grpc/$rls" "$BENCH_WORK/rls.bin"
}

# Stops what bench_ratelimit started, by PID.
bench_ratelimit_stop() {
    local name
    for name in bench-floorswift bench-floor ratelimiter redis; do stop_service "$name" || true; done
}
