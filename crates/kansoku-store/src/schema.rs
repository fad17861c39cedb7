//! Arrow schemas of the stored tables and the conversion of rows into record batches.
//! docs/schema.md documents the same columns for people and other engines.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, StringBuilder, TimestampMicrosecondBuilder, UInt8Builder,
    UInt16Builder, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use kansoku_aggregate::{AttackRow, ObservationRow, PortName, SourceRow, push_ip_text};
use kansoku_classify::Signatures;

/// The tables an ingest writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Observations,
    Sources,
    Backscatter,
}

impl Table {
    pub const ALL: [Table; 3] = [Table::Observations, Table::Sources, Table::Backscatter];

    pub fn name(self) -> &'static str {
        match self {
            Table::Observations => "observations",
            Table::Sources => "sources",
            Table::Backscatter => "backscatter",
        }
    }

    pub fn schema(self) -> SchemaRef {
        match self {
            Table::Observations => observations_schema(),
            Table::Sources => sources_schema(),
            Table::Backscatter => backscatter_schema(),
        }
    }
}

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

pub fn observations_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("bin_start", utc_micros(), false),
        Field::new("sensor", DataType::Utf8, false),
        Field::new("proto", DataType::UInt8, false),
        Field::new("dst_port", DataType::UInt16, false),
        Field::new("signature", DataType::Utf8, false),
        Field::new("packets", DataType::UInt64, false),
        Field::new("bytes", DataType::UInt64, false),
        Field::new("sources", DataType::UInt64, false),
        Field::new("sources_hll", DataType::Binary, false),
        Field::new("destinations", DataType::UInt64, false),
    ]))
}

pub fn sources_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("hour", utc_micros(), false),
        Field::new("sensor", DataType::Utf8, false),
        Field::new("src", DataType::Utf8, false),
        Field::new("signature", DataType::Utf8, false),
        Field::new("label", DataType::Utf8, false),
        Field::new("first_seen", utc_micros(), false),
        Field::new("last_seen", utc_micros(), false),
        Field::new("packets", DataType::UInt64, false),
        Field::new("bytes", DataType::UInt64, false),
        Field::new("destinations", DataType::UInt64, false),
        Field::new("ports", DataType::UInt64, false),
        Field::new("top_ports", DataType::Utf8, false),
        Field::new("rules", DataType::Utf8, false),
        Field::new("ttl_min", DataType::UInt8, false),
        Field::new("ttl_max", DataType::UInt8, false),
        Field::new("scan_pattern", DataType::Utf8, false),
        Field::new("scan_shape", DataType::Utf8, false),
        Field::new("scanner_at", utc_micros(), true),
    ]))
}

pub fn backscatter_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("sensor", DataType::Utf8, false),
        Field::new("victim", DataType::Utf8, false),
        Field::new("proto", DataType::UInt8, false),
        Field::new("first_seen", utc_micros(), false),
        Field::new("last_seen", utc_micros(), false),
        Field::new("packets", DataType::UInt64, false),
        Field::new("bytes", DataType::UInt64, false),
        Field::new("peak_per_minute", DataType::UInt64, false),
        Field::new("ports", DataType::Utf8, false),
    ]))
}

fn micros(ns: i64) -> i64 {
    ns.div_euclid(1000)
}

/// Names the stored text columns that the hot path keeps as numbers.
#[derive(Clone, Copy, Debug)]
pub struct Naming<'a> {
    pub sensor: &'a str,
    pub signatures: &'a Signatures,
}

/// Observation rows as a batch.
pub fn observations_batch(
    rows: &[ObservationRow],
    naming: Naming<'_>,
) -> Result<RecordBatch, ArrowError> {
    let sensor = naming.sensor;
    let n = rows.len();
    let mut bin = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut sensors = StringBuilder::with_capacity(n, n * sensor.len());
    let mut proto = UInt8Builder::with_capacity(n);
    let mut port = UInt16Builder::with_capacity(n);
    let mut sig = StringBuilder::with_capacity(n, n * 12);
    let mut packets = UInt64Builder::with_capacity(n);
    let mut bytes = UInt64Builder::with_capacity(n);
    let mut sources = UInt64Builder::with_capacity(n);
    let mut hll = BinaryBuilder::with_capacity(n, n * 64);
    let mut destinations = UInt64Builder::with_capacity(n);
    let mut text = String::new();
    for r in rows {
        bin.append_value(micros(r.bin_start_ns));
        sensors.append_value(sensor);
        proto.append_value(r.proto);
        port.append_value(r.dst_port);
        text.clear();
        naming.signatures.write_name(r.signature, &mut text);
        sig.append_value(&text);
        packets.append_value(r.packets);
        bytes.append_value(r.bytes);
        sources.append_value(r.sources);
        hll.append_value(&r.sources_hll);
        destinations.append_value(r.destinations);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(bin.finish()),
        Arc::new(sensors.finish()),
        Arc::new(proto.finish()),
        Arc::new(port.finish()),
        Arc::new(sig.finish()),
        Arc::new(packets.finish()),
        Arc::new(bytes.finish()),
        Arc::new(sources.finish()),
        Arc::new(hll.finish()),
        Arc::new(destinations.finish()),
    ];
    RecordBatch::try_new(observations_schema(), columns)
}

