#!/usr/bin/env bash
# The JSON API fuzzed by schemathesis against a running server: a fresh instance with the
# demo data (SQLite, no Redis: approvals leave their PDF queued), gunicorn on a free port,
# then, with a token of each demo account in FUZZ_USERS (a town's author, the district's
# reviewer and its admin: each reaches other operations), every check on every operation,
# with a fixed seed and a bounded number of cases, stateful phase included. Exits non-zero
# on any failure.
#
#   scripts/api-fuzz.sh
#   FUZZ_USERS=admin FUZZ_EXAMPLES=50 scripts/api-fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
ST=.venv/bin/st
FUZZ_USERS=${FUZZ_USERS:-qs_author district_reviewer admin}
FUZZ_EXAMPLES=${FUZZ_EXAMPLES:-12}
FUZZ_SEED=${FUZZ_SEED:-20261201}

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

unset DATABASE_URL REDIS_URL
export CHENGBAO_INSTANCE="$work/instance" SECRET_KEY="api-fuzz-$RANDOM$RANDOM"
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PUBLIC_BASE_URL="http://127.0.0.1:$port"

echo "[fuzz] fresh instance with the demo data in $CHENGBAO_INSTANCE"
$PY -c 'from app import create_app; from run import prepare; print(prepare(create_app()))'

$PY -m gunicorn -w 2 -b "127.0.0.1:$port" --no-control-socket --error-logfile "$work/server.log" \
  "app:create_app()" &
server_pid=$!

# A token of a demo account (waiting for the server to answer first).
token_of() {
  $PY - "$port" "$1" <<'PY'
import json, sys, time, urllib.request
port, user = sys.argv[1], sys.argv[2]
body = json.dumps({"username": user, "password": "chengbao-demo"}).encode()
deadline = time.monotonic() + 60
while True:
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/tokens", data=body,
                                         headers={"Content-Type": "application/json"})
        print(json.load(urllib.request.urlopen(request, timeout=5))["token"])
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.3)
PY
}

# DELETE /tokens/current revokes the one token a pass uses: every later case would answer
# 401. It is covered by tests/test_api.py instead.
# One schemathesis worker: with two, hypothesis parses lambdas' source from two threads at
# once, which CPython 3.11's ast module does not survive ("AST constructor recursion depth
# mismatch"), an error of the fuzzer, not of the API.
status=0
for user in $FUZZ_USERS; do
  token=$(token_of "$user")
  echo "[fuzz] server on port $port; fuzzing as $user (seed $FUZZ_SEED, $FUZZ_EXAMPLES cases an operation)"
  $ST --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --url "http://127.0.0.1:$port" --checks all --phases examples,coverage,fuzzing,stateful \
    --exclude-path /api/v1/tokens/current -H "Authorization: Bearer $token" \
    --seed "$FUZZ_SEED" --max-examples "$FUZZ_EXAMPLES" --workers 1 \
    --report junit --report-dir "$work/report-$user" --no-color "$@" || status=1
done
if [ "$status" -ne 0 ]; then
  echo "[fuzz] failures; the server's log:"
  tail -n 50 "$work/server.log"
fi
exit "$status"
