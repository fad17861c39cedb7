#!/bin/sh
# Derive, with tshark, the per-protocol totals and per-destination-port packet counts that
# kansoku-packet must reproduce (crates/kansoku-packet/tests/peer_tshark.rs).
#
# Usage:
#   tests/peer/derive.sh CAPTURE [NAME]   print the expected JSON of one capture; NAME (the
#                                         "file" field) defaults to CAPTURE's path below
#                                         .../shared/testdata/, else its base name
#   tests/peer/derive.sh --all            rewrite tests/peer/expected/*.json for every capture
#                                         in ../shared/testdata and tests/peer/captures/*.json
#                                         for the captures kept in this repository
#   DERIVE_VERBOSE=1 tests/peer/derive.sh ...   also name, on stderr, each frame left out
#                                         because tshark dissected no outer transport header
#
# The tshark command (tshark 4.0.17 derived the committed values):
#
#   WIRESHARK_CONFIG_DIR=<empty dir> tshark -n -r CAPTURE \
#     -o ip.defragment:FALSE -o ipv6.defragment:FALSE -o ip.tso_support:FALSE \
#     -o tcp.desegment_tcp_streams:FALSE -o tcp.analyze_sequence_numbers:FALSE \
#     -T fields -E header=n -E separator=/t -E occurrence=a -E aggregator='|' -E quote=n \
#     -e frame.number -e frame.protocols -e ip.proto -e ip.dst -e ip.frag_offset \
#     -e ipv6.nxt -e ipv6.dst -e ipv6.hopopts.nxt -e ipv6.routing.nxt -e ipv6.fraghdr.nxt \
#     -e ipv6.fraghdr.offset -e ipv6.dstopts.nxt -e ah.next_header \
#     -e tcp.dstport -e tcp.hdr_len -e tcp.urgent_pointer -e tcp.short_segment \
#     -e udp.dstport -e udp.checksum -e udp.length.bad -e udp.length.bad_zero \
#     -e icmp.type -e icmp.code -e icmpv6.type -e icmpv6.code -e icmpv6.checksum \
#     -e _ws.short -e _ws.malformed
#
# followed by the awk program below, which reads only the *outermost* IP layer of each frame,
# as kansoku does (see tests/peer/README.md for the reasoning and the cases checked):
#
# - A frame counts only if that IP layer sits directly on a link kansoku decodes: Ethernet
#   (ethertype, any number of 802.1Q / 802.1ad tags), Linux SLL / SLL2, BSD NULL / LOOP, raw
#   IP, LINKTYPE_IPV4 / IPV6. IP that tshark finds behind MPLS, PPPoE, LLC/SNAP etc. does not.
# - ... and only if its headers are complete and consistent (kansoku's `Malformed` frames are
#   not counted): the IPv4 header (tshark stops before ip.proto / ip.dst when it is cut or its
#   header length, total length or version is bogus; TSO guessing is off so that a total
#   length of 0 is bogus too), the IPv6 header and extension headers, and for TCP, UDP, ICMP
#   and ICMPv6 (unless a non-first fragment) the transport header: TCP 20 bytes and its options
#   (tcp.urgent_pointer present, header length >= 20, no "short segment", no "TCP truncated"),
#   UDP 8 bytes (udp.checksum present) with a sane length field, ICMP/ICMPv6 type and code.
# - protocols: the IP protocol after IPv6 extension headers (hop-by-hop 0, routing 43,
#   fragment 44, destination options 60, AH 51), named tcp/udp/icmp/icmpv6, else other/<n>.
#   Tunnels (IP-in-IP, GRE, 6in4, Teredo, VXLAN, ...) count as their outer protocol only.
# - ports: tcp/<dst>, udp/<dst>, icmp/<type>.<code>, icmpv6/<type>.<code> from the first
#   occurrence of each field, which belongs to the outermost transport header; fields of
#   datagrams quoted in ICMP errors or carried in tunnels come later and are ignored.
#   Non-first fragments have no ports (IP reassembly is off, so tshark does not dissect them).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
testdata="$repo/../shared/testdata"

command -v tshark >/dev/null 2>&1 || { echo "derive.sh: tshark not found (apt-get install tshark)" >&2; exit 1; }

