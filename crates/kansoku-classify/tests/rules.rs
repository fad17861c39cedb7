//! Rule loading (errors name file, line and field) and matching on hand-built packets.

use kansoku_classify::{Classifier, SignatureId};
use kansoku_packet::decode::{Decoded, LinkType, decode};

fn load(extra: &str) -> Result<Classifier, String> {
    Classifier::from_sources(&[("extra.toml".to_owned(), extra.to_owned())])
        .map_err(|e| e.to_string())
}

const HEAD: &str = r#"
[[rule]]
id = "t.one"
signature = "test"
version = 1
description = "d"
references = ["r"]
"#;

#[test]
fn unknown_fields_are_errors_with_file_line_and_field() {
    let err = load(&format!("{HEAD}proto = \"tcp\"\ndst_prot = 80\n")).unwrap_err();
    assert!(err.starts_with("extra.toml: "), "{err}");
    assert!(err.contains("line 9"), "{err}");
    assert!(err.contains("unknown field `dst_prot`"), "{err}");
}

#[test]
fn invalid_values_name_rule_and_field() {
    for (body, field, words) in [
        ("tcp_flags = \"S\"\n", "tcp_flags", "needs proto"),
        (
            "proto = \"tcp\"\ntcp_flags = \"SX\"\n",
            "tcp_flags",
            "unknown TCP flag",
        ),
        (
            "proto = \"tcp\"\ntcp_options = \"mss,bogus\"\n",
            "tcp_options",
            "unknown TCP option",
        ),
        (
            "proto = \"tcp\"\ndst_port = \"90-80\"\n",
            "dst_port",
            "empty",
        ),
        ("proto = \"tcp\"\ndst_port = 70000\n", "dst_port", "maximum"),
        (
            "ip_id_expr = \"dst ^ nope\"\n",
            "ip_id_expr",
            "unknown field `nope`",
        ),
        (
            "payload = [{ offset = 0, hex = \"abc\" }]\n",
            "payload",
            "hex",
        ),
        ("proto = \"gre-ish\"\n", "proto", "unknown protocol"),
    ] {
        let err = load(&format!("{HEAD}{body}")).unwrap_err();
        assert!(
            err.contains(&format!("line 2: rule `t.one`, field `{field}`")) && err.contains(words),
            "{body}: {err}"
        );
    }
}

#[test]
fn references_are_required_and_ids_unique() {
    let no_refs = HEAD.replace("references = [\"r\"]", "references = []");
    assert!(load(&no_refs).unwrap_err().contains("field `references`"));
    let twice = format!("{HEAD}{HEAD}");
    assert!(load(&twice).unwrap_err().contains("appears twice"));
}

#[test]
fn conflicting_rules_are_refused_at_load() {
    let other = HEAD
        .replace("t.one", "t.two")
        .replace("\"test\"", "\"other\"");
    let err = load(&format!("{HEAD}ip_id = 7\n{other}ip_id = 7\n")).unwrap_err();
    assert!(err.contains("same conditions and priority"), "{err}");
    // A different priority resolves it.
    assert!(
        load(&format!(
            "{HEAD}ip_id = 7\n{other}ip_id = 7\npriority = 5\n"
        ))
        .is_ok()
    );
}

#[test]
fn a_file_overrides_a_default_rule_by_id() {
    let defaults = Classifier::load(&[]).unwrap();
    let blaster = defaults
        .rules()
        .iter()
        .find(|r| r.id == "blaster.syn-135")
        .unwrap();
    assert_eq!(blaster.priority, 50);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("override.toml");
    std::fs::write(
        &path,
        "[[rule]]\nid = \"blaster.syn-135\"\nsignature = \"blaster\"\nversion = 2\n\
         description = \"d\"\nreferences = [\"r\"]\npriority = 70\nproto = \"tcp\"\n\
         dst_port = 135\ntcp_flags = \"S\"\n",
    )
    .unwrap();
    let c = Classifier::load(&[path.as_path()]).unwrap();
    assert_eq!(c.rules().len(), defaults.rules().len());
    let r = c
        .rules()
        .iter()
        .find(|r| r.id == "blaster.syn-135")
        .unwrap();
    assert_eq!((r.version, r.priority), (2, 70));
}

const SRC: [u8; 4] = [61, 2, 3, 4];
const DST: [u8; 4] = [198, 18, 7, 9];

/// The header fields the tests vary; the rest of the probe is fixed.
#[derive(Clone, Copy)]
struct Probe {
    ttl: u8,
    ip_id: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    options: &'static [u8],
    dst: [u8; 4],
}

