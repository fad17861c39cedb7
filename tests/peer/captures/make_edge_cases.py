#!/usr/bin/env python3
"""Write edge-cases.pcapng: hand-made frames for the cases the public captures in
../shared/testdata do not contain (fragments, IPv6 extension headers, tunnels, ICMP errors,
truncated and malformed headers, every link type kansoku decodes), so that the tshark
derivation in ../derive.sh is checked against kansoku's decoder on them too.

Deterministic (fixed timestamps, no randomness); the committed .pcapng is this script's output:

    python3 tests/peer/captures/make_edge_cases.py tests/peer/captures/edge-cases.pcapng

`--divergences OUT.pcapng` writes instead the frames on which kansoku and tshark disagree by
design (documented in ../README.md); they are not compared.

Each frame is listed with what kansoku's decoder makes of it. Checksums are left zero:
neither kansoku nor tshark (by default) verifies them.
"""

import struct
import sys

SRC4 = bytes([192, 0, 2, 1])
DST4 = bytes([198, 51, 100, 7])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("20010db8000000000000000000000007")


def ipv4(proto, payload, *, ihl=5, total=None, frag=0, version=4, options=b"", ident=0x1234):
    hdr_len = 20 + len(options)
    if total is None:
        total = hdr_len + len(payload)
    hdr = struct.pack(
        "!BBHHHBBH4s4s",
        (version << 4) | ihl, 0, total, ident, frag, 64, proto, 0, SRC4, DST4,
    )
    return hdr + options + payload


def ipv6(nh, payload, *, plen=None):
    if plen is None:
        plen = len(payload)
    return struct.pack("!IHBB16s16s", 6 << 28, plen, nh, 64, SRC6, DST6) + payload


def ext(nh, body_len_units=0, body=None):
    """A generic 8*(n+1)-byte extension header (hop-by-hop, routing, destination options)."""
    if body is None:
        body = bytes(6 + 8 * body_len_units)
    return bytes([nh, body_len_units]) + body


def fraghdr(nh, offset_units, more, ident=0xABCD):
    return struct.pack("!BBHI", nh, 0, (offset_units << 3) | (1 if more else 0), ident)


def tcp(dport, *, sport=40000, doff=5, flags=0x02, payload=b""):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, doff << 4, flags, 1024, 0, 0)
    return hdr + bytes(max(0, doff * 4 - 20)) + payload


def udp(dport, payload=b"", *, sport=40000, length=None):
    if length is None:
        length = 8 + len(payload)
    return struct.pack("!HHHH", sport, dport, length, 0) + payload


def icmp(kind, code, rest=b"\x00\x00\x00\x00"):
    return struct.pack("!BBH", kind, code, 0) + rest


def eth(ethertype, payload):
    return bytes.fromhex("020000000002020000000001") + struct.pack("!H", ethertype) + payload


def vlan(vid, inner_type, payload):
    """One VLAN tag (TCI, then the ethertype of what follows), after the tag's own TPID."""
    return struct.pack("!HH", vid, inner_type) + payload


ETH, NULL, RAW, LOOP, SLL, IPV4, IPV6, SLL2 = 1, 0, 101, 108, 113, 228, 229, 276

