#!/bin/sh
# Entry point of the Kula image.
#   serve [ARGS]   create the configuration on first start, apply migrations, serve on 0.0.0.0
#   worker         create the configuration on first start, run the delivery and inbox workers
#   anything else  runs `kula ARGS` (backup, restore, member create, queue status, ...)
# Settings come from KULA_* environment variables (KULA_URL, KULA_DATABASE_URL, ...).
set -eu

: "${KULA_DATA:=/data}"
export KULA_DATA

ensure_config() {
    if [ -f "$KULA_DATA/kula.toml" ]; then
        return
    fi
    if [ -z "${KULA_URL:-}" ]; then
        echo "kula-entrypoint: set KULA_URL to the node's public https URL" >&2
        exit 2
    fi
    if [ -z "${KULA_DATABASE_URL:-}" ]; then
        # SQLite in the volume: `kula init` makes the database and the node's keys.
        kula init --data "$KULA_DATA" --url "$KULA_URL" --name "${KULA_NAME:-Kula community}"
    else
        # PostgreSQL: only the configuration file lives here; every other setting
        # comes from the environment, and the first start creates the schema and keys.
        umask 077
        mkdir -p "$KULA_DATA/media"
        python -c 'import os, sys
from node.settings import render_config
sys.stdout.write(render_config({"url": os.environ["KULA_URL"].rstrip("/")}))' \
            > "$KULA_DATA/kula.toml.tmp"
        mv "$KULA_DATA/kula.toml.tmp" "$KULA_DATA/kula.toml"
    fi
}

command="${1:-serve}"
[ "$#" -gt 0 ] && shift
case "$command" in
    serve)
        ensure_config
        kula migrate
        exec kula serve --host 0.0.0.0 "$@"
        ;;
    worker)
        ensure_config
        exec kula worker "$@"
        ;;
    migrate)
        ensure_config
        exec kula migrate "$@"
        ;;
    *)
        exec kula "$command" "$@"
        ;;
esac
