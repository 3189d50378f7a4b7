#!/usr/bin/env bash
# Hunting over a large evidence store: sekisho hunt (DataFusion) and DuckDB on the same files.
#
#   scripts/bench-hunt.sh [BIN_DIR]
#
# BIN_DIR holds `sekisho` and `sekisho-genstore` (default target/release; build them with
# `cargo build --release -p sekisho -p sekisho-hunt`). Environment:
#   FLOWS (100000000)  flows to generate      DAYS (28)  days they span (from 2024-05-01)
#   STORE (/work/bench-hunt-store)  where; reused when it already holds FLOWS flows
#   RUNS (3)  runs per query; the best is reported
# Needs python3 with the `duckdb` module (`pip install duckdb`) and ~25 bytes of disk per
# flow (check `df -h` first).
#
# Measured, per query: wall time of a whole `sekisho hunt --csv` process (start, plan, scan,
# print), and DuckDB's in-process time for the same SQL over a view of the same Parquet files
# (hive_partitioning=true; Python start-up excluded, which favours DuckDB slightly).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN_DIR="${1:-$ROOT/target/release}"
FLOWS="${FLOWS:-100000000}"
DAYS="${DAYS:-28}"
STORE="${STORE:-/work/bench-hunt-store}"
RUNS="${RUNS:-3}"
SEKISHO="$BIN_DIR/sekisho"
GEN="$BIN_DIR/sekisho-genstore"

[ -x "$SEKISHO" ] || { echo "$SEKISHO not found (cargo build --release -p sekisho)" >&2; exit 2; }
[ -x "$GEN" ] || { echo "$GEN not found (cargo build --release -p sekisho-hunt)" >&2; exit 2; }
python3 -c 'import duckdb' 2>/dev/null || { echo "python3 module duckdb missing: pip install duckdb" >&2; exit 2; }

echo "machine: $(nproc) cores, $(uname -r); load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$(cat "$STORE/.bench-flows" 2>/dev/null)" != "$FLOWS/$DAYS" ]; then
  rm -rf "$STORE"
  echo "generating $FLOWS flows over $DAYS days into $STORE ..."
  start=$(date +%s.%N)
  "$GEN" --store "$STORE" --flows "$FLOWS" --days "$DAYS"
  end=$(date +%s.%N)
  echo "$FLOWS/$DAYS" > "$STORE/.bench-flows"
  awk -v s="$start" -v e="$end" -v n="$FLOWS" 'BEGIN { printf "generated and stored in %.1f s (%.2f M flows/s)\n", e-s, n/(e-s)/1e6 }'
fi
bytes=$(du -sb "$STORE/flows" | cut -f1)
files=$(find "$STORE/flows" -name '*.parquet' | wc -l)
awk -v b="$bytes" -v n="$FLOWS" -v f="$files" 'BEGIN { printf "store: %.2f GB of flows in %d files, %.1f bytes/flow\n", b/1e9, f, b/n }'

MID_DAY=$(date -u -d "2024-05-01 + $((DAYS / 2)) days" +%Y-%m-%d)
NEXT_DAY=$(date -u -d "$MID_DAY + 1 day" +%Y-%m-%d)
declare -a NAMES SQLS
NAMES+=("one day, one site (day/site)")
SQLS+=("SELECT dst_site, service, COUNT(*) AS flows, SUM(orig_bytes) AS bytes FROM flows WHERE day = '$MID_DAY' AND site = 'th-bkk' GROUP BY dst_site, service ORDER BY bytes DESC")
NAMES+=("one day, one site (ts range)")
SQLS+=("SELECT dst_site, service, COUNT(*) AS flows, SUM(orig_bytes) AS bytes FROM flows WHERE ts >= TIMESTAMP '$MID_DAY 00:00:00' AND ts < TIMESTAMP '$NEXT_DAY 00:00:00' AND site = 'th-bkk' GROUP BY dst_site, service ORDER BY bytes DESC")
NAMES+=("full scan: bytes by site pair and service")
SQLS+=("SELECT src_site, dst_site, service, SUM(orig_bytes + resp_bytes) AS bytes, COUNT(*) AS flows FROM flows GROUP BY src_site, dst_site, service ORDER BY bytes DESC")

best_of() { # prints the best wall time of RUNS runs of "$@"
  local best="" t s e
  for _ in $(seq "$RUNS"); do
    s=$(date +%s.%N); "$@" > /tmp/bench-hunt-out.$$ ; e=$(date +%s.%N)
    t=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e-s }')
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
  done
  echo "$best"
}

DUCK_PY='
import duckdb, sys, time
store, runs, sql = sys.argv[1], int(sys.argv[2]), sys.argv[3]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")  # it would print into the timing pipe
con.execute(f"CREATE VIEW flows AS SELECT * FROM read_parquet(\"{store}/flows/**/*.parquet\", hive_partitioning=true)".replace("\"", chr(39)))
best = None
for _ in range(runs):
    t = time.perf_counter(); rows = con.execute(sql).fetchall(); t = time.perf_counter() - t
    best = t if best is None else min(best, t)
print(f"{best:.3f} {len(rows)}")
'

printf "\n%-44s %12s %12s %8s %s\n" "query" "sekisho (s)" "duckdb (s)" "ratio" "rows (sekisho/duckdb)"
for i in "${!NAMES[@]}"; do
  sql="${SQLS[$i]}"
  t_s=$(best_of "$SEKISHO" hunt --store "$STORE" --csv "$sql")
  rows_s=$(($(wc -l < /tmp/bench-hunt-out.$$) - 1))
  read -r t_d rows_d < <(python3 -c "$DUCK_PY" "$STORE" "$RUNS" "$sql")
  ratio=$(awk -v a="$t_s" -v b="$t_d" 'BEGIN { printf "%.2f", a/b }')
  printf "%-44s %12s %12s %8s %s/%s\n" "${NAMES[$i]}" "$t_s" "$t_d" "$ratio" "$rows_s" "$rows_d"
done

# Indicator sweep: one pass for the whole list vs one query per indicator.
IOC=/tmp/bench-hunt-ioc.$$
printf '10.20.0.9\n10.60.1.0/24\n198.51.100.0/24\ntcp/3389\n10.50.0.17\n' > "$IOC"
t_sweep=$(best_of sh -c "\"$SEKISHO\" hunt --store \"$STORE\" --ioc \"$IOC\" --csv; test \$? -le 1")
s=$(date +%s.%N)
for net in 10.20.0.9 10.60.1.0/24 198.51.100.0/24 10.50.0.17; do
  "$SEKISHO" hunt --store "$STORE" --csv "SELECT COUNT(*), MIN(ts), MAX(ts) FROM flows WHERE cidr_contains('$net', src_ip) OR cidr_contains('$net', dst_ip)" > /dev/null
done
"$SEKISHO" hunt --store "$STORE" --csv "SELECT COUNT(*), MIN(ts), MAX(ts) FROM flows WHERE dst_port = 3389 AND proto = 'tcp'" > /dev/null
e=$(date +%s.%N)
printf "\nIOC sweep of 5 indicators: one pass %s s; one query per indicator %s s\n" "$t_sweep" "$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e-s }')"
rm -f "$IOC" /tmp/bench-hunt-out.$$
