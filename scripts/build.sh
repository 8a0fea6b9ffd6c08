# shellcheck shell=bash
# Sourced by ./build-apk.sh (not executed): `build` and `release`, plain SwiftPM builds after ensure_deps.
[ "${BASH_SOURCE[0]}" != "$0" ] || { echo "${BASH_SOURCE[0]} is sourced by ./build-apk.sh; run that" >&2; exit 2; }

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
