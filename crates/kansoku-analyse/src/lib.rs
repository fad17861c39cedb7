//! The analyse stage: turns stored counts into the answers an operator needs during an
//! outbreak: alerts over time series, infected-population estimates, and owner reports (who
//! to notify about which hosts).
//! Pure functions over rows; the store queries and the CLI feed them, so this crate builds
//! and tests in seconds.

pub mod alerts;
pub mod estimate;
pub mod owners;
