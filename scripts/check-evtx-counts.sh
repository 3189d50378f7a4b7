#!/usr/bin/env bash
# Compares, file by file, the EVTX records sekisho decodes with the records `evtx_dump -o jsonl`
# writes (the evtx crate's own CLI: `cargo install evtx --locked`).
#
# usage: scripts/check-evtx-counts.sh [DIR] [EVTX_DUMP]
#   DIR        default ../shared/data/evtx/evtx-attack-samples
#   EVTX_DUMP  default: evtx_dump on PATH, else /work/tools/evtx/bin/evtx_dump
# Exits 1 when any file differs, 2 when a tool is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$here/../shared/data/evtx/evtx-attack-samples}"
dump="${2:-$(command -v evtx_dump || echo /work/tools/evtx/bin/evtx_dump)}"
if [ ! -x "$dump" ]; then
  echo "evtx_dump not found: install it with 'cargo install evtx --locked --root DIR' and pass DIR/bin/evtx_dump" >&2
  exit 2
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
ours="$(mktemp)"; theirs="$(mktemp)"
trap 'rm -f "$ours" "$theirs"' EXIT
(cd "$here" && cargo run --quiet --release -p sekisho-hostlog --example evtx_counts -- "$dir") \
  | cut -f1,2 | sort > "$ours"
while IFS= read -r -d '' f; do
  n="$("$dump" -o jsonl "$f" 2>/dev/null | grep -c '^{' || true)"
  printf '%s\t%s\n' "$f" "$n"
done < <(find "$dir" -type f -name '*.evtx' -print0) | sort > "$theirs"
files="$(wc -l < "$theirs")"
if diff <(grep -F .evtx "$ours") "$theirs" > /dev/null; then
  total="$(awk -F'\t' '{s+=$2} END {print s}' "$theirs")"
  echo "OK: $files files, $total records, every per-file count equals evtx_dump's"
else
  echo "MISMATCH (< sekisho, > evtx_dump):"
  diff <(grep -F .evtx "$ours") "$theirs" || true
  exit 1
fi
