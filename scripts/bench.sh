# shellcheck shell=bash disable=SC2034  # bench_propagation sets globals (APK_DIR, …) for scripts/services.sh
# Sourced by ./build-apk.sh (not executed): `bench config|deploy|propagation`. `bench propagation` runs a stack of its
# own with the functions of scripts/services.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || { echo "${BASH_SOURCE[0]} is sourced by ./build-apk.sh; run that" >&2; exit 2; }

cmd_bench() {
    ensure_deps
    local what="${1:-}"
    [ -n "$what" ] || die "usage: ./build-apk.sh bench config [rounds] | bench deploy [preloaded] [deploys] | bench propagation [deploys] [preloaded…]"
    shift
    case "$what" in
        config) swift run -c release apk-bench config "$@" ;;
        deploy)
            swift build -c release --product apk-bench
            start_test_postgres apk-bench-pg
            DATABASE_URL="$APK_TEST_DATABASE_URL" "$(swift build -c release --show-bin-path)/apk-bench" deploy "$@"
            ;;
        propagation) bench_propagation "$@" ;;
        *) die "unknown benchmark '$what' (known: config, deploy, propagation)" ;;
    esac
}

# bench propagation [DEPLOYS] [PRELOAD…]: deploy → first 200 through Envoy (apk-bench propagation) on a stack of its
# own: a throwaway PostgreSQL, apk-deployer, apk-echo, apk-adapter and Envoy on free loopback ports, in a temporary
# directory (its logs are copied out when the run fails). Everything it started is stopped by PID at the end.
# APK_BENCH_CONFIGURATION=debug skips the release build (figures from a debug build are not comparable).
bench_propagation() {
    local configuration="${APK_BENCH_CONFIGURATION:-release}" envoy product bin work status=0
    envoy="$(ensure_envoy)"
    for product in apk-deployer apk-echo apk-adapter apk-bench; do
        swift build -c "$configuration" --product "$product" || die "could not build $product ($configuration)"
    done
    bin="$(swift build -c "$configuration" --show-bin-path)"
    work="$(mktemp -d /tmp/apk-bench-propagation.XXXXXX)"
    chmod 755 "$work"
    on_exit rm -rf "$work"
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
    start_test_postgres apk-bench-propagation-pg
    # Registered after the PostgreSQL: cleanups run last-registered first, so the services stop before their database.
    on_exit bench_propagation_stop
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

# Stops what bench_propagation started, by the PID files in its directory (RUN_DIR); the throwaway PostgreSQL and the
# directory itself are the cleanups registered before this one.
bench_propagation_stop() {
    local name
    for name in router adapter echo deployer; do stop_service "$name" || true; done
}