# True if the file starts with a pcap (either byte order, us or ns), pcapng, gzip or zstd magic;
# the same rule as peer_tshark.rs.
is_capture() {
    case $(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n') in
        d4c3b2a1 | a1b2c3d4 | 4d3cb2a1 | a1b23c4d | 0a0d0d0a | 28b52ffd | 1f8b*) return 0 ;;
        *) return 1 ;;
    esac
}

derive() {
    capture=$1
    name=$2
    cfg=$(mktemp -d)
    # An empty configuration directory: no personal preferences or "decode as" rules.
    WIRESHARK_CONFIG_DIR=$cfg tshark -n -r "$capture" \
        -o ip.defragment:FALSE -o ipv6.defragment:FALSE -o ip.tso_support:FALSE \
        -o tcp.desegment_tcp_streams:FALSE -o tcp.analyze_sequence_numbers:FALSE \
        -T fields -E header=n -E separator=/t -E occurrence=a -E aggregator='|' -E quote=n \
        -e frame.number -e frame.protocols -e ip.proto -e ip.dst -e ip.frag_offset \
        -e ipv6.nxt -e ipv6.dst -e ipv6.hopopts.nxt -e ipv6.routing.nxt -e ipv6.fraghdr.nxt \
        -e ipv6.fraghdr.offset -e ipv6.dstopts.nxt -e ah.next_header \
        -e tcp.dstport -e tcp.hdr_len -e tcp.urgent_pointer -e tcp.short_segment \
        -e udp.dstport -e udp.checksum -e udp.length.bad -e udp.length.bad_zero \
        -e icmp.type -e icmp.code -e icmpv6.type -e icmpv6.code -e icmpv6.checksum \
        -e _ws.short -e _ws.malformed \
        >"$cfg/fields" 2>"$cfg/stderr" || {
        cat "$cfg/stderr" >&2
        rm -rf "$cfg"
        echo "derive.sh: tshark failed on $capture" >&2
        return 1
    }
    LC_ALL=C awk -F '\t' -v name="$name" -v verbose="${DERIVE_VERBOSE:-0}" '
    # First occurrence of a multi-occurrence field ("" when absent).
    function first(s,   i) { i = index(s, "|"); return i ? substr(s, 1, i - 1) : s }
    # n-th occurrence (1-based), "" when absent.
    function nth(s, n,   a, k) { k = split(s, a, "|"); return n <= k ? a[n] : "" }
    function warn(msg) { if (verbose) printf "derive.sh: %s frame %s: %s\n", name, $1, msg > "/dev/stderr" }
    {
        frames++
        # The link layers kansoku decodes, then the first IP layer.
        k = split($2, t, ":")
        i = 1
        if (t[i] == "eth" || t[i] == "sll") {
            if (t[i + 1] != "ethertype") next
            i += 2
            while (t[i] == "vlan" || t[i] == "ieee8021ad") {
                if (t[i + 1] != "ethertype") next
                i += 2
            }
        } else if (t[i] == "null" || t[i] == "raw") {
            i++
        }
        if (t[i] != "ip" && t[i] != "ipv6") next
        later = 0
        chain_end = i   # index of the last token of the outer IP layer (+ extension headers)
        if (t[i] == "ip") {
            proto = first($3)
            if (proto == "" || first($4) == "") next           # bogus or cut IPv4 header
            if (first($5) + 0 > 0) later = 1
        } else {
            if (first($7) == "" || first($6) == "") next        # cut IPv6 header
            proto = first($6)
            nh = 0; nr = 0; nf = 0; nd = 0; na = 0
            while (proto == 0 || proto == 43 || proto == 44 || proto == 60 || proto == 51) {
                chain_end++
                if (proto == 0) proto = nth($8, ++nh)
                else if (proto == 43) proto = nth($9, ++nr)
                else if (proto == 60) proto = nth($12, ++nd)
                else if (proto == 51) proto = nth($13, ++na)
                else {
                    off = nth($11, ++nf)
                    proto = nth($10, nf)
                    if (off != "" && off + 0 > 0) { later = 1; break }
                }
                if (proto == "") break
            }
            if (proto == "") next                               # cut extension header
            # The dissection ended inside the extension headers with an exception: one of
            # them runs past the packet.
            if (chain_end > i && k == chain_end && ($27 != "" || $28 != "")) next
        }
        proto += 0
        port = ""
        if (!later) {
            if (proto == 6) {
                if (first($15) != "" && first($15) + 0 < 20) next   # bogus data offset
                if (first($14) == "" || first($16) == "") { incomplete(); next }
                if ($17 != "" || index($27, "TCP truncated")) next
                port = "tcp/" first($14)
            } else if (proto == 17) {
                if (first($18) == "" || first($19) == "") { incomplete(); next }
                if ($20 != "" || $21 != "") next
                port = "udp/" first($18)
            } else if (proto == 1) {
                if (first($22) == "" || first($23) == "") { incomplete(); next }
                port = "icmp/" first($22) "." first($23)
            } else if (proto == 58) {
                if (first($24) == "" || first($25) == "" || first($26) == "") { incomplete(); next }
                port = "icmpv6/" first($24) "." first($25)
            }
        }
        if (proto == 6) pname = "tcp"
        else if (proto == 17) pname = "udp"
        else if (proto == 1) pname = "icmp"
        else if (proto == 58) pname = "icmpv6"
        else pname = "other/" proto
        protocols[pname]++
        if (port != "") ports[port]++
    }
    # tshark did not dissect a transport header kansoku reads. Expected when it is cut by the
    # snapshot (kansoku rejects it too); otherwise (e.g. tshark refusing an IPv4 total length
    # beyond the frame) the Rust test will show the frame, so say which one it is.
    function incomplete() {
        if ($27 == "" && $28 == "") warn("tshark dissected no outer transport header (empty or cut?); not counted, as kansoku rejects an incomplete one")
    }
    END {
        printf "{\n  \"file\": \"%s\",\n  \"frames\": %d,\n", name, frames
        printf "  \"ports\": {"
        n = 0
        for (key in ports) keys[++n] = key
        sort(keys, n)
        for (j = 1; j <= n; j++) printf "%s\n    \"%s\": %d", (j > 1 ? "," : ""), keys[j], ports[keys[j]]
        printf "%s},\n  \"protocols\": {", (n ? "\n  " : "")
        n = 0
        for (key in protocols) pk[++n] = key
        sort(pk, n)
        for (j = 1; j <= n; j++) printf "%s\n    \"%s\": %d", (j > 1 ? "," : ""), pk[j], protocols[pk[j]]
        printf "%s}\n}\n", (n ? "\n  " : "")
    }
    # Insertion sort by byte value (LC_ALL=C): stable output across awk implementations.
    function sort(a, n,   x, y, v) {
        for (x = 2; x <= n; x++) {
            v = a[x]
            for (y = x - 1; y >= 1 && a[y] > v; y--) a[y + 1] = a[y]
            a[y + 1] = v
        }
    }
    ' "$cfg/fields"
    rm -rf "$cfg"
}

