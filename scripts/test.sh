#!/usr/bin/env bash
# What `make test` runs: the whole suite on SQLite, then on a throwaway
# PostgreSQL cluster. Both runs happen even if the first fails; the script
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

if [ "$run_sqlite" -eq 1 ]; then
    echo
    echo "== tests on SQLite =="
    set +e
    env -u TIMEBANK_TEST_DATABASE_URL .venv/bin/python -m pytest "$@"
    sqlite_rc=$?
    set -e
fi

if [ "$run_postgres" -eq 1 ] && [ -n "$pg_url" ]; then
    echo
    echo "== tests on PostgreSQL =="
    set +e
    TIMEBANK_TEST_DATABASE_URL="$pg_url" .venv/bin/python -m pytest "$@"
    postgres_rc=$?
    set -e
fi

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
