//! Relations between header fields, such as Masscan's IP ID `(dst ^ dport ^ seq) & 0xffff` or
//! Mirai's `seq == dst`: a tiny expression language compiled once and evaluated without
//! allocation.
//!
//! Grammar (C precedence, all arithmetic wrapping on u64):
//! `expr := or ; or := xor ('|' xor)* ; xor := and ('^' and)* ; and := shift ('&' shift)* ;
//!  shift := sum (('<<'|'>>') sum)* ; sum := atom (('+'|'-') atom)* ;
//!  atom := NUMBER | FIELD | '(' expr ')'`.

use std::fmt;

/// Header fields an expression can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Source / destination address as a number (IPv4; for IPv6 the low 32 bits).
    Src,
    Dst,
    Sport,
    Dport,
    Seq,
    Ack,
    IpId,
    Ttl,
    Window,
    IpLen,
}

impl Field {
    const NAMES: [(&'static str, Field); 10] = [
        ("src", Field::Src),
        ("dst", Field::Dst),
        ("sport", Field::Sport),
        ("dport", Field::Dport),
        ("seq", Field::Seq),
        ("ack", Field::Ack),
        ("ip_id", Field::IpId),
        ("ttl", Field::Ttl),
        ("window", Field::Window),
        ("ip_len", Field::IpLen),
    ];
}

/// Field values of one packet, gathered once before any expression runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fields {
    pub src: u64,
    pub dst: u64,
    pub sport: u64,
    pub dport: u64,
    pub seq: u64,
    pub ack: u64,
    pub ip_id: u64,
    pub ttl: u64,
    pub window: u64,
    pub ip_len: u64,
}

impl Fields {
    #[inline]
    fn get(&self, f: Field) -> u64 {
        match f {
            Field::Src => self.src,
            Field::Dst => self.dst,
            Field::Sport => self.sport,
            Field::Dport => self.dport,
            Field::Seq => self.seq,
            Field::Ack => self.ack,
            Field::IpId => self.ip_id,
            Field::Ttl => self.ttl,
            Field::Window => self.window,
            Field::IpLen => self.ip_len,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Or,
    Xor,
    And,
    Shl,
    Shr,
    Add,
    Sub,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Const(u64),
    Field(Field),
    Binary(Op, Box<Node>, Box<Node>),
}

/// A compiled expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    root: Node,
    source: String,
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Expr {
    pub fn parse(text: &str) -> Result<Self, String> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, at: 0 };
        let root = parser.level(0)?;
        if parser.at != parser.tokens.len() {
            return Err(format!(
                "unexpected `{}` in `{text}`",
                parser.tokens[parser.at].describe()
            ));
        }
        Ok(Self {
            root,
            source: text.to_owned(),
        })
    }

    #[inline]
    pub fn eval(&self, fields: &Fields) -> u64 {
        eval(&self.root, fields)
    }
}