if [ "${1:-}" = "--all" ]; then
    [ -d "$testdata" ] || { echo "derive.sh: $testdata not present" >&2; exit 1; }
    mkdir -p "$here/expected"
    find "$testdata" -path "$testdata/hives" -prune -o -type f -print | LC_ALL=C sort |
        while IFS= read -r f; do
            is_capture "$f" || continue
            rel=${f#"$testdata/"}
            out="$here/expected/$(printf '%s' "$rel" | sed 's|/|__|g').json"
            derive "$f" "$rel" >"$out.tmp" || { rm -f "$out.tmp"; exit 1; }
            mv "$out.tmp" "$out"
            echo "derived $out" >&2
        done
    for f in "$here"/captures/*.pcap "$here"/captures/*.pcapng; do
        [ -f "$f" ] || continue
        derive "$f" "$(basename "$f")" >"$f.json.tmp" || { rm -f "$f.json.tmp"; exit 1; }
        mv "$f.json.tmp" "$f.json"
        echo "derived $f.json" >&2
    done
    exit 0
fi

[ $# -ge 1 ] && [ $# -le 2 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
capture=$1
if [ $# -eq 2 ]; then
    name=$2
else
    case $capture in
        */shared/testdata/*) name=${capture#*/shared/testdata/} ;;
        *) name=$(basename "$capture") ;;
    esac
fi
derive "$capture" "$name"
