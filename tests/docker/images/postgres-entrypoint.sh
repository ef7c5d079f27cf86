#!/bin/sh
# The part of the official postgres image's entrypoint that deploy/compose.yaml relies on: on an
# empty data directory, create the cluster with POSTGRES_USER/POSTGRES_PASSWORD and the database
# POSTGRES_DB, accept password logins from any address; then run the server as `postgres`.
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

install -d -o postgres -g postgres -m 0700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    chown postgres "$pwfile"
    as_postgres initdb -D "$PGDATA" --username="$user" --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 > /dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    if [ "$db" != postgres ]; then
        as_postgres pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -k /tmp" start > /dev/null
        as_postgres psql -h /tmp -U "$user" -d postgres -v ON_ERROR_STOP=1 -q \
            -c "CREATE DATABASE \"$db\""
        as_postgres pg_ctl -D "$PGDATA" -w -m fast stop > /dev/null
    fi
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups "$@"
