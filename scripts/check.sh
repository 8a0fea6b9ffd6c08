# shellcheck shell=bash
# Sourced by ./build-apk.sh (not executed): `check` — package structure, a warning-free build, no drift of
# generated files.
[ "${BASH_SOURCE[0]}" != "$0" ] || { echo "${BASH_SOURCE[0]} is sourced by ./build-apk.sh; run that" >&2; exit 2; }

# Generators of committed files. `check` runs them in check mode: regenerate elsewhere and fail on any difference
# (added, removed or changed files) without touching the tree.
run_generators() {
    scripts/protos/generate.sh --check || die "generated protos drifted: run ./build-apk.sh protos and commit the result"
}

cmd_check() {
    ensure_deps
    local output before after
    local scratch="$ROOT/.build-check"
    # First, as it takes seconds and needs no build: file sizes, unused and forbidden dependencies (see the script).
    log "checking the package structure (scripts/check-structure.py)"
    python3 scripts/check-structure.py --self-test || die "the self-test of scripts/check-structure.py failed"
    python3 scripts/check-structure.py || die "package structure check failed (above)"
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
