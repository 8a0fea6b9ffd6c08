# shellcheck shell=bash
# Sourced by ./build-apk.sh (not executed): `test`.
[ "${BASH_SOURCE[0]}" != "$0" ] || { echo "${BASH_SOURCE[0]} is sourced by ./build-apk.sh; run that" >&2; exit 2; }

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
    local status=0
    start_test_postgres apk-test-pg
    log "running tests"
    swift test --skip-build "$@" || status=$?
    return "$status"
}
