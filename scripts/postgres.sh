#!/usr/bin/env bash
# A project-local PostgreSQL cluster for the APK stack and its tests.
#
#   scripts/postgres.sh init                  create the cluster and the `apk` database (safe to run again)
#   scripts/postgres.sh start                 start it (runs init first when needed); waits until it accepts connections
#   scripts/postgres.sh stop                  stop it (fast shutdown); no-op when it is not running
#   scripts/postgres.sh status                exit 0 when running, 3 when stopped, 4 when not initialised
#   scripts/postgres.sh url                   print the DATABASE_URL
#   scripts/postgres.sh test-env <dir> <port> init + start a throwaway cluster in <dir> on <port> and print
#                                             `export APK_TEST_DATABASE_URL=…` (eval it); stop it with
#                                             `APK_PG_DIR=<dir> APK_PG_PORT=<port> scripts/postgres.sh stop`
#
# Environment: APK_PG_DIR (default .apk/postgres, relative to the repository root), APK_PG_PORT (default 5432),
# APK_PG_DB (default apk), APK_PG_BIN (folder holding initdb/pg_ctl; found automatically), APK_PG_OS_USER (the OS
# user that owns and runs the cluster when this script runs as root; default postgres, created when missing).
#
# The cluster listens on 127.0.0.1 only, plus a unix socket in <dir>/run; authentication is `trust` for local
# connections, so it is for development and tests only. Its superuser role is `apk` (no password).
# Messages go to stderr; only `url` and `test-env` write to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_DIR="${APK_PG_DIR:-.apk/postgres}"
[[ "$PG_DIR" == /* ]] || PG_DIR="$ROOT/$PG_DIR"
PG_PORT="${APK_PG_PORT:-5432}"
PG_DB="${APK_PG_DB:-apk}"
PG_ROLE="apk"
PG_OS_USER="${APK_PG_OS_USER:-postgres}"
DATA="$PG_DIR/data"
SOCKETS="$PG_DIR/run"
LOG="$PG_DIR/postgres.log"
START_TIMEOUT_SECONDS=60

say() { echo "postgres.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# Finds initdb/pg_ctl: APK_PG_BIN, then PATH, then the newest /usr/lib/postgresql/*/bin; installs PostgreSQL with apt
# when none is found and we are root.
find_bin() {
    if [[ -n "${APK_PG_BIN:-}" && -x "$APK_PG_BIN/initdb" ]]; then echo "$APK_PG_BIN"; return; fi
    local dir
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dir="$(dirname "$(readlink -f "$(command -v initdb)")")"
        [[ -x "$dir/pg_ctl" && -x "$dir/pg_isready" ]] && { echo "$dir"; return; }
    fi
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then echo "$dir"; return; fi
    return 1
}

install_postgres() {
    [[ "$(id -u)" == 0 ]] || die "PostgreSQL (initdb, pg_ctl) not found; install it (apt-get install postgresql) or set APK_PG_BIN"
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL not found and apt-get is unavailable; set APK_PG_BIN"
    say "installing PostgreSQL with apt-get (the Debian 'main' cluster is not created)"
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y postgresql >&2 || { apt-get update >&2 && apt-get install -y postgresql >&2; }
}

BIN="$(find_bin || true)"
bin() {
    if [[ -z "$BIN" ]]; then
        install_postgres
        BIN="$(find_bin)" || die "PostgreSQL was installed but initdb was not found"
    fi
    echo "$BIN/$1"
}

# Runs a command as the cluster's owner: ourselves, or PG_OS_USER when we are root (initdb refuses root).
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        (cd / && runuser -u "$PG_OS_USER" -- "$@")
    else
        "$@"
    fi
}

ensure_owner() {
    [[ "$(id -u)" == 0 ]] || return 0
    if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
        say "creating OS user $PG_OS_USER to own the cluster"
        useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER"
    fi
    mkdir -p "$PG_DIR"
    chown "$PG_OS_USER:" "$PG_DIR"
    chmod 700 "$PG_DIR"
    as_owner test -w "$PG_DIR" || die "$PG_OS_USER cannot write $PG_DIR (is a parent folder closed to other users?)"
}

is_initialised() { [[ -s "$DATA/PG_VERSION" ]]; }
is_running() { is_initialised && as_owner "$(bin pg_ctl)" -D "$DATA" status >/dev/null 2>&1; }
is_ready() { "$(bin pg_isready)" -q -h 127.0.0.1 -p "$PG_PORT" -d "$PG_DB" -U "$PG_ROLE" -t 1 >/dev/null 2>&1; }

cmd_init() {
    local initdb_bin
    initdb_bin="$(bin initdb)"
    ensure_owner
    if ! is_initialised; then
        say "initialising a cluster in $DATA"
        as_owner mkdir -p "$DATA" "$SOCKETS"
        as_owner chmod 700 "$DATA"
        as_owner "$initdb_bin" -D "$DATA" -U "$PG_ROLE" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
            { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
        as_owner sh -c "cat >>'$DATA/postgresql.conf'" <<EOF

# --- written by scripts/postgres.sh ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCKETS'
max_connections = 200
fsync = on
EOF
        as_owner sh -c "cat >'$DATA/pg_hba.conf'" <<EOF
# written by scripts/postgres.sh: development and test cluster, loopback and unix socket only
local   all  all                 trust
host    all  all  127.0.0.1/32   trust
EOF
    fi
    as_owner mkdir -p "$SOCKETS"
    local was_running=1
    is_running || { was_running=0; start_server; }
    create_database
    if [[ "$was_running" == 0 && "${KEEP_RUNNING:-0}" != 1 ]]; then stop_server; fi
}

start_server() {
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT (data $DATA, log $LOG)"
    as_owner touch "$LOG" 2>/dev/null || true
    [[ "$(id -u)" != 0 ]] || chown "$PG_OS_USER:" "$LOG" 2>/dev/null || true
    local pg_ctl_bin
    pg_ctl_bin="$(bin pg_ctl)"
    # The server must not inherit our caller's descriptors beyond 0-2 (stdin is /dev/null, output goes to the log):
    # a daemon holding a caller's pipe makes every caller that waits for EOF (CI runners, test harnesses) hang.
    (
        close_inherited_fds
        as_owner "$pg_ctl_bin" -D "$DATA" -l "$LOG" -W -o "-p $PG_PORT -k $SOCKETS" start </dev/null >/dev/null 2>&1
    ) || { tail -n 20 "$LOG" >&2 || true; die "pg_ctl start failed"; }
    wait_ready
}

close_inherited_fds() {
    local fd
    for fd in $(ls /proc/$BASHPID/fd 2>/dev/null); do
        if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
}

# True while the postmaster started by pg_ctl lives (its pid file may take a moment to appear after `pg_ctl -W`).
postmaster_alive() {
    local pid
    pid="$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true)"
    if [[ -z "$pid" ]]; then
        ((SECONDS < START_GRACE_DEADLINE))
        return
    fi
    kill -0 "$pid" 2>/dev/null
}

# Polls pg_isready (no fixed sleeps) until the server answers or the deadline passes.
wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
    START_GRACE_DEADLINE=$((SECONDS + 10))
    until "$(bin pg_isready)" -q -h 127.0.0.1 -p "$PG_PORT" -t 1 >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            tail -n 20 "$LOG" >&2 || true
            die "PostgreSQL did not become ready within ${START_TIMEOUT_SECONDS}s"
        fi
        if ! postmaster_alive; then
            tail -n 20 "$LOG" >&2 || true
            die "PostgreSQL exited during start-up (see $LOG)"
        fi
        sleep 0.1
    done
}

create_database() {
    local psql_bin
    psql_bin="$(bin psql)"
    local exists
    exists="$("$psql_bin" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")"
    if [[ "$exists" != 1 ]]; then
        say "creating database $PG_DB"
        "$(bin createdb)" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" "$PG_DB"
    fi
}

