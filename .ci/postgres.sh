# shellcheck shell=bash
# Throwaway PostgreSQL 15 + PostGIS cluster for the storage tests.
#
#   source .ci/postgres.sh      # starts it, exports PROXIMITE_TEST_POSTGRES_URL (+ REQUIRE=1)
#   pytest tests/storage
#   proximite_pg_stop           # stops it and deletes its folder
#
# Listens on 127.0.0.1 only (port $PROXIMITE_PG_PORT, default 54329); the data dir
# lives in a fresh temp folder. initdb refuses to run as root, so as root the server
# runs as the `postgres` OS user. Fails (non-zero) if the server or PostGIS is unusable.
# Meant to be sourced: it does not `set -e` or install traps in the caller's shell.

_proximite_pg_as() {
    # Run a command as the cluster owner.
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

proximite_pg_stop() {
    local dir="${PROXIMITE_PG_DIR:-}"
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then
        echo "proximite_pg_stop: no cluster folder to stop" >&2
        return 0
    fi
    if [ -f "$dir/data/postmaster.pid" ]; then
        _proximite_pg_as "${PROXIMITE_PG_BIN}/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null \
            || echo "proximite_pg_stop: pg_ctl stop failed (see $dir/server.log)" >&2
    fi
    rm -rf -- "$dir"
    unset PROXIMITE_PG_DIR PROXIMITE_TEST_POSTGRES_URL PROXIMITE_TEST_REQUIRE_POSTGRES
}

_proximite_pg_fail() {
    echo "postgres.sh: $*" >&2
    if [ -n "${PROXIMITE_PG_DIR:-}" ] && [ -f "$PROXIMITE_PG_DIR/server.log" ]; then
        echo "---- server.log (tail) ----" >&2
        tail -n 30 "$PROXIMITE_PG_DIR/server.log" >&2
    fi
    proximite_pg_stop
    return 1
}

_proximite_pg_start() {
    PROXIMITE_PG_BIN="${PROXIMITE_PG_BIN:-/usr/lib/postgresql/15/bin}"
    local port="${PROXIMITE_PG_PORT:-54329}"
    local bin="$PROXIMITE_PG_BIN" dir i

    [ -x "$bin/initdb" ] || { echo "postgres.sh: no initdb in $bin" >&2; return 1; }
    if [ -n "${PROXIMITE_PG_DIR:-}" ] && [ -d "$PROXIMITE_PG_DIR" ]; then
        echo "postgres.sh: a cluster is already running in $PROXIMITE_PG_DIR" \
             "(call proximite_pg_stop first)" >&2
        return 1
    fi
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        echo "postgres.sh: something already answers on 127.0.0.1:$port" >&2
        return 1
    fi

    dir="$(mktemp -d "${TMPDIR:-/tmp}/proximite-pg.XXXXXX")" || return 1
    export PROXIMITE_PG_DIR="$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$dir" || { _proximite_pg_fail "chown failed"; return 1; }
    fi
    chmod 700 "$dir"

    # Password auth over TCP; trust only on the private unix socket inside $dir.
    _proximite_pg_as "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; _proximite_pg_fail "initdb failed"; return 1; }

    # Durability is pointless for a throwaway cluster: trade it for speed.
    _proximite_pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir" \
        -o "-c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null \
        || { _proximite_pg_fail "postgres did not start on 127.0.0.1:$port"; return 1; }

    for i in $(seq 1 60); do
        "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
        sleep 0.5
    done
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" \
        || { _proximite_pg_fail "pg_isready never answered on 127.0.0.1:$port"; return 1; }

    local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres)
    _proximite_pg_as "${psql[@]}" -d postgres \
        -c "CREATE ROLE proximite LOGIN SUPERUSER PASSWORD 'proximite'" \
        -c "CREATE DATABASE postgis_check" \
        || { _proximite_pg_fail "could not create role/database"; return 1; }
    _proximite_pg_as "${psql[@]}" -d postgis_check -c "CREATE EXTENSION postgis" \
        -tA -c "SELECT postgis_lib_version()" >"$dir/postgis.version" 2>&1 \
        || { cat "$dir/postgis.version" >&2; _proximite_pg_fail "PostGIS is not available"; return 1; }
    _proximite_pg_as "${psql[@]}" -d postgres -c "DROP DATABASE postgis_check" \
        || { _proximite_pg_fail "could not drop scratch database"; return 1; }

    export PROXIMITE_PG_BIN
    export PROXIMITE_TEST_POSTGRES_URL="postgresql://proximite:proximite@127.0.0.1:$port/postgres"
    export PROXIMITE_TEST_REQUIRE_POSTGRES=1
    echo "postgres.sh: PostgreSQL 15 + PostGIS $(cat "$dir/postgis.version") on 127.0.0.1:$port" \
         "(data in $dir; stop with proximite_pg_stop)"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    echo "postgres.sh: source this file (. .ci/postgres.sh) so the exports reach your shell" >&2
    exit 2
fi
_proximite_pg_start || return 1
