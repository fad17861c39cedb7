//! The aggregate stage: per time bin counters and distinct counts (exact and HyperLogLog),
//! and per-source hourly records, in bounded memory.

mod aggregator;
mod backscatter;
mod intervals;
mod pairs;
mod record;
mod rows;
mod runs;
mod windows;

pub use aggregator::{Aggregator, DEFAULT_MAX_OPEN_ENTRIES, Flushed, HLL_LG_K, TRW_PROBES};
pub use backscatter::{AttackRow, AttackTracker, VECTOR_TIMEOUT_NS, Victim};
pub use record::{Addr, PacketRecord, addr, addr_to_ip, push_ip_text};
pub use rows::{
    ObservationRow, PortCount, PortName, RuleCount, ScanPattern, ScanShape, SourceRow, proto_name,
};
