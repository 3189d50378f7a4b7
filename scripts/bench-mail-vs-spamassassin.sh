#!/usr/bin/env bash
# Side by side: sekisho mail scan and SpamAssassin (local tests only, no network) on the
# same phish and ham sets. Prints detection rate (phish flagged), false-positive rate
# (ham flagged) and messages/s for both.
#
#   scripts/bench-mail-vs-spamassassin.sh [SEKISHO_BIN]
#
# Needs the Debian package `spamassassin` (spamd + spamc). SpamAssassin runs as a local
# spamd on 127.0.0.1 with -L (no DNS, no URIBL, no Razor/Pyzor) and its installed
# configuration (a --siteconfigpath without the .pre files loads no plugin and scans
# nothing: every message scores 0/0), and is fed with spamc,
# two at a time (the machine has 2 cores). SA_EVERY=N scans every Nth message only (the
# figures then say so). sekisho runs on one thread (--threads 1) for the per-core figure.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${MAIL_DATA:-$ROOT/../shared/data/mail}"
BIN="${1:-${SEKISHO_BIN:-$ROOT/target/release/sekisho}}"
SA_EVERY="${SA_EVERY:-1}"
PORT="${SA_PORT:-7831}"

command -v spamd >/dev/null || { echo "spamd not found: install the Debian package spamassassin" >&2; exit 2; }
command -v spamc >/dev/null || { echo "spamc not found: install the Debian package spamassassin" >&2; exit 2; }
[ -x "$BIN" ] || { echo "sekisho binary $BIN not found (cargo build --release -p sekisho)" >&2; exit 2; }

WORK="$(mktemp -d)"
SPAMD_PID=""
cleanup() { [ -n "$SPAMD_PID" ] && kill "$SPAMD_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

cat > "$WORK/org.toml" <<'ORG'
[org]
name = "Benchmark"

[[site]]
id = "hq"
country = "US"
timezone = "UTC"
networks = ["10.0.0.0/16"]
ORG

now() { date +%s.%N; }

echo "== sekisho mail scan (one thread)"
for set in phish ham; do
  t0=$(now)
  "$BIN" mail scan --threads 1 --json --org "$WORK/org.toml" "$DATA/$set" > "$WORK/sekisho-$set.json" || true
  t1=$(now)
  python3 - "$WORK/sekisho-$set.json" "$set" "$t0" "$t1" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1])); s = sys.argv[2]; dt = float(sys.argv[4]) - float(sys.argv[3])
flagged = sum(1 for r in rows if r["verdict"] != "clean")
print(f"sekisho  {s:5}: {flagged}/{len(rows)} flagged ({100*flagged/len(rows):.1f}%), {len(rows)/dt:.0f} messages/s (whole process, {dt:.2f} s)")
PY
done

echo "== SpamAssassin $(spamassassin --version | head -1 | awk '{print $3}') (spamd -L, local tests only)"
spamd -L --listen "127.0.0.1:$PORT" --max-children 2 --min-children 2 -u nobody \
  --pidfile "$WORK/spamd.pid" > "$WORK/spamd.log" 2>&1 &
SPAMD_PID=$!
for _ in $(seq 1 120); do
  spamc -p "$PORT" -c < /dev/null >/dev/null 2>&1 && break
  if ! kill -0 "$SPAMD_PID" 2>/dev/null; then echo "spamd failed:" >&2; cat "$WORK/spamd.log" >&2; exit 2; fi
  sleep 1
done
for set in phish ham; do
  ls "$DATA/$set"/*.eml | awk -v n="$SA_EVERY" 'NR % n == 0' > "$WORK/$set.list"
  total=$(wc -l < "$WORK/$set.list")
  t0=$(now)
  # spamc -c prints "score/threshold" and exits 1 for spam.
  xargs -P 2 -I{} sh -c 'spamc -p '"$PORT"' -c < "{}" >/dev/null; echo $?' < "$WORK/$set.list" > "$WORK/sa-$set.codes"
  t1=$(now)
  flagged=$(grep -c '^1$' "$WORK/sa-$set.codes" || true)
  python3 -c "import sys; f,t,a,b=int('$flagged'),int('$total'),float('$t0'),float('$t1'); print(f'spamassassin {\"$set\":5}: {f}/{t} flagged ({100*f/t:.1f}%), {t/(b-a):.1f} messages/s (2 children, {b-a:.1f} s){\" (every $SA_EVERY th message)\" if $SA_EVERY>1 else \"\"}')"
done
