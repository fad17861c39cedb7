//! What a store holds against the period a command was asked about. An empty answer for a
//! period outside the data (2013 typed for 2003) must not read as a quiet network, so the
//! commands that answer with tables or charts say so on stderr, and still answer.

use anyhow::Result;
use kansoku_store::{Store, store_span};

use crate::time::rfc3339;

/// A note when the store holds no observations, or none in `[from_s, to_s)`.
fn period_note(store: &Store, from_s: Option<i64>, to_s: Option<i64>) -> Result<Option<String>> {
    let bin = store.meta().bin_seconds;
    let Some((first, last)) = store_span(store, bin, None, None)? else {
        return Ok(Some("the store holds no observations yet".into()));
    };
    let end = last + i64::from(bin);
    let outside = from_s.is_some_and(|f| f >= end) || to_s.is_some_and(|t| t <= first);
    let ns = |s: i64| rfc3339(s.saturating_mul(1_000_000_000));
    Ok(outside.then(|| {
        format!(
            "nothing in the period asked for: the store's data runs from {} to {}",
            ns(first),
            ns(end)
        )
    }))
}

/// Prints the note of [`period_note`], if any; returns whether it did.
pub fn warn_outside(store: &Store, from_s: Option<i64>, to_s: Option<i64>) -> Result<bool> {
    let note = period_note(store, from_s, to_s)?;
    if let Some(note) = &note {
        eprintln!("note: {note}");
    }
    Ok(note.is_some())
}