# (link type, frame bytes, captured length or None for all). Comments: kansoku's reading.
FRAMES = [
    # 1 plain TCP SYN -> tcp, tcp/80
    (ETH, eth(0x0800, ipv4(6, tcp(80))), None),
    # 2 IPv4 first fragment (MF, offset 0) of a UDP datagram -> udp, udp/53
    (ETH, eth(0x0800, ipv4(17, udp(53, bytes(16), length=1000), frag=0x2000)), None),
    # 3 IPv4 later fragment whose data happens to look like a UDP header -> udp, no port
    (ETH, eth(0x0800, ipv4(17, udp(9999, bytes(16)), frag=185)), None),
    # 4 IPv4 last fragment (offset > 0, MF clear) of a TCP segment -> tcp, no port
    (ETH, eth(0x0800, ipv4(6, tcp(8888), frag=0x2000 | 10)), None),
    # 5 IPv6 first fragment of a UDP datagram -> udp, udp/500
    (ETH, eth(0x86DD, ipv6(44, fraghdr(17, 0, True) + udp(500, bytes(16), length=3000))), None),
    # 6 IPv6 later fragment -> udp, no port
    (ETH, eth(0x86DD, ipv6(44, fraghdr(17, 100, False) + udp(7777, bytes(16)))), None),
    # 7 IPv6 hop-by-hop + destination options + TCP -> tcp, tcp/443
    (ETH, eth(0x86DD, ipv6(0, ext(60) + ext(6, 1) + tcp(443))), None),
    # 8 IPv6 routing header (type 0 segments left 0) + UDP -> udp, udp/123
    (ETH, eth(0x86DD, ipv6(43, ext(17) + udp(123))), None),
    # 9 IPv6 authentication header (payload len 4 = 24 bytes) + TCP -> tcp, tcp/25
    (ETH, eth(0x86DD, ipv6(51, bytes([6, 4]) + bytes(22) + tcp(25))), None),
    # 10 ICMPv6 echo request -> icmpv6, icmpv6/128.0
    (ETH, eth(0x86DD, ipv6(58, icmp(128, 0, b"\x00\x01\x00\x01"))), None),
    # 11 ICMPv6 port unreachable quoting IPv6/UDP to 33434 -> icmpv6, icmpv6/1.4 (not udp/33434)
    (ETH, eth(0x86DD, ipv6(58, icmp(1, 4) + ipv6(17, udp(33434, bytes(4))))), None),
    # 12 ICMP port unreachable quoting UDP to 161 -> icmp, icmp/3.3 (not udp/161)
    (ETH, eth(0x0800, ipv4(1, icmp(3, 3) + ipv4(17, udp(161, bytes(4))))), None),
    # 13 ICMP time exceeded quoting TCP to 445, cut after the ports -> icmp, icmp/11.0
    (ETH, eth(0x0800, ipv4(1, icmp(11, 0) + ipv4(6, tcp(445), total=40)[:24])), None),
    # 14 ICMP echo request -> icmp, icmp/8.0
    (ETH, eth(0x0800, ipv4(1, icmp(8, 0, b"\x00\x01\x00\x07" + bytes(8)))), None),
    # 15 IP-in-IP carrying TCP to 22 -> other/4, no port
    (ETH, eth(0x0800, ipv4(4, ipv4(6, tcp(22)))), None),
    # 16 GRE carrying IPv4/UDP to 69 -> other/47, no port
    (ETH, eth(0x0800, ipv4(47, struct.pack("!HH", 0, 0x0800) + ipv4(17, udp(69)))), None),
    # 17 6in4 carrying IPv6/TCP to 23 -> other/41, no port
    (ETH, eth(0x0800, ipv4(41, ipv6(6, tcp(23)))), None),
    # 18 Teredo (UDP 3544) carrying IPv6/UDP to 5353 -> udp, udp/3544 only
    (ETH, eth(0x0800, ipv4(17, udp(3544, ipv6(17, udp(5353)), sport=3544))), None),
    # 19 VXLAN (UDP 4789) carrying Ethernet/IPv4/TCP to 3389 -> udp, udp/4789 only
    (ETH, eth(0x0800, ipv4(17, udp(4789, bytes([8, 0, 0, 0, 0, 0, 1, 0])
                                   + eth(0x0800, ipv4(6, tcp(3389)))))), None),
    # 20 IPv4 with options (IHL 6) + UDP to 520 -> udp, udp/520
    (ETH, eth(0x0800, ipv4(17, udp(520), ihl=6, options=b"\x01\x01\x01\x00")), None),
    # 21 802.1ad + 802.1Q + IPv4/UDP to 1900 -> udp, udp/1900
    (ETH, eth(0x88A8, vlan(5, 0x8100, vlan(7, 0x0800, ipv4(17, udp(1900))))), None),
    # 22 TCP whose segment was cut by the snaplen after a complete header -> tcp, tcp/8080
    (ETH, eth(0x0800, ipv4(6, tcp(8080, payload=bytes(100)))), 14 + 20 + 20),
    # 23 ESP, cut right after the IP header -> other/50
    (ETH, eth(0x0800, ipv4(50, bytes(40))), 14 + 20),
    # 24 SCTP -> other/132
    (ETH, eth(0x0800, ipv4(132, bytes(12) + bytes(16))), None),
    # 25 IPv6 with no next header (59) -> other/59
    (ETH, eth(0x86DD, ipv6(59, b"")), None),
    # 26 ICMP error quoting ICMP echo -> icmp, icmp/3.1
    (ETH, eth(0x0800, ipv4(1, icmp(3, 1) + ipv4(1, icmp(8, 0) + bytes(4)))), None),
    # 27 IPv4 in an Ethernet frame padded to 60 bytes -> udp, udp/7
    (ETH, eth(0x0800, ipv4(17, udp(7, b"x")) + bytes(60 - 14 - 29)), None),
    # 28 pre-standard QinQ (0x9100) + 802.1Q + IPv4/TCP to 8443 -> tcp, tcp/8443
    (ETH, eth(0x9100, vlan(5, 0x8100, vlan(7, 0x0800, ipv4(6, tcp(8443))))), None),
    # 29 IPv4 authentication header carrying TCP -> other/51 (kansoku walks AH only in IPv6)
    (ETH, eth(0x0800, ipv4(51, bytes([6, 4]) + bytes(22) + tcp(110))), None),
    # 30 IPv4 option with a length past the header (kansoku does not parse options) -> udp, udp/161
    (ETH, eth(0x0800, ipv4(17, udp(161), ihl=6, options=b"\x07\x28\x04\x00")), None),
    # 31 IPv6 mobility header (135), not walked as an extension header -> other/135
    (ETH, eth(0x86DD, ipv6(135, bytes([59, 0, 0, 0]) + bytes(4))), None),
    # 32 IPv6 first fragment of a TCP segment -> tcp, tcp/3306
    (ETH, eth(0x86DD, ipv6(44, fraghdr(6, 0, True) + tcp(3306))), None),
    # 33 IPv4 first fragment of a TCP segment -> tcp, tcp/139
    (ETH, eth(0x0800, ipv4(6, tcp(139, payload=bytes(8)), frag=0x2000)), None),
    # 34 IPv6 hop-by-hop then a later fragment of ICMPv6 -> icmpv6, no type
    (ETH, eth(0x86DD, ipv6(0, ext(44) + fraghdr(58, 3, False) + icmp(128, 0))), None),
    # 35 IPv4 later fragment of ICMP whose data looks like an echo request -> icmp, no type
    (ETH, eth(0x0800, ipv4(1, icmp(8, 0), frag=0x2000 | 3)), None),
    # 36 atomic IPv6 fragment (offset 0, M clear) + UDP -> udp, udp/69
    (ETH, eth(0x86DD, ipv6(44, fraghdr(17, 0, False) + udp(69))), None),
    # 37 UDP length 8 in a 20-byte IP payload (the rest is not UDP's) -> udp, udp/71
    (ETH, eth(0x0800, ipv4(17, udp(71, length=8) + bytes(12))), None),
    # 38 IPv6 routing header type 0, segments left 1 (not acted on) + UDP -> udp, udp/76
    (ETH, eth(0x86DD, ipv6(43, bytes([17, 2, 0, 1, 0, 0, 0, 0]) + DST6 + udp(76))), None),
    # 39 ICMP unreachable quoting only 10 bytes of the IP header -> icmp, icmp/3.13
    (ETH, eth(0x0800, ipv4(1, icmp(3, 13) + ipv4(6, tcp(77))[:10])), None),
    # 40 ICMPv6 packet too big quoting IPv6 + hop-by-hop + TCP to 78 -> icmpv6, icmpv6/2.0
    (ETH, eth(0x86DD, ipv6(58, icmp(2, 0, struct.pack("!I", 1280)) + ipv6(0, ext(6) + tcp(78)))),
     None),
    # 41 ICMPv6 of exactly 4 bytes (type, code, checksum) -> icmpv6, icmpv6/128.0
    (ETH, eth(0x86DD, ipv6(58, icmp(128, 0, b""))), None),
    # 42 IPv6 destination options, then a later fragment of TCP -> tcp, no port
    (ETH, eth(0x86DD, ipv6(60, ext(44) + fraghdr(6, 1, True) + tcp(82))), None),
    # --- not IP for kansoku: must not count anywhere ---
    # 43 ARP
    (ETH, eth(0x0806, bytes.fromhex("0001080006040001") + bytes(20)), None),
    # 44 MPLS label stack carrying IPv4/TCP (kansoku does not decode MPLS) -> not IP
    (ETH, eth(0x8847, bytes.fromhex("00001140") + ipv4(6, tcp(1433))), None),
    # 45 PPPoE session carrying IPv4/UDP (not decoded) -> not IP
    (ETH, eth(0x8864, bytes.fromhex("1100000100160021") + ipv4(17, udp(1434))), None),
    # 46 802.3 + LLC/SNAP carrying IPv4 (length field, not an ethertype) -> not IP
    (ETH, bytes.fromhex("020000000002020000000001") + struct.pack("!H", 8 + 28)
     + bytes.fromhex("AAAA030000000800") + ipv4(17, udp(1645)), None),
    # 47 802.1Q tag followed by an 802.3 length field -> not IP
    (ETH, eth(0x8100, vlan(3, 0x0030, bytes(48))), None),
    # 48 a record with no captured bytes (the reader keeps it; counted in frames only)
    (ETH, b"", None),
    # --- malformed for kansoku: not counted as IP (67 and 68: cut, but complete enough) ---
    # 49 IPv4 IHL 4 (ipv4_bad_header_length)
    (ETH, eth(0x0800, ipv4(6, tcp(81), ihl=4)), None),
    # 50 IPv4 total length 12 < header (ipv4_bad_total_length)
    (ETH, eth(0x0800, ipv4(6, tcp(82), total=12)), None),
    # 51 IPv4 total length 0 (ipv4_bad_total_length; tshark may assume TSO)
    (ETH, eth(0x0800, ipv4(6, tcp(83), total=0)), None),
    # 52 ethertype IPv4 but version nibble 6 (ipv4_bad_version)
    (ETH, eth(0x0800, ipv4(6, tcp(84), version=6)), None),
    # 53 TCP header cut by the snaplen after 10 bytes (tcp_truncated)
    (ETH, eth(0x0800, ipv4(6, tcp(85))), 14 + 20 + 10),
    # 54 TCP data offset 3 (tcp_bad_data_offset)
    (ETH, eth(0x0800, ipv4(6, tcp(86, doff=3) + bytes(8))), None),
    # 55 TCP data offset 15 in a 20-byte segment (tcp_bad_data_offset)
    (ETH, eth(0x0800, ipv4(6, struct.pack("!HHIIBBHHH", 1, 87, 1, 0, 0xF0, 2, 0, 0, 0))), None),
    # 56 UDP length 4 (udp_bad_length)
    (ETH, eth(0x0800, ipv4(17, udp(88, bytes(8), length=4))), None),
    # 57 UDP length 100 in a 16-byte datagram (udp_bad_length)
    (ETH, eth(0x0800, ipv4(17, udp(89, bytes(8), length=100))), None),
    # 58 UDP header cut by the snaplen after 4 bytes (udp_truncated)
    (ETH, eth(0x0800, ipv4(17, udp(90, bytes(8)))), 14 + 20 + 4),
    # 59 ICMP with 2 bytes (icmp_truncated)
    (ETH, eth(0x0800, ipv4(1, b"\x08\x00")), None),
    # 60 IPv6 hop-by-hop header claiming 16 bytes in an 8-byte payload (ipv6_extension_truncated)
    (ETH, eth(0x86DD, ipv6(0, bytes([6, 1]) + bytes(6))), None),
    # 61 ethertype IPv6 but version nibble 4 (ipv6_bad_version)
    (ETH, eth(0x86DD, ipv4(17, udp(91)) + bytes(40)), None),
    # 62 IPv6 header cut by the snaplen (ipv6_truncated)
    (ETH, eth(0x86DD, ipv6(6, tcp(92))), 14 + 30),
    # 63 IPv4 header cut by the snaplen after 16 bytes (ipv4_truncated)
    (ETH, eth(0x0800, ipv4(6, tcp(93))), 14 + 16),
    # 64 IPv4 header with options (IHL 6) cut inside the options (ipv4_truncated)
    (ETH, eth(0x0800, ipv4(17, udp(94), ihl=6, options=b"\x01\x01\x01\x00")), 14 + 22),
    # 65 TCP with 12 bytes of options, cut by the snaplen inside them (tcp_truncated)
    (ETH, eth(0x0800, ipv4(6, tcp(95, doff=8))), 14 + 20 + 24),
    # 66 ICMPv6 with 3 bytes (icmp_truncated)
    (ETH, eth(0x86DD, ipv6(58, b"\x80\x00\x00")), None),
    # 67 ICMP echo cut by the snaplen after its 8-byte header -> icmp, icmp/8.0
    (ETH, eth(0x0800, ipv4(1, icmp(8, 0, bytes(12)))), 14 + 20 + 8),
    # 68 UDP datagram cut by the snaplen right after its header -> udp, udp/53
    (ETH, eth(0x0800, ipv4(17, udp(53, bytes(30)))), 14 + 20 + 8),
    # 69 IPv6 fragment header cut by the snaplen (ipv6_extension_truncated)
    (ETH, eth(0x86DD, ipv6(44, fraghdr(17, 0, True) + udp(96))), 14 + 40 + 4),
    # 70 IPv6 payload length 0 (TSO?) with a TCP header after it (tcp_truncated)
    (ETH, eth(0x86DD, ipv6(6, tcp(70), plen=0)), None),
    # 71 IPv6 payload length 0, hop-by-hop but no jumbo option (ipv6_extension_truncated)
    (ETH, eth(0x86DD, ipv6(0, b"", plen=0) + bytes(6)), None),
    # 72 IPv4 total length 30: the TCP header runs past the datagram (tcp_truncated)
    (ETH, eth(0x0800, ipv4(6, tcp(73), total=30)), None),
    # 73 UDP length 0 in a small datagram, not a jumbogram (udp_bad_length)
    (ETH, eth(0x0800, ipv4(17, udp(74, bytes(4), length=0))), None),
    # 74 IPv4 header length 60 in a 40-byte IP packet, not snaplen-cut (ipv4_truncated)
    (ETH, eth(0x0800, ipv4(6, b"", ihl=15, options=bytes(40))[:40]), None),
    # 75 "tiny" first fragment with 8 bytes of TCP (tcp_truncated: kansoku needs the whole
    #   header; tshark does not dissect it either)
    (ETH, eth(0x0800, ipv4(6, tcp(72)[:8], frag=0x2000)), None),
    # 76 IPv6 first fragment with 12 bytes of TCP (tcp_truncated)
    (ETH, eth(0x86DD, ipv6(44, fraghdr(6, 0, True) + tcp(75)[:12])), None),
    # --- other link types ---
    # 77 raw IP (101), IPv6/UDP to 547 -> udp, udp/547
    (RAW, ipv6(17, udp(547)), None),
    # 78 raw IP (101), IPv4/TCP to 21 -> tcp, tcp/21
    (RAW, ipv4(6, tcp(21)), None),
    # 79 BSD NULL, AF_INET little-endian, IPv4/UDP to 137 -> udp, udp/137
    (NULL, struct.pack("<I", 2) + ipv4(17, udp(137)), None),
    # 80 BSD NULL, AF_INET6 = 30 (macOS), IPv6/TCP to 993 -> tcp, tcp/993
    (NULL, struct.pack("<I", 30) + ipv6(6, tcp(993)), None),
    # 81 OpenBSD LOOP, AF_INET network order, IPv4/ICMP echo reply -> icmp, icmp/0.0
    (LOOP, struct.pack("!I", 2) + ipv4(1, icmp(0, 0)), None),
    # 82 BSD NULL, AF_INET6 = 24 (NetBSD/OpenBSD) big-endian, IPv6/UDP to 2049 -> udp, udp/2049
    (NULL, struct.pack("!I", 24) + ipv6(17, udp(2049)), None),
    # 83 BSD NULL, AF_INET6 = 28 (FreeBSD), IPv6/UDP to 111 -> udp, udp/111
    (NULL, struct.pack("<I", 28) + ipv6(17, udp(111)), None),
    # 84 Linux SLL, IPv4/TCP to 5432 -> tcp, tcp/5432
    (SLL, struct.pack("!HHH8sH", 0, 1, 6, bytes(8), 0x0800) + ipv4(6, tcp(5432)), None),
    # 85 Linux SLL2, IPv6/UDP to 4500 -> udp, udp/4500
    (SLL2, struct.pack("!HHIHBB8s", 0x86DD, 0, 1, 1, 0, 6, bytes(8)) + ipv6(17, udp(4500)), None),
    # 86 LINKTYPE_IPV4 (228), IPv4/UDP to 514 -> udp, udp/514
    (IPV4, ipv4(17, udp(514)), None),
    # 87 LINKTYPE_IPV6 (229), ICMPv6 neighbour solicitation -> icmpv6, icmpv6/135.0
    (IPV6, ipv6(58, icmp(135, 0) + bytes(16)), None),
    # 88 raw IP (101) with version nibble 5 (raw_bad_version)
    (RAW, bytes([0x50]) + bytes(19), None),
    # 89 Linux SLL carrying an 802.1Q tag, IPv4/UDP to 1812 -> udp, udp/1812
    (SLL, struct.pack("!HHH8sH", 0, 1, 6, bytes(8), 0x8100) + vlan(9, 0x0800, ipv4(17, udp(1812))),
     None),
    # 90 IPv4 total length 200 in a frame that was not snaplen-cut (wire length = captured
    # length): tshark warns "IPv4 total length exceeds packet length" but, like kansoku,
    # dissects the TCP header that is there -> tcp, tcp/2323
    (ETH, eth(0x0800, ipv4(6, tcp(2323), total=200)), None),
]

