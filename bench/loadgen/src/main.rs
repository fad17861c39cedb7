//! A small closed-loop HTTP load generator for `kansoku serve` (bench/load.sh): a few
//! keep-alive connections each send GET requests back to back, bounded in count and time,
//! and the latency of every request is recorded. Standard library only, HTTP/1.1 with
//! `Content-Length` bodies (what the server sends), so what is measured is the server.
//!
//! A separate crate, not an example of `kansoku`: examples build with their package's
//! dev-dependencies, whose features would make a release build recompile DataFusion.
//!
//! Usage: kansoku-loadgen ADDRESS PATH [--connections N] [--requests N] [--seconds S]
//! Prints one line: requests, errors, seconds, requests/s, p50, p99 and max in ms; exits 1
//! if any request failed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Options {
    address: String,
    path: String,
    connections: usize,
    requests: usize,
    seconds: f64,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let address = args.next().ok_or(
        "usage: kansoku-loadgen ADDRESS PATH [--connections N] [--requests N] [--seconds S]",
    )?;
    let path = args.next().ok_or("missing PATH")?;
    let mut o = Options {
        address,
        path,
        connections: 8,
        requests: 5000,
        seconds: 30.0,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |_| format!("{flag} {value}: not a number");
        match flag.as_str() {
            "--connections" => o.connections = value.parse().map_err(bad)?,
            "--requests" => o.requests = value.parse().map_err(bad)?,
            "--seconds" => {
                o.seconds = value
                    .parse()
                    .map_err(|_| format!("{flag} {value}: not a number"))?
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(o)
}

/// Sends one request on the connection and reads the whole answer; the status code.
fn request(stream: &mut BufReader<TcpStream>, address: &str, path: &str) -> std::io::Result<u16> {
    write!(
        stream.get_mut(),
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: */*\r\n\r\n"
    )?;
    let mut line = String::new();
    stream.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut length = None;
    loop {
        line.clear();
        stream.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.ok_or_else(|| std::io::Error::other("an answer without Content-Length"))?;
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    Ok(status)
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("kansoku-loadgen: {e}");
            std::process::exit(2);
        }
    };
    let o = Arc::new(o);
    let issued = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(o.seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..o.connections)
        .map(|_| {
            let (o, issued) = (o.clone(), issued.clone());
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                let mut stream = None;
                while issued.fetch_add(1, Ordering::Relaxed) < o.requests
                    && Instant::now() < deadline
                {
                    let t = Instant::now();
                    let conn = match &mut stream {
                        Some(s) => s,
                        None => match TcpStream::connect(&o.address) {
                            Ok(s) => {
                                let _ = s.set_nodelay(true);
                                stream.insert(BufReader::new(s))
                            }
                            Err(_) => {
                                errors += 1;
                                continue;
                            }
                        },
                    };
                    match request(conn, &o.address, &o.path) {
                        Ok(200) => latencies.push(t.elapsed()),
                        _ => {
                            errors += 1;
                            stream = None;
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.join().expect("a worker thread");
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let ms = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "{path}: {n} requests, {errors} errors, {elapsed:.2} s, {rate:.0} requests/s, \
         p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms ({c} connections)",
        path = o.path,
        n = latencies.len(),
        rate = latencies.len() as f64 / elapsed,
        p50 = ms(0.5),
        p99 = ms(0.99),
        max = ms(1.0),
        c = o.connections
    );
    if errors > 0 {
        std::process::exit(1);
    }
}
