#!/usr/bin/env bash
# NetFlow v9 side by side: sekisho reading and fully analysing a file of datagrams, and
# nfdump reading nfcapd's own binary file of the same records.
#
#   scripts/bench-netflow-vs-nfdump.sh [BIN_DIR]
#
# BIN_DIR holds `sekisho` and `sekisho-loadgen` (default target/release; build them with
# `cargo build --release -p sekisho -p sekisho-collector`). Needs Debian's `nfdump` package
# (nfcapd, nfdump). Environment:
#   RECORDS (10000000)  uni-directional v9 records (two per connection), rounded up to whole
#                       seconds at RATE
#   RATE (250000)       records/s sent to nfcapd over loopback UDP (it drops some above that)
#   RUNS (3)            timed runs of each, alternating
#   WORK (a temporary directory)  where the files go (~50 bytes and ~100 bytes per record)
#
# The org file comes from `sekisho demo --scale small`: its sites are the 10.10-10.60/16
# networks the load generator's hosts live in. Reported: wall and CPU seconds and peak
# memory of each run, and the median wall-time ratio sekisho / nfdump.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN_DIR="${1:-$ROOT/target/release}"
RECORDS="${RECORDS:-10000000}"
RATE="${RATE:-250000}"
RUNS="${RUNS:-3}"
SEKISHO="$BIN_DIR/sekisho"
LOADGEN="$BIN_DIR/sekisho-loadgen"
[ -x "$SEKISHO" ] || { echo "$SEKISHO not found (cargo build --release -p sekisho)" >&2; exit 2; }
[ -x "$LOADGEN" ] || { echo "$LOADGEN not found (cargo build --release -p sekisho-collector)" >&2; exit 2; }
command -v nfcapd >/dev/null && command -v nfdump >/dev/null ||
  { echo "nfcapd/nfdump not found (apt-get install nfdump)" >&2; exit 2; }

WORK="${WORK:-$(mktemp -d)}"
mkdir -p "$WORK/nfcapd"
echo "machine: $(nproc) cores, $(uname -r); load: $(cut -d' ' -f1-3 /proc/loadavg); work: $WORK"

"$SEKISHO" demo --out "$WORK/demo" --scale small >/dev/null 2>&1 || true
ORG="$WORK/demo/org.toml"
[ -f "$ORG" ] || { echo "sekisho demo wrote no org file" >&2; exit 2; }

# nfcapd's file of the records, received over loopback UDP.
PORT=$((20000 + RANDOM % 20000))
nfcapd -b 127.0.0.1 -p "$PORT" -w "$WORK/nfcapd" -t 3600 >"$WORK/nfcapd.log" 2>&1 &
NFCAPD=$!
sleep 1
# Whole seconds at RATE: both tools get the same number of records.
SECS=$(( (RECORDS + RATE - 1) / RATE ))
RECORDS=$(( RATE * SECS ))
"$LOADGEN" "127.0.0.1:$PORT" "$RATE" "$SECS" v9 >/dev/null
sleep 2
kill -TERM "$NFCAPD"
wait "$NFCAPD" || true
NFFILE="$(find "$WORK/nfcapd" -type f -name 'nfcapd.*' ! -name '*.current.*' | head -1)"
[ -n "$NFFILE" ] || { echo "nfcapd wrote no file (see $WORK/nfcapd.log)" >&2; exit 2; }
echo "sent $RECORDS records; nfcapd received $(nfdump -r "$NFFILE" -I | grep -i '^Flows:' || true)"

# The same records as a file of datagrams for sekisho.
"$LOADGEN" --file "$WORK/records.netflow" "$RECORDS" v9

timed() { # label, command...: prints "label wall user sys maxrss_kb"
  local label=$1; shift
  /usr/bin/time -f "$label %e %U %S %M" "$@" >/dev/null 2>"$WORK/time.err" || true
  tail -1 "$WORK/time.err"
}

: >"$WORK/runs"
for _ in $(seq "$RUNS"); do
  timed nfdump nfdump -r "$NFFILE" -A srcip,dstip -q | tee -a "$WORK/runs"
  timed sekisho "$SEKISHO" analyze --org "$ORG" "$WORK/records.netflow" | tee -a "$WORK/runs"
done
awk '
  { wall[$1] = wall[$1] " " $2; cpu[$1] = cpu[$1] " " ($3 + $4) }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((n + 1) / 2)]
  }
  END {
    s = median(wall["sekisho"]); d = median(wall["nfdump"])
    printf "median wall: sekisho %.2f s, nfdump %.2f s, ratio %.2f\n", s, d, s / d
    printf "median CPU: sekisho %.2f s, nfdump %.2f s, ratio %.2f\n", median(cpu["sekisho"]), median(cpu["nfdump"]), median(cpu["sekisho"]) / median(cpu["nfdump"])
  }' "$WORK/runs"
