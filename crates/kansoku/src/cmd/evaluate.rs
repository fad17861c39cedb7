//! `kansoku evaluate`: measure the classifier against a simulator ground truth.
//!
//! Each source's predicted class is its final label: the `label` of its latest row in the
//! `sources` table, i.e. the signature of its latest packet (a source's Windows SYNs to 445
//! are `conficker` until one probe breaks Conficker's address pattern, after which they are
//! `sasser`). Generic `scan/...` signatures count as the class `scan`. The true class comes
//! from the truth file. Per class: precision, recall and support; plus the confusion matrix.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use kansoku_store::{Query, Store};
use serde::Serialize;

use super::Format;

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Store holding the ingested simulated capture.
    #[arg(long)]
    pub store: PathBuf,
    /// Ground truth written by `kansoku simulate --truth`.
    #[arg(long)]
    pub truth: PathBuf,
    /// table or json (csv prints the per-class table).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Precision and recall of one class.
#[derive(Debug, Serialize, PartialEq)]
pub struct ClassScore {
    pub class: String,
    /// `None` when no source was predicted as this class: there is nothing to be precise
    /// about, and 1.0 would read as a perfect score next to a recall of 0.
    pub precision: Option<f64>,
    pub recall: f64,
    /// Sources whose true class this is.
    pub support: u64,
}

/// The whole evaluation.
#[derive(Debug, Serialize, PartialEq)]
pub struct Evaluation {
    pub sources: u64,
    pub classes: Vec<ClassScore>,
    /// truth class -> predicted class -> sources
    pub confusion: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The class a signature predicts.
fn predicted_class(signature: &str) -> &str {
    if signature.starts_with("scan/") {
        "scan"
    } else {
        signature
    }
}

/// Score predictions (source -> class) against the truth (source -> class). A source the
/// store never saw is predicted `missing`.
pub fn evaluate(
    truth: &HashMap<String, String>,
    predicted: &HashMap<String, String>,
) -> Evaluation {
    let mut confusion: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (src, class) in truth {
        let guess = predicted.get(src).map_or("missing", String::as_str);
        *confusion
            .entry(class.clone())
            .or_default()
            .entry(guess.to_owned())
            .or_insert(0) += 1;
    }
    let classes: BTreeSet<&String> = truth.values().collect();
    let scores = classes
        .into_iter()
        .map(|class| {
            let row = confusion.get(class);
            let hits = row.and_then(|r| r.get(class)).copied().unwrap_or(0);
            let support: u64 = row.map_or(0, |r| r.values().sum());
            let predicted_as: u64 = confusion.values().filter_map(|r| r.get(class)).sum();
            let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
            ClassScore {
                class: class.clone(),
                precision: ratio(hits, predicted_as),
                // Every class comes from the truth, so its support is at least 1.
                recall: ratio(hits, support).unwrap_or(0.0),
                support,
            }
        })
        .collect();
    Evaluation {
        sources: truth.len() as u64,
        classes: scores,
        confusion,
    }
}

#[derive(serde::Deserialize)]
struct Truth {
    sources: Vec<TruthSource>,
}

#[derive(serde::Deserialize)]
struct TruthSource {
    src: String,
    class: String,
}

pub fn run(args: EvaluateArgs) -> Result<bool> {
    let text = std::fs::read(&args.truth)
        .with_context(|| format!("{}: cannot read", args.truth.display()))?;
    let truth: Truth = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a kansoku truth file", args.truth.display()))?;
    let truth: HashMap<String, String> = truth
        .sources
        .into_iter()
        .map(|s| (s.src, s.class))
        .collect();

    let store = Store::open(&args.store)?;
    let batches = Query::new(&store)?.sql(
        "SELECT src, last_value(label ORDER BY hour, last_seen) AS label \
         FROM sources GROUP BY src",
    )?;
    let mut predicted = HashMap::new();
    for batch in &batches {
        let src = column::<arrow::array::StringArray>(batch, 0)?;
        let label = column::<arrow::array::StringArray>(batch, 1)?;
        for i in 0..batch.num_rows() {
            predicted.insert(
                src.value(i).to_owned(),
                predicted_class(label.value(i)).to_owned(),
            );
        }
    }
    // Recall 0 everywhere reads like a useless classifier; it almost always means another
    // seed's truth or another store.
    let seen = truth
        .keys()
        .filter(|src| predicted.contains_key(*src))
        .count();
    if seen == 0 && !truth.is_empty() {
        anyhow::bail!(
            "none of the {} sources of {} is in the store {}: is it the truth of the capture \
             this store ingested?",
            truth.len(),
            args.truth.display(),
            args.store.display()
        );
    }
    if seen * 2 < truth.len() {
        eprintln!(
            "note: only {seen} of the {} sources of {} are in the store: is it the truth of \
             the capture this store ingested?",
            truth.len(),
            args.truth.display()
        );
    }
    let evaluation = evaluate(&truth, &predicted);
    print(&evaluation, args.format)?;
    Ok(true)
}

fn column<T: 'static>(batch: &arrow::record_batch::RecordBatch, i: usize) -> Result<&T> {
    batch
        .column(i)
        .as_any()
        .downcast_ref::<T>()
        .context("unexpected column type in the sources table")
}

fn print(e: &Evaluation, format: Format) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(e)?)?,
        Format::Csv => {
            writeln!(out, "class,precision,recall,support")?;
            for c in &e.classes {
                let p = c.precision.map_or(String::new(), |p| format!("{p:.4}"));
                writeln!(out, "{},{p},{:.4},{}", c.class, c.recall, c.support)?;
            }
        }
        Format::Table => {
            writeln!(out, "{} sources\n", e.sources)?;
            writeln!(
                out,
                "{:<14} {:>9} {:>9} {:>8}",
                "class", "precision", "recall", "support"
            )?;
            for c in &e.classes {
                let p = c.precision.map_or("n/a".to_owned(), |p| format!("{p:.4}"));
                writeln!(
                    out,
                    "{:<14} {p:>9} {:>9.4} {:>8}",
                    c.class, c.recall, c.support
                )?;
            }
            writeln!(out, "\nconfusion (truth -> predicted: sources)")?;
            for (truth, row) in &e.confusion {
                let cells: Vec<String> = row.iter().map(|(p, n)| format!("{p}: {n}")).collect();
                writeln!(out, "  {truth:<14} {}", cells.join(", "))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn precision_recall_and_confusion() {
        let truth = map(&[
            ("a", "blaster"),
            ("b", "blaster"),
            ("c", "scan"),
            ("d", "welchia"),
        ]);
        let predicted = map(&[("a", "blaster"), ("b", "scan"), ("c", "blaster")]);
        let e = evaluate(&truth, &predicted);
        let blaster = &e.classes[0];
        assert_eq!((blaster.class.as_str(), blaster.support), ("blaster", 2));
        assert_eq!((blaster.precision, blaster.recall), (Some(0.5), 0.5));
        let welchia = e.classes.iter().find(|c| c.class == "welchia").unwrap();
        assert_eq!((welchia.precision, welchia.recall), (None, 0.0));
        assert_eq!(e.confusion["welchia"]["missing"], 1);
        assert_eq!(e.confusion["blaster"]["scan"], 1);
        assert_eq!(predicted_class("scan/tcp/22"), "scan");
    }
}