stop_server() {
    say "stopping PostgreSQL (data $DATA)"
    as_owner "$(bin pg_ctl)" -D "$DATA" -m fast -w -t 60 stop >/dev/null
}

cmd_start() {
    is_initialised || KEEP_RUNNING=1 cmd_init
    if is_running; then
        wait_ready
    else
        start_server
    fi
    create_database
}

cmd_stop() {
    if is_running; then stop_server; else say "not running ($DATA)"; fi
}

cmd_status() {
    if ! is_initialised; then say "not initialised ($DATA)"; exit 4; fi
    if is_running && is_ready; then say "running on 127.0.0.1:$PG_PORT ($DATA)"; exit 0; fi
    say "stopped ($DATA)"
    exit 3
}

cmd_url() { echo "postgres://$PG_ROLE@127.0.0.1:$PG_PORT/$PG_DB"; }

cmd_test_env() {
    [[ $# -eq 2 ]] || die "usage: $0 test-env <dir> <port>"
    PG_DIR="$1"
    [[ "$PG_DIR" == /* ]] || PG_DIR="$PWD/$PG_DIR"
    PG_PORT="$2"
    DATA="$PG_DIR/data"
    SOCKETS="$PG_DIR/run"
    LOG="$PG_DIR/postgres.log"
    cmd_start
    echo "export APK_TEST_DATABASE_URL=$(cmd_url)"
}

case "${1:-}" in
    init) cmd_init ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) cmd_url ;;
    test-env) shift; cmd_test_env "$@" ;;
    *) die "usage: $0 init|start|stop|status|url|test-env <dir> <port>" ;;
esac
