//! `hll_count(sources_hll)`: distinct sources over any set of observation rows, by merging
//! their HLL sketches at query time.
//!
//! Exact per-row counts do not add across bins (the same source is in many), and
//! `COUNT(DISTINCT)` over raw addresses is what the sketches exist to avoid. This aggregate
//! unions the stored Apache DataSketches HLL sketches and returns the estimate, so
//! "distinct sources per day on TCP 135" is one GROUP BY.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BinaryArray};
use arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, AggregateUDF, Volatility, create_udaf};
use datasketches::hll::{HllSketch, HllType, HllUnion};
use kansoku_aggregate::HLL_LG_K;

/// The aggregate, ready to register on a session.
pub fn hll_count() -> AggregateUDF {
    create_udaf(
        "hll_count",
        vec![DataType::Binary],
        Arc::new(DataType::UInt64),
        Volatility::Immutable,
        Arc::new(|_| Ok(Box::new(HllCount::new()?))),
        Arc::new(vec![DataType::Binary]),
    )
}

#[derive(Debug)]
struct HllCount {
    union: HllUnion,
}

impl HllCount {
    fn new() -> Result<Self> {
        let union = HllUnion::new(HLL_LG_K)
            .map_err(|e| DataFusionError::Execution(format!("hll_count: {e}")))?;
        Ok(Self { union })
    }

    fn absorb(&mut self, sketches: &ArrayRef) -> Result<()> {
        let sketches = sketches
            .as_any()
            .downcast_ref::<BinaryArray>()
            .ok_or_else(|| {
                DataFusionError::Execution("hll_count takes the sources_hll column".into())
            })?;
        for bytes in sketches.iter().flatten() {
            let sketch = HllSketch::deserialize(bytes).map_err(|e| {
                DataFusionError::Execution(format!("hll_count: not an HLL sketch: {e}"))
            })?;
            self.union.update(&sketch);
        }
        Ok(())
    }
}

impl Accumulator for HllCount {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.absorb(&values[0])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.absorb(&states[0])
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let sketch = self.union.to_sketch(HllType::Hll8);
        Ok(vec![ScalarValue::Binary(Some(sketch.serialize()))])
    }

    /// The composite estimate, which depends only on the merged registers. The default
    /// (HIP) estimate depends on the order the coupons arrived in, and the engine splits and
    /// merges partial states in whatever order its threads finish: the same query gave 2,923
    /// one time and 2,960 the next. An operator must get the same answer twice.
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::UInt64(Some(
            self.union.composite_estimate().round() as u64,
        )))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.union.estimated_size()
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::BinaryArray;

    use super::*;

    /// One row's sketch per source, as an ingest writes them for rows of one source.
    fn rows(sources: std::ops::Range<u32>) -> ArrayRef {
        let sketches: Vec<Vec<u8>> = sources
            .map(|i| {
                let mut sketch = HllSketch::new(HLL_LG_K, HllType::Hll4).expect("lg_k");
                sketch.update(format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255));
                sketch.serialize()
            })
            .collect();
        Arc::new(BinaryArray::from_iter_values(sketches))
    }

    fn count(acc: &mut HllCount) -> u64 {
        match acc.evaluate().expect("estimate") {
            ScalarValue::UInt64(Some(n)) => n,
            other => panic!("not a count: {other:?}"),
        }
    }

    #[test]
    fn the_count_does_not_depend_on_how_the_engine_splits_the_rows() {
        let mut whole = HllCount::new().expect("accumulator");
        whole.update_batch(&[rows(0..6000)]).expect("rows");

        // As two partitions whose partial states are merged, in either order.
        let mut parts = [HllCount::new().expect("a"), HllCount::new().expect("b")];
        parts[0].update_batch(&[rows(0..2000)]).expect("rows");
        parts[1].update_batch(&[rows(2000..6000)]).expect("rows");
        let states: Vec<ArrayRef> = parts
            .iter_mut()
            .map(|p| match p.state().expect("state").remove(0) {
                ScalarValue::Binary(Some(b)) => Arc::new(BinaryArray::from_iter_values([b])) as _,
                other => panic!("not a sketch: {other:?}"),
            })
            .collect();
        for order in [[0, 1], [1, 0]] {
            let mut merged = HllCount::new().expect("accumulator");
            for i in order {
                merged.merge_batch(&[states[i].clone()]).expect("state");
            }
            assert_eq!(count(&mut merged), count(&mut whole), "order {order:?}");
        }
        let n = count(&mut whole) as f64;
        assert!((n - 6000.0).abs() < 6000.0 * 0.05, "estimate {n}");
    }
}
