#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the test suite.
#
#   scripts/pg-cluster.sh start DIR   # DIR: an (empty) dir, e.g. "$(mktemp -d)"
#   scripts/pg-cluster.sh stop DIR    # stops the server and removes DIR
#
# `start` prints exactly one line on stdout, the SQLAlchemy URL:
#   postgresql+psycopg://postgres@127.0.0.1:PORT/timebank_test
# Everything else goes to stderr or DIR/postgres.log.
#
# PostgreSQL refuses to run as root, so when run as root the cluster is owned
# by and run as the unprivileged `postgres` user.
set -euo pipefail

MARKER=.timebank-pg-cluster
DBNAME=timebank_test

die() { echo "pg-cluster: $*" >&2; exit 1; }
log() { echo "pg-cluster: $*" >&2; }

usage() { die "usage: $0 start|stop DIR"; }

[ $# -eq 2 ] || usage
cmd=$1
DIR=$2
[ -n "$DIR" ] || usage

find_bindir() {
    local initdb
    initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$initdb" ]; then
        # Not Debian's layout: fall back to whatever is on PATH.
        initdb=$(command -v initdb || true)
    fi
    [ -n "$initdb" ] || die "initdb not found (run scripts/install-system-deps.sh)"
    dirname "$initdb"
}

# Run a command as the cluster owner (postgres when we are root).
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            local q
            q=$(printf '%q ' "$@")
            su -s /bin/sh postgres -c "$q"
        fi
    else
        "$@"
    fi
}

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

ensure_postgres_user() {
    if ! id -u postgres >/dev/null 2>&1; then
        log "creating system user postgres"
        useradd --system --user-group --home-dir /var/lib/postgresql \
            --no-create-home --shell /bin/bash postgres >&2
    fi
}

do_start() {
    [ "$DIR" != / ] || die "refusing to use / as DIR"
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    [ -e "$DIR/data" ] && die "$DIR/data already exists; use a fresh DIR"
    touch "$DIR/$MARKER"

    local bindir
    bindir=$(find_bindir)
    log "using $bindir"

    if [ "$(id -u)" -eq 0 ]; then
        ensure_postgres_user
        # postgres must be able to reach DIR (mktemp -d makes it 0700), and
        # every directory above it must be searchable by others.
        chmod 755 "$DIR"
        if ! (cd / && as_owner test -x "$DIR") 2>/dev/null; then
            die "postgres cannot reach $DIR; use a dir under /tmp (mktemp -d)"
        fi
    fi

    mkdir -p "$DIR/data" "$DIR/sock"
    chmod 700 "$DIR/data"
    touch "$DIR/postgres.log"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$DIR/data" "$DIR/sock" "$DIR/postgres.log"
    fi

    # Run everything from inside DIR so postgres never tries to chdir back
    # into a directory it can't read (e.g. /root).
    cd "$DIR"

    local locale
    for locale in C.UTF-8 C; do
        if as_owner "$bindir/initdb" -D "$DIR/data" --auth=trust -U postgres \
                --encoding=UTF8 --locale="$locale" >>"$DIR/postgres.log" 2>&1; then
            break
        fi
        log "initdb with locale $locale failed (see $DIR/postgres.log)"
        [ "$locale" = C ] && die "initdb failed"
        # initdb cleans up on failure, but make sure we start from empty.
        rm -rf "$DIR/data"
        mkdir -p "$DIR/data"
        chmod 700 "$DIR/data"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR/data"
    done

    cat >>"$DIR/data/postgresql.conf" <<EOF

# --- throwaway test cluster (scripts/pg-cluster.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF

    # The port comes from the kernel via Python; another process could grab
    # it before the server binds, so retry a few times.
    local port="" attempt started=0
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        log "starting on 127.0.0.1:$port (attempt $attempt)"
        if as_owner "$bindir/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" \
                -o "-p $port" -w -t 60 start >&2; then
            started=1
            break
        fi
    done
    if [ "$started" -ne 1 ]; then
        tail -n 30 "$DIR/postgres.log" >&2 || true
        die "server did not start (log: $DIR/postgres.log)"
    fi
    echo "$port" >"$DIR/port"

    if ! "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DBNAME" >&2; then
        as_owner "$bindir/pg_ctl" -D "$DIR/data" -m immediate -w stop >&2 || true
        die "createdb $DBNAME failed"
    fi

    log "ready; stop with: $0 stop $DIR"
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/$DBNAME"
}

do_stop() {
    [ -d "$DIR" ] || { log "$DIR does not exist; nothing to stop"; return 0; }
    DIR=$(cd "$DIR" && pwd)
    [ "$DIR" != / ] || die "refusing to use / as DIR"
    if [ ! -e "$DIR/$MARKER" ]; then
        die "$DIR was not made by '$0 start'; not touching it"
    fi
    cd "$DIR"

    if [ -f "$DIR/data/postmaster.pid" ]; then
        local bindir pid
        bindir=$(find_bindir)
        if ! as_owner "$bindir/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >&2; then
            log "fast stop failed; killing the postmaster"
            pid=$(head -n 1 "$DIR/data/postmaster.pid" 2>/dev/null || true)
            if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                kill -QUIT "$pid" 2>/dev/null || true
                sleep 2
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
    fi

    cd /
    rm -rf "$DIR"
}

case "$cmd" in
    start) do_start ;;
    stop) do_stop ;;
    *) usage ;;
esac
