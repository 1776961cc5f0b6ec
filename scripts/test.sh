#!/usr/bin/env bash
# What `make test` runs: the whole suite on SQLite and, side by side, on a
# throwaway PostgreSQL cluster. Both runs finish even if one fails; the script
# fails if either does (pytest's exit 5, "no tests collected", included).
#
#   scripts/test.sh [--sqlite|--postgres] [PYTEST ARGS...]
#
# --sqlite / --postgres run only that backend (make test-sqlite / test-postgres).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

run_sqlite=1
run_postgres=1
case "${1:-}" in
    --sqlite) run_postgres=0; shift ;;
    --postgres) run_sqlite=0; shift ;;
esac

# Tests that need go / chromium must fail, not skip, when those are missing.
export TIMEBANK_REQUIRE_EXTERNAL=1

bash scripts/install-system-deps.sh
make -s --no-print-directory venv

sqlite_rc=skip
postgres_rc=skip
pg_dir=""
pg_url=""

cleanup() {
    for pid in ${sqlite_pid:-} ${postgres_pid:-}; do
        kill "$pid" 2>/dev/null || true
    done
    if [ -n "$pg_dir" ]; then
        bash scripts/pg-cluster.sh stop "$pg_dir" || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$run_postgres" -eq 1 ]; then
    pg_dir=$(mktemp -d /tmp/timebank-pg.XXXXXXXXXX)
    if ! pg_url=$(bash scripts/pg-cluster.sh start "$pg_dir"); then
        echo "!! could not start the PostgreSQL cluster" >&2
        pg_url=""
        postgres_rc=cluster-failed
    fi
fi

# Each backend's run writes its own log, and its screenshots under build/screenshots/<backend>.
# With both backends the two runs go side by side (the suite is mostly one busy process each, and
# this machine has two cores); a line every minute says how far each has got.
logs=$(mktemp -d /tmp/timebank-test-logs.XXXXXXXXXX)
run_suite() {  # name, database URL ("" for SQLite), pytest args...
    local name=$1 url=$2
    shift 2
    if [ -n "$url" ]; then
        TIMEBANK_SCREENSHOTS="build/screenshots/$name" TIMEBANK_TEST_DATABASE_URL="$url" \
            .venv/bin/python -m pytest -p no:cacheprovider "$@"
    else
        env -u TIMEBANK_TEST_DATABASE_URL TIMEBANK_SCREENSHOTS="build/screenshots/$name" \
            .venv/bin/python -m pytest -p no:cacheprovider "$@"
    fi
}
progress_of() {  # the last "[ NN%]" pytest printed to a log
    grep -o '\[ *[0-9]*%\]' "$1" 2>/dev/null | tail -n 1 | tr -d '[] ' || true
}

sqlite_pid=""
postgres_pid=""
if [ "$run_sqlite" -eq 1 ]; then
    run_suite sqlite "" "$@" >"$logs/sqlite.log" 2>&1 &
    sqlite_pid=$!
fi
if [ "$run_postgres" -eq 1 ] && [ -n "$pg_url" ]; then
    run_suite postgresql "$pg_url" "$@" >"$logs/postgresql.log" 2>&1 &
    postgres_pid=$!
fi
started=$SECONDS
while { [ -n "$sqlite_pid" ] && kill -0 "$sqlite_pid" 2>/dev/null; } || \
      { [ -n "$postgres_pid" ] && kill -0 "$postgres_pid" 2>/dev/null; }; do
    sleep 5
    if [ $(( (SECONDS - started) % 60 )) -lt 5 ]; then
        echo "-- $(( (SECONDS - started) / 60 )) min: SQLite $(progress_of "$logs/sqlite.log") PostgreSQL $(progress_of "$logs/postgresql.log")"
    fi
done
set +e
if [ -n "$sqlite_pid" ]; then
    wait "$sqlite_pid"; sqlite_rc=$?
    echo; echo "== tests on SQLite =="; cat "$logs/sqlite.log"
fi
if [ -n "$postgres_pid" ]; then
    wait "$postgres_pid"; postgres_rc=$?
    echo; echo "== tests on PostgreSQL =="; cat "$logs/postgresql.log"
fi
set -e
rm -rf "$logs"

echo
echo "== test summary: SQLite exit=$sqlite_rc, PostgreSQL exit=$postgres_rc =="

status=0
for rc in "$sqlite_rc" "$postgres_rc"; do
    # Any non-zero exit fails, 5 (no tests collected) included.
    if [ "$rc" != skip ] && [ "$rc" != 0 ]; then
        status=1
    fi
done
exit "$status"
