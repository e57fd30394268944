#!/usr/bin/env bash
# Runs every benchmark one after another (never side by side: they share two cores) and keeps their output in
# bench/results/ (gitignored). Extra arguments go to fold_history.py and hub_scale.py (e.g. --reuse, which keeps
# the large databases a previous run generated). All of them take about an hour and a half here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=bench/results
mkdir -p "$OUT"

for wanted in wrk; do
    command -v "$wanted" >/dev/null || { echo "$wanted is missing: apt-get install -y $wanted"; exit 2; }
done

"$PY" bench/throughput.py 2>&1 | tee "$OUT/throughput-$STAMP.txt"
"$PY" bench/page_weight.py 2>&1 | tee "$OUT/page_weight-$STAMP.txt"
"$PY" bench/freshness.py 2>&1 | tee "$OUT/freshness-$STAMP.txt"
"$PY" bench/fold_history.py "$@" 2>&1 | tee "$OUT/fold_history-$STAMP.txt"
"$PY" bench/projects_load.py 2>&1 | tee "$OUT/projects_load-$STAMP.txt"
"$PY" bench/import_assets.py 2>&1 | tee "$OUT/import_assets-$STAMP.txt"
"$PY" bench/yearly_report.py 2>&1 | tee "$OUT/yearly_report-$STAMP.txt"
"$PY" bench/scan_lookup.py 2>&1 | tee "$OUT/scan_lookup-$STAMP.txt"
"$PY" bench/check_in.py 2>&1 | tee "$OUT/check_in-$STAMP.txt"
"$PY" bench/hub_scale.py "$@" 2>&1 | tee "$OUT/hub_scale-$STAMP.txt"
"$PY" bench/offline_sync.py 2>&1 | tee "$OUT/offline_sync-$STAMP.txt"

echo
echo "Results in $OUT/*-$STAMP.txt:"
grep -h '^RESULT' "$OUT"/*-"$STAMP".txt