fn eval(node: &Node, fields: &Fields) -> u64 {
    match node {
        Node::Const(v) => *v,
        Node::Field(f) => fields.get(*f),
        Node::Binary(op, a, b) => {
            let (a, b) = (eval(a, fields), eval(b, fields));
            match op {
                Op::Or => a | b,
                Op::Xor => a ^ b,
                Op::And => a & b,
                Op::Shl => a.wrapping_shl(b as u32),
                Op::Shr => a.wrapping_shr(b as u32),
                Op::Add => a.wrapping_add(b),
                Op::Sub => a.wrapping_sub(b),
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Num(u64),
    Field(Field),
    Op(Op),
    Open,
    Close,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Num(n) => n.to_string(),
            Token::Field(f) => format!("{f:?}").to_lowercase(),
            Token::Op(op) => format!("{op:?}"),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' => i += 1,
            b'(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            b')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            b'|' | b'^' | b'&' | b'+' | b'-' => {
                tokens.push(Token::Op(match c {
                    b'|' => Op::Or,
                    b'^' => Op::Xor,
                    b'&' => Op::And,
                    b'+' => Op::Add,
                    _ => Op::Sub,
                }));
                i += 1;
            }
            b'<' | b'>' if bytes.get(i + 1) == Some(&c) => {
                tokens.push(Token::Op(if c == b'<' { Op::Shl } else { Op::Shr }));
                i += 2;
            }
            b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                let word = &text[start..i];
                let value = match word.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => word.parse(),
                }
                .map_err(|_| format!("`{word}` is not a number in `{text}`"))?;
                tokens.push(Token::Num(value));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &text[start..i];
                let field = Field::NAMES
                    .iter()
                    .find(|(name, _)| *name == word)
                    .map(|(_, f)| *f)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Field::NAMES.iter().map(|(n, _)| *n).collect();
                        format!(
                            "unknown field `{word}` in `{text}`; fields: {}",
                            names.join(", ")
                        )
                    })?;
                tokens.push(Token::Field(field));
            }
            _ => return Err(format!("unexpected character `{}` in `{text}`", c as char)),
        }
    }
    if tokens.is_empty() {
        return Err("empty expression".into());
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

/// Binary operators by precedence level, loosest first.
const LEVELS: [&[Op]; 5] = [
    &[Op::Or],
    &[Op::Xor],
    &[Op::And],
    &[Op::Shl, Op::Shr],
    &[Op::Add, Op::Sub],
];

impl Parser {
    fn level(&mut self, level: usize) -> Result<Node, String> {
        if level == LEVELS.len() {
            return self.atom();
        }
        let mut left = self.level(level + 1)?;
        while let Some(Token::Op(op)) = self.tokens.get(self.at) {
            if !LEVELS[level].contains(op) {
                break;
            }
            let op = *op;
            self.at += 1;
            let right = self.level(level + 1)?;
            left = Node::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Node, String> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        match token {
            Some(Token::Num(n)) => Ok(Node::Const(n)),
            Some(Token::Field(f)) => Ok(Node::Field(f)),
            Some(Token::Open) => {
                let inner = self.level(0)?;
                match self.tokens.get(self.at) {
                    Some(Token::Close) => {
                        self.at += 1;
                        Ok(inner)
                    }
                    _ => Err("missing `)`".into()),
                }
            }
            Some(t) => Err(format!(
                "expected a number, field or `(`, found `{}`",
                t.describe()
            )),
            None => Err("the expression ends too early".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masscan_relation() {
        let e = Expr::parse("(dst ^ dport ^ seq) & 0xffff").unwrap();
        let f = Fields {
            dst: 0xc612_0a0b,
            dport: 445,
            seq: 0xdead_beef,
            ..Fields::default()
        };
        assert_eq!(e.eval(&f), (0xc612_0a0b ^ 445 ^ 0xdead_beef) & 0xffff);
    }

    #[test]
    fn precedence_is_c_like() {
        let f = Fields::default();
        // 1 | (6 ^ (3 & 5)) = 1 | (6 ^ 1) = 7; left to right it would be ((1 | 6) ^ 3) & 5 = 4.
        assert_eq!(Expr::parse("1 | 6 ^ 3 & 5").unwrap().eval(&f), 7);
        assert_eq!(Expr::parse("1 << 2 + 1").unwrap().eval(&f), 1 << 3);
        assert_eq!(Expr::parse("0 - 1").unwrap().eval(&f), u64::MAX);
    }

    #[test]
    fn errors_say_what() {
        assert!(
            Expr::parse("dst ^ bogus")
                .unwrap_err()
                .contains("unknown field `bogus`")
        );
        assert!(Expr::parse("(dst").unwrap_err().contains("missing `)`"));
        assert!(Expr::parse("dst ^").unwrap_err().contains("ends too early"));
        assert!(Expr::parse("").unwrap_err().contains("empty"));
        assert!(Expr::parse("dst dst").unwrap_err().contains("unexpected"));
        assert!(Expr::parse("0xzz").unwrap_err().contains("not a number"));
    }
}
