//! Ports as operators type them.

/// `tcp/135`, `udp/1434`, `icmp/8.0` (type.code), `icmp6/128.0`.
pub fn parse_port(text: &str) -> Result<(u8, u16), String> {
    let bad = || format!("`{text}` is not a port like tcp/135, udp/1434 or icmp/8.0");
    let (proto, port) = text.split_once('/').ok_or_else(bad)?;
    let proto = match proto {
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        "icmp6" => 58,
        _ => return Err(bad()),
    };
    let port = if proto == 1 || proto == 58 {
        let (t, c) = port.split_once('.').unwrap_or((port, "0"));
        let (t, c): (u8, u8) = (t.parse().map_err(|_| bad())?, c.parse().map_err(|_| bad())?);
        u16::from_be_bytes([t, c])
    } else {
        port.parse().map_err(|_| bad())?
    };
    Ok((proto, port))
}

#[cfg(test)]
mod tests {
    use super::parse_port;

    #[test]
    fn ports_parse_as_operators_write_them() {
        assert_eq!(parse_port("tcp/135"), Ok((6, 135)));
        assert_eq!(parse_port("udp/1434"), Ok((17, 1434)));
        assert_eq!(parse_port("icmp/8.0"), Ok((1, 0x0800)));
        assert!(parse_port("tcp/99999").is_err());
        assert!(parse_port("sctp/1").is_err());
        assert!(parse_port("135").is_err());
    }
}