# Frames on which kansoku and tshark disagree by design (see ../README.md, "Known
# divergences"); written only with --divergences, never part of the compared captures.
DIVERGENCES = [
    # 1 ICMP cut by the snaplen 4 bytes into its header: kansoku counts icmp/8.0 (type and
    #   code are there); tshark shows no ICMP field until the 8-byte header is complete.
    (ETH, eth(0x0800, ipv4(1, icmp(8, 0, bytes(12)))), 14 + 20 + 4),
    # 2 The same with an IP total length that says the ICMP message has 4 bytes: kansoku
    #   icmp/8.0, tshark "Malformed Packet: ICMP" without type or code.
    (ETH, eth(0x0800, ipv4(1, icmp(8, 0, b""))), None),
    # 3 BSD NULL with address family 10 (Linux's AF_INET6, which LINKTYPE_NULL does not
    #   list: 24, 28 or 30): kansoku decodes IPv6/UDP to 79, tshark shows "null:data".
    (NULL, struct.pack("<I", 10) + ipv6(17, udp(79)), None),
]


def block(kind, body):
    body += bytes(-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", kind, n) + body + struct.pack("<I", n)


def main(out, frames):
    links = []
    for link, _, _ in frames:
        if link not in links:
            links.append(link)
    data = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for link in links:
        data += block(1, struct.pack("<HHI", link, 0, 65535))
    ts = 1_060_000_000 * 1_000_000  # August 2003, in microseconds
    for i, (link, frame, cap) in enumerate(frames):
        captured = frame if cap is None else frame[:cap]
        t = ts + i
        body = struct.pack("<IIIII", links.index(link), t >> 32, t & 0xFFFFFFFF,
                           len(captured), len(frame)) + captured
        data += block(6, body)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--divergences":
        main(sys.argv[2], DIVERGENCES)
    elif len(sys.argv) == 2:
        main(sys.argv[1], FRAMES)
    else:
        sys.exit("usage: make_edge_cases.py OUT.pcapng | --divergences OUT.pcapng")
