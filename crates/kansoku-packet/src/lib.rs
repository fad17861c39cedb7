//! The first two stages of kansoku's data flow: **sources** (where frames come from) and
//! **decode** (zero-copy typed views of the link, IP and transport headers of each frame).
//!
//! Both are the hot path: they never allocate per packet, never copy frame bytes, and never
//! panic on input. Problems are reported as values: a [`source::Fault`] located by byte offset
//! for a broken container, a [`decode::Malformed`] reason for a broken frame.

pub mod decode;
pub mod source;