/// Ethernet + IPv4 (DF set) + TCP from SRC to `p.dst`, built by hand.
fn tcp_frame(p: Probe) -> Vec<u8> {
    let tcp_len = 20 + p.options.len();
    let total = 20 + tcp_len;
    let mut f = vec![0u8; 14];
    f[12] = 0x08;
    f.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8]);
    f.extend_from_slice(&p.ip_id.to_be_bytes());
    f.extend_from_slice(&[0x40, 0, p.ttl, 6, 0, 0]);
    f.extend_from_slice(&SRC);
    f.extend_from_slice(&p.dst);
    f.extend_from_slice(&4321u16.to_be_bytes());
    f.extend_from_slice(&p.dport.to_be_bytes());
    f.extend_from_slice(&p.seq.to_be_bytes());
    f.extend_from_slice(&0u32.to_be_bytes());
    f.push(((tcp_len / 4) as u8) << 4);
    f.push(p.flags);
    f.extend_from_slice(&[0xfa, 0xf0, 0, 0, 0, 0]);
    f.extend_from_slice(p.options);
    f
}

fn name_of(c: &mut Classifier, frame: &[u8]) -> String {
    let Ok(Decoded::Ip(p)) = decode(LinkType::Ethernet, frame) else {
        panic!("test frame does not decode");
    };
    let label = c.classify(0, &p);
    c.signatures().name(label.signature).into_owned()
}

const XP: [u8; 8] = [2, 4, 5, 0xb4, 1, 1, 4, 2];
const LINUX: [u8; 20] = [
    2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7,
];

/// A Windows 2000/XP SYN to TCP 135, as Blaster (and Welchia after its sweep) sends it.
const WINDOWS_SYN_135: Probe = Probe {
    ttl: 117,
    ip_id: 1,
    dport: 135,
    seq: 99,
    flags: 0x02,
    options: &XP,
    dst: DST,
};

#[test]
fn default_rules_label_header_fingerprints() {
    let mut c = Classifier::load(&[]).unwrap();
    let syn = WINDOWS_SYN_135;
    let dst_seq = u32::from_be_bytes(DST);
    let masscan_seq = 0x1234_5678;
    let masscan_id = ((dst_seq ^ 8080 ^ masscan_seq) & 0xffff) as u16;
    for (probe, expected) in [
        (syn, "blaster"),
        // The same SYN from a Linux stack (other options) is a generic scan.
        (
            Probe {
                ttl: 54,
                options: &LINUX,
                ..syn
            },
            "scan/tcp/135",
        ),
        // Conficker until the source probes an address its generator cannot produce.
        (Probe { dport: 445, ..syn }, "conficker"),
        (
            Probe {
                ttl: 60,
                dport: 23,
                seq: dst_seq,
                options: &[],
                ..syn
            },
            "mirai",
        ),
        (
            Probe {
                ttl: 60,
                dport: 23,
                seq: dst_seq ^ 1,
                options: &[],
                ..syn
            },
            "scan/tcp/23",
        ),
        (
            Probe {
                ip_id: 54321,
                dport: 443,
                options: &[],
                ..syn
            },
            "zmap",
        ),
        (
            Probe {
                ip_id: masscan_id,
                dport: 8080,
                seq: masscan_seq,
                options: &[],
                ..syn
            },
            "masscan",
        ),
        (
            Probe {
                dport: 40000,
                flags: 0x12,
                options: &[],
                ..syn
            },
            "backscatter",
        ),
        (
            Probe {
                dport: 40000,
                flags: 0x14,
                options: &[],
                ..syn
            },
            "backscatter",
        ),
        (
            Probe {
                dport: 80,
                flags: 0x18,
                options: &[],
                ..syn
            },
            "unclassified",
        ),
    ] {
        assert_eq!(name_of(&mut c, &tcp_frame(probe)), expected);
    }
    assert_eq!(
        c.signatures().name(SignatureId::UNCLASSIFIED),
        "unclassified"
    );
}

/// Ethernet + IPv4 + ICMP echo request with Welchia's 64-byte 0xAA payload, from SRC.
fn welchia_echo() -> Vec<u8> {
    let mut f = vec![0u8; 14];
    f[12] = 0x08;
    f.extend_from_slice(&[0x45, 0, 0, 92, 0, 1, 0, 0, 128, 1, 0, 0]);
    f.extend_from_slice(&SRC);
    f.extend_from_slice(&DST);
    f.extend_from_slice(&[8, 0, 0, 0, 0, 1, 0, 1]);
    f.extend_from_slice(&[0xaa; 64]);
    f
}

