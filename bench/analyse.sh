#!/usr/bin/env bash
# Answer time of the analysis commands over 30 days of 5-minute bins (issue: "kansoku alerts
# and kansoku chart over 30 days of 5-minute bins for the busiest port answer in under a
# second").
#
# Usage: bench/analyse.sh [DAYS] [SCALE] [RUNS]
#   DAYS   simulated days (default 30)
#   SCALE  simulator scale (default 1)
#   RUNS   hyperfine runs per command (default 5)
#
# Simulates mixed-darknet (every worm and tool on top of background radiation) for DAYS,
# ingests it, finds the busiest port and signature, and times with hyperfine:
#   kansoku alerts --port P           one port's series, the detector, the table
#   kansoku alerts --signature S      one signature's (HLL-merged) series
#   kansoku alerts                    every port and signature of the store
#   kansoku chart --port P (SVG/PNG)  the packet observation chart, 5-minute bins
#   kansoku chart --heatmap (PNG)     the 20 busiest ports, 5-minute bins
# Needs: hyperfine (apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."

days=${1:-30}
scale=${2:-1}
runs=${3:-5}
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p kansoku >&2
bin="$(realpath "$target/release/kansoku")"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
store="$work/store"
"$bin" simulate -o "$work/m.pcap" --scenario mixed-darknet --days "$days" --scale "$scale" \
  --seed 1 2>"$work/sim.log"
"$bin" ingest --store "$store" "$work/m.pcap" 2>"$work/ingest.log"
rm "$work/m.pcap"
busiest() {
  "$bin" sql --store "$store" --format csv "$1" | sed -n 2p
}
port=$(busiest "SELECT CASE proto WHEN 6 THEN 'tcp/' WHEN 17 THEN 'udp/' END || dst_port \
  FROM observations WHERE proto IN (6, 17) GROUP BY proto, dst_port \
  ORDER BY sum(packets) DESC LIMIT 1")
signature=$(busiest "SELECT signature FROM observations WHERE signature NOT LIKE 'scan/%' \
  GROUP BY signature ORDER BY sum(packets) DESC LIMIT 1")
bins=$(busiest "SELECT count(DISTINCT bin_start) FROM observations")
cat "$work/sim.log"
tail -1 "$work/ingest.log"
printf 'store: %s days, %s bins of 5 min; busiest port %s, busiest signature %s; %s cores\n\n' \
  "$days" "$bins" "$port" "$signature" "$(nproc)"

hyperfine --style basic --warmup 1 --runs "$runs" --export-markdown "$work/times.md" \
  -n "alerts --port $port" "$bin alerts --store $store --port $port" \
  -n "alerts --signature $signature" "$bin alerts --store $store --signature $signature" \
  -n "alerts (every scope)" "$bin alerts --store $store" \
  -n "chart --port $port (SVG)" "$bin chart --store $store --port $port -o $work/p.svg" \
  -n "chart --port $port (PNG)" "$bin chart --store $store --port $port -o $work/p.png" \
  -n "chart --heatmap (PNG)" "$bin chart --store $store --heatmap -o $work/h.png" \
  >/dev/null
cat "$work/times.md"
