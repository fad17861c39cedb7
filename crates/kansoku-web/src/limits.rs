//! Per-client rate limits (report intake, login attempts) and the client address they key on.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::AppState;

/// The client a request counts against: the peer address of the connection or, when the peer
/// is a trusted reverse proxy (`kansoku serve --trusted-proxy`), the last address in its
/// `X-Forwarded-For` (the one that proxy appended; earlier entries are the client's to
/// forge). Without a peer address (a request built in process) the peer is 0.0.0.0, so
/// limits still apply.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientIp(client_of(
            peer,
            &parts.headers,
            &state.trusted_proxies,
        )))
    }
}

fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    // A proxy reaching a dual-stack socket over IPv4 shows as `::ffff:a.b.c.d`.
    let peer = peer.to_canonical();
    if !trusted.iter().any(|t| t.to_canonical() == peer) {
        return peer;
    }
    // Proxies may send one header per hop or one comma-separated list; the last entry of the
    // last header is the nearest hop's. One that does not parse leaves the proxy as client.
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer)
}

/// At most `limit` events per client in any `window` (a sliding window of event times).
#[derive(Debug)]
pub struct RateLimit {
    limit: usize,
    window: Duration,
    events: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl RateLimit {
    pub fn new(limit: usize, window: Duration) -> Self {
        RateLimit {
            limit,
            window,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// Records an event for `client` if it is within the limit; otherwise returns how long
    /// until the oldest event leaves the window.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let client = quota_key(client);
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        // Forget idle clients now and then, so the table stays as small as the active set.
        if events.len() > 10_000 {
            events.retain(|_, q| q.back().is_some_and(|t| now - *t < self.window));
        }
        let queue = events.entry(client).or_default();
        while queue.front().is_some_and(|t| now - *t >= self.window) {
            queue.pop_front();
        }
        if queue.len() >= self.limit {
            // A limit of 0 refuses everything: wait a whole window.
            let waited = queue.front().map_or(Duration::ZERO, |oldest| now - *oldest);
            return Err(self.window - waited);
        }
        queue.push_back(now);
        Ok(())
    }
}

/// The address a quota belongs to. An IPv6 client is its /64: one host is routinely given a
/// whole /64 (RFC 7421) and could otherwise draw a fresh quota per address. An IPv4 client on
/// a dual-stack socket (`::ffff:a.b.c.d`) is its IPv4 address, as on an IPv4 socket.
fn quota_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_client_over_a_sliding_window() {
        let limit = RateLimit::new(2, Duration::from_secs(60));
        let (a, b) = (IpAddr::from([192, 0, 2, 1]), IpAddr::from([192, 0, 2, 2]));
        let t0 = Instant::now();
        assert!(limit.check(a, t0).is_ok());
        assert!(limit.check(a, t0 + Duration::from_secs(10)).is_ok());
        let wait = limit.check(a, t0 + Duration::from_secs(20)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(40));
        assert!(
            limit.check(b, t0 + Duration::from_secs(20)).is_ok(),
            "per client"
        );
        assert!(
            limit.check(a, t0 + Duration::from_secs(60)).is_ok(),
            "slides"
        );
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64_and_a_mapped_ipv4_client_its_ipv4_address() {
        let limit = RateLimit::new(1, Duration::from_secs(60));
        let now = Instant::now();
        let host: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        assert!(limit.check(host, now).is_ok());
        let same_64: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        assert!(
            limit.check(same_64, now).is_err(),
            "another address of the same /64"
        );
        let next_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(
            limit.check(next_64, now).is_ok(),
            "the next /64 is another client"
        );

        let v4 = IpAddr::from([192, 0, 2, 7]);
        assert!(limit.check(v4, now).is_ok());
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert!(
            limit.check(mapped, now).is_err(),
            "same client on a dual-stack socket"
        );
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy = IpAddr::from([10, 0, 0, 2]);
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            "198.51.100.1, 203.0.113.9".parse().unwrap(),
        );
        let forwarded = IpAddr::from([203, 0, 113, 9]);
        assert_eq!(client_of(proxy, &headers, &[proxy]), forwarded);
        assert_eq!(client_of(proxy, &headers, &[]), proxy, "untrusted peer");
        let mapped: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        assert_eq!(
            client_of(mapped, &headers, &[proxy]),
            forwarded,
            "dual-stack socket"
        );
        headers.append("x-forwarded-for", "2001:db8::7".parse().unwrap());
        let nearest: IpAddr = "2001:db8::7".parse().unwrap();
        assert_eq!(client_of(proxy, &headers, &[proxy]), nearest, "last header");
        headers.append("x-forwarded-for", "not an address".parse().unwrap());
        assert_eq!(client_of(proxy, &headers, &[proxy]), proxy, "unreadable");
        assert_eq!(
            client_of(proxy, &HeaderMap::new(), &[proxy]),
            proxy,
            "no header"
        );
    }

    #[test]
    fn a_limit_of_zero_refuses_without_panicking() {
        let limit = RateLimit::new(0, Duration::from_secs(60));
        let client = IpAddr::from([192, 0, 2, 1]);
        assert_eq!(
            limit.check(client, Instant::now()),
            Err(Duration::from_secs(60))
        );
    }
}