#[test]
fn a_445_scanner_is_conficker_until_a_probe_breaks_its_address_pattern() {
    let mut c = Classifier::load(&[]).unwrap();
    let to = |last: u8| {
        tcp_frame(Probe {
            dport: 445,
            dst: [198, 18, 7, last],
            ..WINDOWS_SYN_135
        })
    };
    assert_eq!(name_of(&mut c, &to(9)), "conficker");
    assert_eq!(name_of(&mut c, &to(127)), "conficker");
    // Octet 4 >= 128: Conficker's 15-bit generator never picks it. Sasser from now on.
    assert_eq!(name_of(&mut c, &to(200)), "sasser");
    assert_eq!(name_of(&mut c, &to(10)), "sasser");
}

#[test]
fn a_syn_to_135_after_an_icmp_sweep_is_welchia_not_blaster() {
    let mut c = Classifier::load(&[]).unwrap();
    let syn = WINDOWS_SYN_135;
    assert_eq!(name_of(&mut c, &tcp_frame(syn)), "blaster");
    assert_eq!(name_of(&mut c, &welchia_echo()), "welchia");
    assert_eq!(name_of(&mut c, &tcp_frame(syn)), "welchia");
}

#[test]
fn a_sweep_makes_welchia_only_of_its_own_source_and_only_for_an_hour() {
    const MINUTE: i64 = 60_000_000_000;
    let mut c = Classifier::load(&[]).unwrap();
    let from = |last: u8, mut frame: Vec<u8>| {
        frame[29] = last; // the IPv4 source's last octet (Ethernet 14 + 12 + 3)
        frame
    };
    let mut name_at = |ts_ns: i64, frame: &[u8]| {
        let Ok(Decoded::Ip(p)) = decode(LinkType::Ethernet, frame) else {
            panic!("test frame does not decode");
        };
        let label = c.classify(ts_ns, &p);
        c.signatures().name(label.signature).into_owned()
    };
    let syn = tcp_frame(WINDOWS_SYN_135);
    assert_eq!(name_at(0, &from(1, welchia_echo())), "welchia");
    assert_eq!(name_at(30 * MINUTE, &from(1, syn.clone())), "welchia");
    // Another source, while the first one's sweep is recent: still Blaster.
    assert_eq!(name_at(31 * MINUTE, &from(2, syn.clone())), "blaster");
    // An hour after the sweep it no longer counts (no source has swept since).
    assert_eq!(name_at(61 * MINUTE, &from(1, syn.clone())), "blaster");
    // A sweep by the second source, later: its own SYNs become Welchia, the first source's
    // stale sweep still does not count.
    assert_eq!(name_at(151 * MINUTE, &from(2, welchia_echo())), "welchia");
    assert_eq!(name_at(152 * MINUTE, &from(2, syn.clone())), "welchia");
    assert_eq!(name_at(153 * MINUTE, &from(1, syn)), "blaster");
}

#[test]
fn after_must_name_a_rule() {
    let err = load(&format!(
        "{HEAD}proto = \"tcp\"\nper_source = {{ after = \"nope\" }}\n"
    ))
    .unwrap_err();
    assert!(err.contains("`after` names no rule `nope`"), "{err}");
    let err = load(&format!("{HEAD}per_source = {{ distinct = \"dst\" }}\n")).unwrap_err();
    assert!(err.contains("go together"), "{err}");
}

#[test]
fn generic_names_are_written_like_the_documented_forms() {
    let classifier = Classifier::load(&[]).expect("the default rules load");
    let signatures = classifier.signatures();
    let mut text = String::new();
    let mut check = |id: SignatureId, expected: String| {
        text.clear();
        signatures.write_name(id, &mut text);
        assert_eq!(text, expected);
        assert_eq!(signatures.name(id), expected);
    };
    for port in [0u32, 1, 9, 10, 99, 135, 255, 256, 2048, 32768, 65535] {
        check(SignatureId(1 << 31 | port), format!("scan/tcp/{port}"));
        check(
            SignatureId(1 << 31 | 1 << 16 | port),
            format!("scan/udp/{port}"),
        );
        let (kind, code) = (port >> 8, port & 0xff);
        check(
            SignatureId(1 << 31 | 2 << 16 | port),
            format!("scan/icmp/{kind}.{code}"),
        );
        check(
            SignatureId(1 << 31 | 3 << 16 | port),
            format!("scan/icmp6/{kind}.{code}"),
        );
    }
    check(SignatureId::UNCLASSIFIED, "unclassified".into());
    let blaster = signatures
        .id("blaster")
        .expect("a default rule issues blaster");
    check(blaster, "blaster".into());
    check(SignatureId(60_000), "unknown".into());
}