/// Source rows as a batch.
pub fn sources_batch(rows: &[SourceRow], naming: Naming<'_>) -> Result<RecordBatch, ArrowError> {
    let sensor = naming.sensor;
    let n = rows.len();
    let mut hour = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut sensors = StringBuilder::with_capacity(n, n * sensor.len());
    let mut src = StringBuilder::with_capacity(n, n * 15);
    let mut sig = StringBuilder::with_capacity(n, n * 12);
    let mut label = StringBuilder::with_capacity(n, n * 12);
    let mut first = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut last = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut packets = UInt64Builder::with_capacity(n);
    let mut bytes = UInt64Builder::with_capacity(n);
    let mut destinations = UInt64Builder::with_capacity(n);
    let mut ports = UInt64Builder::with_capacity(n);
    let mut top = StringBuilder::with_capacity(n, n * 16);
    let mut rules = StringBuilder::with_capacity(n, n * 24);
    let mut ttl_min = UInt8Builder::with_capacity(n);
    let mut ttl_max = UInt8Builder::with_capacity(n);
    let mut pattern = StringBuilder::with_capacity(n, n * 10);
    let mut shape = StringBuilder::with_capacity(n, n * 10);
    let mut scanner_at = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut text = String::new();
    let mut digits = itoa::Buffer::new();
    for r in rows {
        hour.append_value(micros(r.hour_ns));
        sensors.append_value(sensor);
        text.clear();
        push_ip_text(r.src, &mut text);
        src.append_value(&text);
        text.clear();
        naming.signatures.write_name(r.signature, &mut text);
        sig.append_value(&text);
        text.clear();
        naming.signatures.write_name(r.label, &mut text);
        label.append_value(&text);
        first.append_value(micros(r.first_seen_ns));
        last.append_value(micros(r.last_seen_ns));
        packets.append_value(r.packets);
        bytes.append_value(r.bytes);
        destinations.append_value(r.destinations);
        ports.append_value(r.ports);
        text.clear();
        for (i, p) in r.top_ports.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            PortName(p.proto, p.port).write_to(&mut text);
            text.push(':');
            text.push_str(digits.format(p.packets));
        }
        top.append_value(&text);
        text.clear();
        for (i, m) in r.rules.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(naming.signatures.rule_name(m.rule));
            text.push(':');
            text.push_str(digits.format(m.packets));
        }
        rules.append_value(&text);
        ttl_min.append_value(r.ttl_min);
        ttl_max.append_value(r.ttl_max);
        pattern.append_value(r.pattern.as_str());
        shape.append_value(r.shape.as_str());
        scanner_at.append_option(r.scanner_at_ns.map(micros));
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(hour.finish()),
        Arc::new(sensors.finish()),
        Arc::new(src.finish()),
        Arc::new(sig.finish()),
        Arc::new(label.finish()),
        Arc::new(first.finish()),
        Arc::new(last.finish()),
        Arc::new(packets.finish()),
        Arc::new(bytes.finish()),
        Arc::new(destinations.finish()),
        Arc::new(ports.finish()),
        Arc::new(top.finish()),
        Arc::new(rules.finish()),
        Arc::new(ttl_min.finish()),
        Arc::new(ttl_max.finish()),
        Arc::new(pattern.finish()),
        Arc::new(shape.finish()),
        Arc::new(scanner_at.finish()),
    ];
    RecordBatch::try_new(sources_schema(), columns)
}

/// Attack vectors as a batch.
pub fn backscatter_batch(rows: &[AttackRow], sensor: &str) -> Result<RecordBatch, ArrowError> {
    let n = rows.len();
    let mut sensors = StringBuilder::with_capacity(n, n * sensor.len());
    let mut victim = StringBuilder::with_capacity(n, n * 15);
    let mut proto = UInt8Builder::with_capacity(n);
    let mut first = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut last = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut packets = UInt64Builder::with_capacity(n);
    let mut bytes = UInt64Builder::with_capacity(n);
    let mut peak = UInt64Builder::with_capacity(n);
    let mut ports = StringBuilder::with_capacity(n, n * 8);
    let mut text = String::new();
    for r in rows {
        use std::fmt::Write;
        sensors.append_value(sensor);
        text.clear();
        let _ = write!(text, "{}", r.victim);
        victim.append_value(&text);
        proto.append_value(r.proto);
        first.append_value(micros(r.first_seen_ns));
        last.append_value(micros(r.last_seen_ns));
        packets.append_value(r.packets);
        bytes.append_value(r.bytes);
        peak.append_value(r.peak_per_minute);
        text.clear();
        for (i, (port, count)) in r.ports.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            let _ = write!(text, "{sep}{port}:{count}");
        }
        ports.append_value(&text);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(sensors.finish()),
        Arc::new(victim.finish()),
        Arc::new(proto.finish()),
        Arc::new(first.finish()),
        Arc::new(last.finish()),
        Arc::new(packets.finish()),
        Arc::new(bytes.finish()),
        Arc::new(peak.finish()),
        Arc::new(ports.finish()),
    ];
    RecordBatch::try_new(backscatter_schema(), columns)
}
