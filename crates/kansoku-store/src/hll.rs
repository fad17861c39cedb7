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

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::UInt64(Some(
            self.union.estimate().round() as u64
        )))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.union.estimated_size()
    }
}
