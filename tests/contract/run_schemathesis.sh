#!/usr/bin/env bash
# The API contract, checked from outside: schemathesis generates requests from /api/schema/ and sends them to a
# live server (gunicorn, production settings) as a hub technician, and the donations API again as a donor, then checks that no answer is a server error
# and that every status code and body is the one the schema documents. .ci/run runs it; any failure fails CI.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/closegap_contract bash tests/contract/run_schemathesis.sh
#
# It migrates and seeds the database it is given (demo data: give it a throwaway database, never a real one),
# takes a free loopback port, and stops the server when it ends. ST_MAX_TIME (seconds, default 120) and
# ST_MAX_EXAMPLES (per operation and phase, default 200) bound the run.
#
# The `ignored_auth` check is left out on purpose: it reports a valid token sent as a header as "a cookie
# that was ignored". Authentication is tested in the suite instead (hubs/tests/test_api.py, tests/test_openapi.py).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${BIN:-.venv/bin}
: "${DATABASE_URL:?set DATABASE_URL to a throwaway PostgreSQL database}"
MAX_TIME=${ST_MAX_TIME:-120}
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-200}
TECHNICIAN=staff-ke-mba
# The donations API is for donors' systems: a second run fuzzes it as the demo donor (ST_DONOR_MAX_TIME seconds).
DONOR=donor-demo
DONOR_MAX_TIME=${ST_DONOR_MAX_TIME:-60}
WORK=$(mktemp -d)
SERVER_PID=

stop_server() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill "$SERVER_PID"
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap stop_server EXIT
trap "exit 143" TERM INT

# The server runs as in production, with tasks in-process and a per-process cache (no broker to start), and
# a token rate high enough that the fuzzer's thousands of requests are not all answered 429. Throttling stays
# on: only its rate comes from the environment, as in production.
export DJANGO_SECRET_KEY
DJANGO_SECRET_KEY=$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(64))')
unset REDIS_URL CELERY_BROKER_URL CELERY_TASK_ALWAYS_EAGER DJANGO_READ_DOT_ENV_FILE

echo "contract: migrate and seed the demo data"
DJANGO_SETTINGS_MODULE=closegap.settings.local "$BIN/python" manage.py migrate --noinput -v 0
DJANGO_SETTINGS_MODULE=closegap.settings.local "$BIN/python" manage.py seed_demo >"$WORK/seed.log" 2>&1 || {
	cat "$WORK/seed.log" >&2
	exit 1
}
# The technician's API token, and a schemathesis config that sends the ids of their own devices and hubs most
# of the time (random ids alone would almost always answer 404, and never reach a transition's rules).
export ST_CONFIG="$WORK/schemathesis.toml" ST_TECHNICIAN="$TECHNICIAN"
TOKEN=$(DJANGO_SETTINGS_MODULE=closegap.settings.local "$BIN/python" manage.py shell -c "$(
	cat <<'PY'
import os

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from donations.selectors import donation_list_for_api
from hubs.selectors import hub_list_for_user
from refurbishing.selectors import device_list

user = get_user_model().objects.get(username=os.environ["ST_TECHNICIAN"])
devices = list(device_list(user=user).order_by("pk").values_list("pk", flat=True)[:500])
hubs = list(hub_list_for_user(user=user).values_list("pk", flat=True))
donations = list(donation_list_for_api(user=user).values_list("reference", flat=True))
with open(os.environ["ST_CONFIG"], "w", encoding="utf-8") as config:
    config.write(
        f"""[cache]
enabled = false  # no .schemathesis/ state in the work tree: each run starts fresh, as CI's clone does

[dictionaries.device_ids]
values = {devices}

[dictionaries.hub_ids]
values = {hubs}

[[operations]]
include-path-regex = "^/api/v1/devices/[{{]id[}}]/"
parameters = {{ "path.id" = {{ dictionary = "device_ids", probability = 0.7 }} }}

[dictionaries.donation_references]
values = {donations}

[[operations]]
include-path = "/api/v1/hubs/{{id}}/"
parameters = {{ "path.id" = {{ dictionary = "hub_ids", probability = 0.7 }} }}

[[operations]]
include-path = "/api/v1/donations/{{reference}}/"
parameters = {{ "path.reference" = {{ dictionary = "donation_references", probability = 0.7 }} }}
"""
    )
print(Token.objects.get_or_create(user=user)[0].key)
PY
)" | tail -n 1)
[[ "$TOKEN" =~ ^[0-9a-f]{40}$ ]] || {
	echo "contract: no API token for $TECHNICIAN" >&2
	exit 1
}

