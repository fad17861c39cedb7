//! kansoku-check: a careful offline checker and remover for W32.Blaster and W32.Welchia on a
//! mounted Windows volume (issue 6). The binary is thin (`main.rs`); everything here is a
//! library so that tests drive the same code paths as the command line.
// No unsafe code, except the Win32 calls of the live backend (`live/windows.rs`), which
// allows it for itself alone.
#![deny(unsafe_code)]

pub mod cli;
pub mod hive;
pub mod i18n;
pub mod ioc;
pub mod live;
pub mod outcome;
pub mod patch;
pub mod pe;
pub mod plan;
pub mod quarantine;
pub mod remedy;
pub mod report;
pub mod scan;
pub mod timefmt;
pub mod volume;
