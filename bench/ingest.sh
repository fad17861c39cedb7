#!/usr/bin/env bash
# Ingest throughput of kansoku next to peer tools on the same simulated capture.
#
# Usage: bench/ingest.sh [SCALE] [RUNS]
#   SCALE  simulator scale (default 10: about 5.4 million packets over 3 days)
#   RUNS   runs per command; the best (fastest) run is reported (default 3)
#   PROFILE=release-lto in the environment measures the link-time optimised build
#
# Prints, per command: wall seconds, packets per second and peak RSS. The peers do less or
# different work, so read them as context, not as a race:
#   cat FILE > /dev/null        the memory-read ceiling (the file is in the page cache)
#   tcpdump -r FILE -w /dev/null   libpcap read + write, no decode
#   tracereport -p              libtrace: reads and tallies ports (writes ports.rpt)
#   tshark -q -z io,phs         full Wireshark dissection (the protocol hierarchy statistics
#                               make tshark dissect every packet; plain -q may skip most of it)
#   kansoku ingest              walk + decode + classify + aggregate (exact and HLL distinct
#                               counts, per-source records) + Parquet write + manifest
#   kansoku ingest --no-rules   the same without fingerprint rules (generic labels only):
#                               the difference is what classification costs
# Needs: tshark, tcpdump, libtrace-tools (apt-get install tshark tcpdump libtrace-tools).
set -euo pipefail
cd "$(dirname "$0")/.."

scale=${1:-10}
runs=${2:-3}
target=${CARGO_TARGET_DIR:-target}
profile=${PROFILE:-release} # PROFILE=release-lto measures the link-time optimised build
cargo build --profile "$profile" -p kansoku >&2
bin="$target/$profile/kansoku"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
capture="$work/bench.pcap"
"$bin" simulate -o "$capture" --scale "$scale" --seed 1 2>"$work/sim.log"
packets=$(grep -o '[0-9]* packets' "$work/sim.log" | cut -d' ' -f1)
size=$(stat -c %s "$capture")
cat "$capture" >/dev/null # warm the page cache

printf 'capture: %s packets, %.0f MB, scale %s; %s cores; best of %s runs\n\n' \
  "$packets" "$(echo "$size / 1000000" | bc -l)" "$scale" "$(nproc)" "$runs"
printf '%-38s %9s %14s %10s\n' command seconds packets/s "RSS MiB"

# bench NAME COMMAND...: best wall time of $runs runs, with that run's peak RSS.
bench() {
  local name=$1
  shift
  local best="" rss=""
  for _ in $(seq "${BENCH_RUNS:-$runs}"); do
    rm -rf "$work/store" "$work/rp" && mkdir -p "$work/rp"
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
      echo "$name failed:" >&2
      cat "$work/err" >&2
      return 1
    }
    read -r secs kib <"$work/time"
    if [ -z "$best" ] || [ "$(echo "$secs < $best" | bc -l)" = 1 ]; then
      best=$secs
      rss=$kib
    fi
  done
  local rate
  rate=$(echo "if ($best > 0) $packets / $best else 0" | bc -l)
  printf '%-38s %9.2f %14.0f %10.0f\n' "$name" "$best" "$rate" "$(echo "$rss / 1024" | bc -l)"
}

bench "cat > /dev/null (ceiling)" cat "$capture"
bench "kansoku ingest --threads 1" "$bin" ingest --threads 1 --store "$work/store" "$capture"
bench "kansoku ingest --threads 1 --no-rules" "$bin" ingest --threads 1 --no-rules --store "$work/store" "$capture"
bench "kansoku ingest --threads $(nproc)" "$bin" ingest --threads "$(nproc)" --store "$work/store" "$capture"
command -v tcpdump >/dev/null && bench "tcpdump -r -w /dev/null" tcpdump -r "$capture" -w /dev/null
command -v tracereport >/dev/null &&
  bench "tracereport -p (libtrace)" sh -c "cd '$work/rp' && tracereport -p 'pcapfile:$capture'"
# tshark takes minutes on millions of packets: one run is enough to place it.
command -v tshark >/dev/null &&
  BENCH_RUNS=1 bench "tshark -q -z io,phs (1 run)" tshark -n -r "$capture" -q -z io,phs
exit 0