# The donor's token, and a config that sends their own donations' references most of the time.
export ST_DONOR_CONFIG="$WORK/schemathesis-donor.toml" ST_DONOR="$DONOR"
DONOR_TOKEN=$(DJANGO_SETTINGS_MODULE=closegap.settings.local "$BIN/python" manage.py shell -c "$(
	cat <<'PY'
import os

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from donations.selectors import donation_list_for_api

user = get_user_model().objects.get(username=os.environ["ST_DONOR"])
donations = list(donation_list_for_api(user=user).values_list("reference", flat=True))
with open(os.environ["ST_DONOR_CONFIG"], "w", encoding="utf-8") as config:
    config.write(
        f"""[cache]
enabled = false

[dictionaries.donation_references]
values = {donations}

[[operations]]
include-path = "/api/v1/donations/{{reference}}/"
parameters = {{ "path.reference" = {{ dictionary = "donation_references", probability = 0.7 }} }}
"""
    )
print(Token.objects.get_or_create(user=user)[0].key)
PY
)" | tail -n 1)
[[ "$DONOR_TOKEN" =~ ^[0-9a-f]{40}$ ]] || {
	echo "contract: no API token for $DONOR" >&2
	exit 1
}

PORT=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
echo "contract: gunicorn (production settings) on $BASE"
DJANGO_SETTINGS_MODULE=closegap.settings.production DJANGO_ALLOWED_HOSTS=127.0.0.1 \
	DJANGO_SECURE_SSL_REDIRECT=false API_AUTH_TOKEN_RATE=100000/minute \
	"$BIN/gunicorn" closegap.wsgi --bind "127.0.0.1:$PORT" --workers 2 --timeout 30 --no-control-socket \
	>"$WORK/gunicorn.log" 2>&1 &
SERVER_PID=$!
ready() { "$BIN/python" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$BASE/readyz/"; }
for _ in $(seq 60); do
	ready >/dev/null 2>&1 && break
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.5
done
ready || {
	echo "contract: the server did not become ready" >&2
	cat "$WORK/gunicorn.log" >&2
	exit 1
}

echo "contract: schemathesis as $TECHNICIAN, at most ${MAX_TIME}s"
# One worker: with two, Python 3.11's ast.parse, which Hypothesis calls from each worker thread, can fail with
# "SystemError: AST constructor recursion depth mismatch" (CPython gh-106905), an error of the tool, not the API.
status=0
# Left out: revoking the token the run authenticates with (DELETE /api/v1/auth/token/current/) would turn every
# later request into a 401; hubs/tests/test_second_factor.py tests it.
"$BIN/st" --config-file "$ST_CONFIG" --no-color run "$BASE/api/schema/" \
	--header "Authorization: Token $TOKEN" \
	--exclude-path /api/v1/auth/token/current/ \
	--checks not_a_server_error,status_code_conformance,response_schema_conformance \
	--phases examples,coverage,fuzzing \
	--max-examples "$MAX_EXAMPLES" \
	--max-time "$MAX_TIME" \
	--request-timeout 10 \
	--workers 1 ||
	status=$?

echo "contract: schemathesis as $DONOR on /api/v1/donations/, at most ${DONOR_MAX_TIME}s"
"$BIN/st" --config-file "$ST_DONOR_CONFIG" --no-color run "$BASE/api/schema/" \
	--header "Authorization: Token $DONOR_TOKEN" \
	--include-path-regex '^/api/v1/donations/' \
	--checks not_a_server_error,status_code_conformance,response_schema_conformance \
	--phases examples,coverage,fuzzing \
	--max-examples "$MAX_EXAMPLES" \
	--max-time "$DONOR_MAX_TIME" \
	--request-timeout 10 \
	--workers 1 ||
	status=$?
if [ "$status" -ne 0 ]; then
	echo "contract: schemathesis found failures (exit $status); server log:" >&2
	tail -n 50 "$WORK/gunicorn.log" >&2
fi
exit "$status"
