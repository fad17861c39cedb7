//! Who is looking, and what they may see. Operators see everything. The public sees a view
//! that does not map the sensors: published per-port graphs let an adversary probe
//! candidate addresses and watch for the bump (Shinoda, Ikai, Itoh, "Vulnerabilities of
//! passive Internet threat monitors", USENIX Security 2005). Their countermeasures are the
//! policy here: delay the data, coarsen time and addresses, suppress small counts.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;

use crate::AppState;

/// What the public view holds back; `kansoku serve --public-*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PublicPolicy {
    /// The newest data the public sees is this old (relative to the newest data stored).
    pub delay_s: i64,
    /// The finest bin the public sees, seconds.
    pub min_bin_s: u32,
    /// Counts below this (packets or sources per bin, sources of a row) are not shown.
    pub min_count: u64,
}

impl Default for PublicPolicy {
    fn default() -> Self {
        PublicPolicy {
            delay_s: 0,
            min_bin_s: 3600,
            min_count: 5,
        }
    }
}

impl PublicPolicy {
    pub fn delay(&self) -> Duration {
        Duration::from_secs(self.delay_s.max(0) as u64)
    }
}

/// The view of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Operator,
    Public(PublicPolicy),
}

impl View {
    pub fn is_operator(&self) -> bool {
        matches!(self, View::Operator)
    }

    /// The finest bin this view may use.
    pub fn min_bin(&self) -> u32 {
        match self {
            View::Operator => 0,
            View::Public(p) => p.min_bin_s,
        }
    }

    /// Drops the points below the threshold of a public view.
    pub fn suppress(&self, series: &mut Vec<(i64, f64)>) {
        if let View::Public(p) = self {
            series.retain(|&(_, v)| v >= p.min_count as f64);
        }
    }

    /// Whether a count may be shown.
    pub fn shows(&self, count: f64) -> bool {
        match self {
            View::Operator => true,
            View::Public(p) => count >= p.min_count as f64,
        }
    }
}

impl FromRequestParts<AppState> for View {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // An operators file that cannot be read shows the public view: fail closed.
        let operator = state
            .sessions
            .operator(&parts.headers, &state.store_dir)
            .await
            .is_ok_and(|name| name.is_some());
        Ok(if operator {
            View::Operator
        } else {
            View::Public(state.public)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_view_suppresses_small_counts() {
        let public = View::Public(PublicPolicy::default());
        let mut series = vec![(0, 4.0), (3600, 5.0), (7200, 120.0)];
        public.suppress(&mut series);
        assert_eq!(series, vec![(3600, 5.0), (7200, 120.0)]);
        let mut all = vec![(0, 1.0)];
        View::Operator.suppress(&mut all);
        assert_eq!(all, vec![(0, 1.0)]);
        assert!(!public.shows(4.0) && View::Operator.shows(0.0));
    }
}
