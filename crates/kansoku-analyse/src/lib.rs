//! The analyse stage: turns stored counts into the answers an operator needs during an
//! outbreak. Pure functions over time series; the store queries and the CLI feed them, so
//! this crate builds and tests in seconds.

pub mod alerts;
pub mod estimate;
