//! Property test: 200k random and mutated frames through every link type
//! must never panic (and every accessor on a successful decode must work).

use super::tests::{ether, ipv4, ipv6, tcp_syn, udp};
use super::*;

/// xorshift64*: deterministic, so a failure reproduces from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let icmp_q = [
        &[3u8, 3, 0, 0, 0, 0, 0, 0][..],
        &ipv4(17, 0, &[], &udp(1, 2, &[])),
    ]
    .concat();
    let icmp6_q = [
        &[1u8, 4, 0, 0, 0, 0, 0, 0][..],
        &ipv6(
            0,
            &[&[6u8, 0, 1, 4, 0, 0, 0, 0][..], &tcp_syn(3, 4)].concat(),
        ),
    ]
    .concat();
    let ext6 = [
        &[44u8, 0, 1, 4, 0, 0, 0, 0][..],
        &[51, 0, 0, 1, 0, 0, 0, 1],
        &[17, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &udp(5, 6, b"zz"),
    ]
    .concat();
    let ips = vec![
        ipv4(6, 0x4000, &[1, 1, 1, 0], &tcp_syn(1, 80)),
        ipv4(17, 0x2000, &[], &udp(53, 53, &[0; 12])),
        ipv4(1, 0, &[], &icmp_q),
        ipv4(47, 5, &[], &[0; 10]),
        ipv6(6, &tcp_syn(2, 443)),
        ipv6(0, &ext6),
        ipv6(58, &icmp6_q),
    ];
    let mut out = Vec::new();
    for p in &ips {
        out.push(p.clone());
        out.push(ether(if p[0] >> 4 == 4 { 0x0800 } else { 0x86dd }, p));
        out.push(ether(
            0x88a8,
            &[&[0, 1, 0x81, 0, 0, 2, 0x86, 0xdd][..], p].concat(),
        ));
        out.push(
            [
                &[0u8, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0][..],
                p,
            ]
            .concat(),
        );
        out.push(
            [
                &[
                    0x86u8, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
                ][..],
                p,
            ]
            .concat(),
        );
        out.push([&30u32.to_le_bytes()[..], p].concat());
        out.push([&2u32.to_be_bytes()[..], p].concat());
    }
    out
}

/// Touch every accessor so that a latent out-of-bounds read would show.
fn exercise(d: &Decoded<'_>) -> u64 {
    let Decoded::Ip(p) = d else { return 1 };
    let mut h = u64::from(p.dst_port()) + u64::from(p.src_port()) + p.ip_header.len() as u64;
    match p.transport {
        Transport::Tcp(t) => {
            h += u64::from(t.seq() ^ t.ack()) + u64::from(t.flags()) + u64::from(t.window());
            h += (t.header_len() + t.options().len() + t.payload().len()) as u64;
        }
        Transport::Udp(u) => h += u64::from(u.length()) + u.payload().len() as u64,
        Transport::Icmp(i) => {
            h += i.rest().len() as u64 + u64::from(i.checksum());
            if let Some(q) = i.quoted() {
                h += u64::from(q.src_port) + u64::from(q.dst_port) + u64::from(q.proto);
            }
        }
        Transport::Other => {}
    }
    h
}

#[test]
fn random_and_mutated_frames_never_panic() {
    const INTERESTING: [u8; 12] = [
        0, 1, 2, 0x06, 0x11, 0x2c, 0x3a, 0x45, 0x4f, 0x60, 0x81, 0xff,
    ];
    let seeds = seeds();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut buf = Vec::with_capacity(2048);
    let mut sink = 0u64;
    let mut ok = 0usize;
    for _ in 0..200_000 {
        buf.clear();
        if rng.below(8) == 0 {
            let n = rng.below(120);
            buf.extend((0..n).map(|_| rng.next() as u8));
        } else {
            buf.extend_from_slice(&seeds[rng.below(seeds.len())]);
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(buf.len());
                if let Some(b) = buf.get_mut(at) {
                    *b = match rng.below(3) {
                        0 => rng.next() as u8,
                        1 => INTERESTING[rng.below(INTERESTING.len())],
                        _ => *b ^ (1 << rng.below(8)),
                    };
                }
            }
            if rng.below(3) == 0 {
                buf.truncate(rng.below(buf.len() + 1));
            } else if rng.below(8) == 0 {
                buf.extend((0..rng.below(40)).map(|_| rng.next() as u8));
            }
        }
        for link in LinkType::ALL {
            if let Ok(d) = decode(link, &buf) {
                ok += 1;
                sink = sink.wrapping_add(exercise(&d));
            }
        }
    }
    // Mutations should leave a good share decodable, or the test proves little.
    assert!(ok > 100_000, "only {ok} decodes succeeded");
    assert_ne!(sink, 0);
}
