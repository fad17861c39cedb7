#!/usr/bin/env bash
# Peak memory of `kansoku ingest` on the worst case for per-source records: a spoofed-source
# SYN flood where every packet comes from a new address (bench/flood.py), all within one hour.
# The issue's budget is 512 MiB of peak RSS whatever the capture; the aggregator's cap on open
# entries (crates/kansoku-aggregate, DEFAULT_MAX_OPEN_ENTRIES) is what keeps it there.
#
# Usage: bench/memory.sh [PACKETS]   (default 3000000: 3 million distinct sources, 210 MB)
# Needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."

packets=${1:-3000000}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p kansoku >&2
bin="$target/release/kansoku"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/flood.py "$packets" "$work/flood.pcap"
printf 'flood: %s packets, each from a new source, within one hour; budget 512 MiB\n\n' "$packets"
printf '%-32s %9s %14s %10s\n' command seconds packets/s "RSS MiB"
for threads in 1 "$(nproc)"; do
  rm -rf "$work/store"
  /usr/bin/time -f '%e %M' -o "$work/time" \
    "$bin" ingest --threads "$threads" --store "$work/store" "$work/flood.pcap" >/dev/null 2>&1
  read -r secs kib <"$work/time"
  printf '%-32s %9.2f %14.0f %10.0f\n' "kansoku ingest --threads $threads" "$secs" \
    "$(echo "$packets / $secs" | bc -l)" "$(echo "$kib / 1024" | bc -l)"
done
