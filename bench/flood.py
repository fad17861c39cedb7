#!/usr/bin/env python3
"""Write a classic pcap of a spoofed-source SYN flood into a /16 darknet: every packet from a
new random source, to a random address and port of 10.0.0.0/16, spread over 50 minutes of
one hour. The worst case for per-source records: as many source rows as packets.

Usage: bench/flood.py PACKETS OUT.pcap   (deterministic: seeded)
"""
import random
import struct
import sys

packets, out_path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(5)
ethernet = bytes.fromhex("001122334455" "66778899aabb" "0800")
start_s = 1_700_000_000
span_us = 50 * 60 * 1_000_000
with open(out_path, "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    buf = bytearray()
    for i in range(packets):
        src = rng.getrandbits(32)
        dst = (10 << 24) | rng.getrandbits(16)
        ip = struct.pack("!BBHHHBBHII", 0x45, 0, 40, i & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
        tcp = struct.pack("!HHIIBBHHH", 1024 + i % 60000, rng.getrandbits(16), i, 0, 0x50, 0x02, 8192, 0, 0)
        frame = ethernet + ip + tcp
        at_us = i * span_us // packets
        buf += struct.pack("<IIII", start_s + at_us // 1_000_000, at_us % 1_000_000, len(frame), len(frame))
        buf += frame
        if len(buf) >= 1 << 20:
            out.write(buf)
            buf.clear()
    out.write(buf)
