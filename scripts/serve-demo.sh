#!/usr/bin/env bash
# `make serve`: a fresh SQLite store with the bundled (synthetic) examples, then the server (web app and API).
# The first user is `admin` (admin + clinician of team `demo`); its password comes from
# IMNM_ADMIN_PASSWORD or is asked for on the terminal. There is never a default password.
set -euo pipefail
BIN=${BIN:-.venv/bin}
DB_FILE=${SERVE_DB:-build/serve.db}
PORT=${PORT:-8000}
URL="sqlite:///$DB_FILE"
mkdir -p "$(dirname "$DB_FILE")"
rm -f "$DB_FILE" "$DB_FILE-wal" "$DB_FILE-shm" "$DB_FILE.writelock"
"$BIN/imnm" db upgrade --database "$URL"
"$BIN/imnm" teams add demo --database "$URL"
"$BIN/imnm" patients import examples/*.yaml --team demo --reason "bundled synthetic example" --database "$URL"
if [ -n "${IMNM_ADMIN_PASSWORD:-}" ]; then
    printf '%s\n' "$IMNM_ADMIN_PASSWORD" | "$BIN/imnm" users create-admin admin --also clinician --team demo --password-stdin --database "$URL"
    created=yes
elif [ -t 0 ]; then
    echo "Choose a password (at least 12 characters) for the first user 'admin' (admin and clinician of team demo):"
    "$BIN/imnm" users create-admin admin --also clinician --team demo --database "$URL"
    created=yes
else
    created=no
    echo "No user created (no terminal, IMNM_ADMIN_PASSWORD unset). Create one in another shell:"
    echo "  $BIN/imnm users create-admin admin --also clinician --team demo --database '$URL'"
fi
cat <<MSG

The web app and the API: http://127.0.0.1:$PORT/
  Patients (no login): "Should I get tested?" at http://127.0.0.1:$PORT/screener
  Staff: log in at http://127.0.0.1:$PORT/login as $([ "$created" = yes ] && echo "admin with the password you chose" || echo "the user you create"),
  then Patients (work-up, disease activity, revisions) and Trials (criteria, candidates).
  A coordinator (trial candidates and reviews, no record edits):
    $BIN/imnm users add coord --role coordinator --team demo --database '$URL'
  The API's interactive documentation: http://127.0.0.1:$PORT/docs; from a shell:
    curl -c jar -H 'content-type: application/json' -d '{"username":"admin","password":"..."}' http://127.0.0.1:$PORT/api/v1/auth/login
    curl -b jar http://127.0.0.1:$PORT/api/v1/patients
  A token for scripts: $BIN/imnm tokens create --user admin --scope read --name demo --database '$URL'
Stop the server with Ctrl-C.

MSG
exec "$BIN/imnm" serve --port "$PORT" --database "$URL"
