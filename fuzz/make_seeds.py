#!/usr/bin/env python3
"""Build seed corpora for the fuzz targets from the shared test captures.

Usage: python3 fuzz/make_seeds.py [TESTDATA_DIR]   (default: ../shared/testdata from the repo root)

Writes fuzz/corpus/{pcap_reader,mapped_reader,decode}/ (git-ignored; never commit them):
- reader seeds: the smallest captures as they are, the head of a few larger ones, the pcapng
  multi-interface capture, and gzip / zstd wrappings of two of them;
- decode seeds: individual frames pulled out of those captures, each prefixed by the index of
  its link type in `LinkType::ALL` (the `decode` target's selector byte).
"""
import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TESTDATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "testdata")

# Order of LinkType::ALL in crates/kansoku-packet/src/decode/link.rs.
ALL = {1: 0, 0: 1, 108: 2, 101: 3, 12: 3, 14: 3, 228: 4, 229: 5, 113: 6, 276: 7}

SMALL = [
    "zeek_zeek/one-sided-2745.pcap",
    "ncsa_bro-simple-scan/scan_with_zero_windows.pcap",
    "ncsa_bro-simple-scan/port_scan.pcap",
    "ncsa_bro-simple-scan/multiport_scan.pcap",  # 802.1Q, ICMP quoting TCP
    "ncsa_bro-simple-scan/445_scan.pcap",
    "zeek_zeek/pcapng-multi-interface.pcapng",
    "chrissanders_packets/blaster.pcap",  # time goes backwards
    "the-tcpdump-group_tcpdump/tftp.pcap",
    "zeek_zeek/vnc-scanner.pcap",
    "chrissanders_packets/portscan.pcap",
]
HEADS = [  # first 4 KiB of larger files (the walk ends with a Truncated fault)
    "LibtraceTeam_libtrace/100_packetsns.pcap",  # nanosecond pcap
    "chrissanders_packets/synscan.pcapng",
    "markofu_pcaps/IP_PROTOCOL_SCAN.pcap",
    "chrissanders_packets/evilprogram.pcap",  # ICMP errors, Slammer
    "ncsa_bro-simple-scan/backscatter.trace",
]


def put(directory, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def pcap_frames(b):
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    link = struct.unpack(e + "I", b[20:24])[0] & 0xFFFF
    off = 24
    while off + 16 <= len(b):
        caplen = struct.unpack(e + "I", b[off + 8 : off + 12])[0]
        if off + 16 + caplen > len(b):
            return
        yield link, b[off + 16 : off + 16 + caplen]
        off += 16 + caplen


def pcapng_frames(b):
    off, e, links = 0, "<", []
    while off + 12 <= len(b):
        btype = struct.unpack("<I", b[off : off + 4])[0]
        if btype == 0x0A0D0D0A:
            e = "<" if b[off + 8 : off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        blen = struct.unpack(e + "I", b[off + 4 : off + 8])[0]
        if blen < 12 or off + blen > len(b):
            return
        btype = struct.unpack(e + "I", b[off : off + 4])[0]
        if btype == 1:
            links.append(struct.unpack(e + "H", b[off + 8 : off + 10])[0])
        elif btype == 6 and blen >= 32:
            iface, = struct.unpack(e + "I", b[off + 8 : off + 12])
            caplen, = struct.unpack(e + "I", b[off + 20 : off + 24])
            if iface < len(links):
                yield links[iface], b[off + 28 : off + 28 + caplen]
        off += blen


def main():
    corpus = os.path.join(HERE, "corpus")
    reader_dirs = [os.path.join(corpus, t) for t in ("pcap_reader", "mapped_reader")]
    decode_dir = os.path.join(corpus, "decode")
    have_zstd = shutil.which("zstd") is not None
    n_reader = n_decode = 0
    eth_seeds = []
    for rel in SMALL + HEADS:
        path = os.path.join(TESTDATA, rel)
        if not os.path.exists(path):
            print("missing", path, file=sys.stderr)
            continue
        with open(path, "rb") as f:
            data = f.read()
        if rel in HEADS:
            data = data[:4096]
        seeds = [data]
        if rel in SMALL[:2]:
            seeds.append(gzip.compress(data, mtime=0))
            if have_zstd:
                seeds.append(subprocess.run(["zstd", "-q", "-c", "-"], input=data,
                                            stdout=subprocess.PIPE, check=True).stdout)
        for s in seeds:
            for d in reader_dirs:
                put(d, s)
            n_reader += 1
        frames = pcapng_frames(data) if data[:4] == b"\x0a\x0d\x0d\x0a" else pcap_frames(data)
        for i, (link, frame) in enumerate(frames):
            if link in ALL and i < 8:
                seed = bytes([ALL[link]]) + frame[:512]
                put(decode_dir, seed)
                eth_seeds.append(seed)
                n_decode += 1
    # Re-wrap a few Ethernet IPv4/IPv6 frames in every other link header, so each link type
    # starts with a valid frame (indices as in LinkType::ALL).
    wrapped = {True: 0, False: 0}
    for seed in eth_seeds:
        if seed[0] != 0 or len(seed) < 15 or seed[13:15] not in (b"\x08\x00", b"\x86\xdd"):
            continue
        etype, ip = seed[13:15], seed[15:]
        v4 = etype == b"\x08\x00"
        if wrapped[v4] >= (6 if v4 else 2):
            continue
        wrapped[v4] += 1
        af = 2 if v4 else 10
        for sel, hdr in [
            (1, struct.pack("<I", af)),                       # NULL, little-endian host
            (2, struct.pack(">I", 2 if v4 else 24)),          # LOOP, network order
            (3, b""),                                         # RAW
            (4 if v4 else 5, b""),                            # IPV4 / IPV6
            (6, b"\x00\x00\x00\x01\x00\x06" + b"\x02" * 8 + etype),   # SLL
            (7, etype + b"\x00\x00" + b"\x00\x00\x00\x02\x00\x01\x06" + b"\x02" * 9),  # SLL2
        ]:
            put(decode_dir, bytes([sel]) + hdr + ip)
            n_decode += 1
    # IPv6 jumbogram carrying UDP with length 0 (selector bit 7: frame padded past 64 KiB).
    jumbo = (b"\x60\x00\x00\x00" + b"\x00\x00" + b"\x00\x40" + b"\x20\x01\x0d\xb8" + b"\x00" * 11
             + b"\x01" + b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x02"
             + b"\x11\x00\xc2\x04\x00\x01\x00\x10" + b"\x04\xd2\x00\x35\x00\x00\x00\x00")
    put(decode_dir, bytes([0x83]) + jumbo)
    n_decode += 1
    print(f"{n_reader} reader seeds, {n_decode} decode seeds in {corpus}")


if __name__ == "__main__":
    main()
