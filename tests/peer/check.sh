#!/bin/sh
# Re-derive the expected values of some captures with tshark and compare them with the committed
# ones, so that CI notices when tests/peer/expected/ stops being what tshark says (for example
# after a hand edit, or a derive.sh change that was not followed by `derive.sh --all`).
#
# Usage: tests/peer/check.sh          the captures named below (a few seconds)
#        tests/peer/check.sh --all    every capture that has an expected file (~20 s)
#
# Exit status: 0 when all agree, 1 on any difference (a diff is printed) or error.
# Needs tshark (apt-get install tshark). When ../shared/testdata is absent only the
# repository's own edge-case capture is checked, and the others are reported as skipped.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
testdata="$here/../../../shared/testdata"

# Chosen to cover different paths through the derivation:
#   synscan.pcapng          pcapng container (the same frames as synscan.pcap)
#   UDP_SCAN.pcap           ~1000 ICMP port-unreachable errors quoting UDP headers, whose
#                           quoted ports must not count
#   xscan_capture.pcap      the largest frame count (12014), TCP/UDP/ICMP mixed
#   test.pcap (appneta)     IPv6, MPLS-encapsulated IP (not counted), IGMP, EIGRP, ICMP errors
#   IP_PROTOCOL_SCAN.pcap   every IP protocol number, ICMP protocol-unreachable errors
NAMED="chrissanders_packets/synscan.pcapng
markofu_pcaps/UDP_SCAN.pcap
markofu_pcaps/xscan_capture.pcap
appneta_tcpreplay/test.pcap
markofu_pcaps/IP_PROTOCOL_SCAN.pcap"

command -v tshark >/dev/null 2>&1 || { echo "check.sh: tshark not found (apt-get install tshark)" >&2; exit 1; }
tshark --version 2>/dev/null | head -n 1 >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
checked=0

# check CAPTURE NAME EXPECTED
check() {
    if ! "$here/derive.sh" "$1" "$2" >"$tmp/derived.json"; then
        echo "FAIL $2: derive.sh failed" >&2
        failed=1
        return
    fi
    if diff -u "$3" "$tmp/derived.json" >"$tmp/diff"; then
        echo "ok   $2" >&2
    else
        echo "FAIL $2: the committed expected values differ from tshark's (- committed, + tshark now):" >&2
        cat "$tmp/diff" >&2
        failed=1
    fi
    checked=$((checked + 1))
}

if [ "${1:-}" = "--all" ]; then
    names=$(cd "$here/expected" && ls -- *.json | sed 's/\.json$//; s|__|/|g')
else
    names=$NAMED
fi

if [ -d "$testdata" ]; then
    for rel in $names; do
        capture="$testdata/$rel"
        expected="$here/expected/$(printf '%s' "$rel" | sed 's|/|__|g').json"
        if [ ! -f "$capture" ]; then
            echo "FAIL $rel: capture missing from ../shared/testdata" >&2
            failed=1
        elif [ ! -f "$expected" ]; then
            echo "FAIL $rel: no committed expected values ($expected)" >&2
            failed=1
        else
            check "$capture" "$rel" "$expected"
        fi
    done
else
    echo "skipping the ../shared/testdata captures: ../shared/testdata not present" >&2
fi

# The repository's own capture must be exactly what its generator writes.
if python3 "$here/captures/make_edge_cases.py" "$tmp/edge-cases.pcapng" >/dev/null &&
    cmp -s "$tmp/edge-cases.pcapng" "$here/captures/edge-cases.pcapng"; then
    echo "ok   edge-cases.pcapng is make_edge_cases.py's output" >&2
else
    echo "FAIL edge-cases.pcapng differs from make_edge_cases.py's output; regenerate it" >&2
    failed=1
fi

for capture in "$here"/captures/*.pcapng; do
    check "$capture" "$(basename "$capture")" "$capture.json"
done

echo "check.sh: $checked captures re-derived with tshark" >&2
exit $failed
