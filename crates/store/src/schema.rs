//! The Arrow schemas of the store's tables and the column builders that fill them.
//!
//! The schemas are the contract documented in `docs/store.md`; change both together.

use arrow_array::builder::{
    BooleanBuilder, StringBuilder, StringDictionaryBuilder, TimestampMicrosecondBuilder,
    UInt8Builder, UInt16Builder, UInt32Builder, UInt64Builder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use sekisho_event::{Alert, Fields, HostEvent, Logon, LogonAction};
use std::sync::{Arc, OnceLock};

fn dict() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Schema of the `flows` table (partition columns `day` and `site` are in the path only).
pub fn flows_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("ts", ts_type(), false),
                Field::new("duration_us", DataType::UInt64, false),
                Field::new("uid", DataType::Utf8, false),
                Field::new("sensor", dict(), false),
                Field::new("src_ip", dict(), false),
                Field::new("src_port", DataType::UInt16, false),
                Field::new("dst_ip", dict(), false),
                Field::new("dst_port", DataType::UInt16, false),
                Field::new("proto", dict(), false),
                Field::new("service", dict(), false),
                Field::new("orig_bytes", DataType::UInt64, false),
                Field::new("resp_bytes", DataType::UInt64, false),
                Field::new("orig_pkts", DataType::UInt64, false),
                Field::new("resp_pkts", DataType::UInt64, false),
                Field::new("conn_state", dict(), false),
                Field::new("src_site", dict(), true),
                Field::new("dst_site", dict(), true),
                Field::new("src_asset", dict(), true),
                Field::new("dst_asset", dict(), true),
                Field::new("direction", dict(), false),
                Field::new("policy_action", dict(), false),
                Field::new("policy_rule", dict(), true),
            ]))
        })
        .clone()
}

/// Schema of the `alerts` table.
pub fn alerts_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("detector", dict(), false),
                Field::new("severity", dict(), false),
                Field::new("ts", ts_type(), false),
                Field::new("last_ts", ts_type(), false),
                Field::new("src_ip", DataType::Utf8, true),
                Field::new("src_site", DataType::Utf8, true),
                Field::new("src_asset", DataType::Utf8, true),
                Field::new("dst_ip", DataType::Utf8, true),
                Field::new("dst_site", DataType::Utf8, true),
                Field::new("dst_asset", DataType::Utf8, true),
                Field::new("service", DataType::Utf8, false),
                Field::new("dst_port", DataType::UInt16, true),
                Field::new("rule", DataType::Utf8, true),
                Field::new("attack", DataType::Utf8, true),
                Field::new("summary", DataType::Utf8, false),
                Field::new("flow_count", DataType::UInt64, false),
                Field::new("bytes_out", DataType::UInt64, false),
                Field::new("bytes_in", DataType::UInt64, false),
                Field::new("incident", DataType::Utf8, true),
                Field::new("json", DataType::Utf8, false),
            ]))
        })
        .clone()
}

/// Schema of the `logons` table: logons, failed logons and logoffs read from host logs.
pub fn logons_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("ts", ts_type(), false),
                Field::new("source", dict(), false),
                Field::new("event_id", DataType::UInt32, true),
                Field::new("action", dict(), false),
                Field::new("outcome", dict(), false),
                Field::new("user", DataType::Utf8, true),
                Field::new("domain", DataType::Utf8, true),
                Field::new("logon_type", DataType::UInt8, true),
                Field::new("auth", dict(), true),
                Field::new("src_ip", DataType::Utf8, true),
                Field::new("src_port", DataType::UInt16, true),
                Field::new("src_host", DataType::Utf8, true),
                Field::new("src_site", dict(), true),
                Field::new("src_asset", dict(), true),
                Field::new("host", DataType::Utf8, true),
                Field::new("host_ip", DataType::Utf8, true),
                Field::new("host_site", dict(), true),
                Field::new("host_asset", dict(), true),
                Field::new("cross_site", DataType::Boolean, false),
                Field::new("process", DataType::Utf8, true),
                Field::new("session", DataType::Utf8, true),
                Field::new("reason", DataType::Utf8, true),
                Field::new("channel", dict(), true),
                Field::new("record_id", DataType::UInt64, true),
                Field::new("file", DataType::Utf8, false),
                Field::new("line", DataType::UInt64, false),
                Field::new("fields", DataType::Utf8, false),
            ]))
        })
        .clone()
}

/// Schema of the `host_events` table: the other host records (service installs, log
/// clears, account and group changes, Kerberos and NTLM, RDP sessions, Sysmon process and
/// network events, sudo and su).
pub fn host_events_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("ts", ts_type(), false),
                Field::new("source", dict(), false),
                Field::new("kind", dict(), false),
                Field::new("event_id", DataType::UInt32, true),
                Field::new("provider", dict(), true),
                Field::new("channel", dict(), true),
                Field::new("host", DataType::Utf8, true),
                Field::new("host_site", dict(), true),
                Field::new("host_asset", dict(), true),
                Field::new("record_id", DataType::UInt64, true),
                Field::new("user", DataType::Utf8, true),
                Field::new("domain", DataType::Utf8, true),
                Field::new("target_user", DataType::Utf8, true),
                Field::new("target_host", DataType::Utf8, true),
                Field::new("src_ip", DataType::Utf8, true),
                Field::new("src_port", DataType::UInt16, true),
                Field::new("src_site", dict(), true),
                Field::new("src_asset", dict(), true),
                Field::new("dst_ip", DataType::Utf8, true),
                Field::new("dst_port", DataType::UInt16, true),
                Field::new("process", DataType::Utf8, true),
                Field::new("command", DataType::Utf8, true),
                Field::new("object", DataType::Utf8, true),
                Field::new("outcome", dict(), true),
                Field::new("file", DataType::Utf8, false),
                Field::new("line", DataType::UInt64, false),
                Field::new("fields", DataType::Utf8, false),
            ]))
        })
        .clone()
}

/// Where a flow sits in the organisation, as names: what enrichment found, resolved against
/// the org file by the caller (the store knows nothing of the model).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowPlace<'a> {
    /// Partition site (see `docs/store.md`): source site, else destination site, else `None`
    /// for flows outside every site.
    pub partition_site: Option<&'a str>,
    pub src_site: Option<&'a str>,
    pub dst_site: Option<&'a str>,
    pub src_asset: Option<&'a str>,
    pub dst_asset: Option<&'a str>,
    pub direction: &'a str,
    pub policy_action: &'a str,
    pub policy_rule: Option<&'a str>,
}

type Dict = StringDictionaryBuilder<Int32Type>;

/// Zeek's spelling of a connection state (`Unknown` when the source gave none).
pub fn conn_state_name(state: sekisho_event::ConnState) -> &'static str {
    use sekisho_event::ConnState as C;
    match state {
        C::S0 => "S0",
        C::S1 => "S1",
        C::SF => "SF",
        C::REJ => "REJ",
        C::S2 => "S2",
        C::S3 => "S3",
        C::RSTO => "RSTO",
        C::RSTR => "RSTR",
        C::RSTOS0 => "RSTOS0",
        C::RSTRH => "RSTRH",
        C::SH => "SH",
        C::SHR => "SHR",
        C::OTH => "OTH",
        C::Unknown => "Unknown",
    }
}

/// One alert as stored: the alert, its content key and the incident it was put in.
#[derive(Clone, Debug)]
pub struct StoredAlert {
    pub key: String,
    pub incident: Option<String>,
    pub alert: Alert,
}

impl StoredAlert {
    /// Time and partition site: the source's site, else the destination's.
    pub(crate) fn partition(&self) -> (i64, Option<&str>) {
        let a = &self.alert;
        let site = a.src.site.as_deref().or(a.dst.site.as_deref());
        (a.ts.as_micros(), site)
    }
}

/// The content key of an alert: the same finding on the same evidence gives the same key,
/// whatever id a run gave it, so storing it twice is detected.
pub fn alert_key(alert: &Alert) -> String {
    let mut h = blake3::Hasher::new();
    let ident = serde_json::json!([
        alert.detector,
        alert.ts,
        alert.last_ts,
        alert.src,
        alert.dst,
        alert.service,
        alert.dst_port,
        alert.rule,
        alert.summary,
        alert.flow_count,
    ]);
    h.update(ident.to_string().as_bytes());
    h.finalize().to_hex()[..32].to_string()
}

/// Builds one `alerts` record batch.
pub(crate) fn alerts_batch(
    alerts: &[StoredAlert],
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = alerts.len();
    let mut key = StringBuilder::new();
    let mut detector = Dict::new();
    let mut severity = Dict::new();
    let mut ts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut last_ts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut text: Vec<StringBuilder> = (0..6).map(|_| StringBuilder::new()).collect();
    let mut service = StringBuilder::new();
    let mut dst_port = UInt16Builder::new();
    let mut rule = StringBuilder::new();
    let mut attack = StringBuilder::new();
    let mut summary = StringBuilder::new();
    let mut flow_count = UInt64Builder::new();
    let mut bytes_out = UInt64Builder::new();
    let mut bytes_in = UInt64Builder::new();
    let mut incident = StringBuilder::new();
    let mut json = StringBuilder::new();
    for s in alerts {
        let a = &s.alert;
        key.append_value(&s.key);
        detector.append_value(&a.detector);
        severity.append_value(a.severity.as_str());
        ts.append_value(a.ts.as_micros());
        last_ts.append_value(a.last_ts.as_micros());
        let ends = [
            a.src.ip.map(|ip| ip.to_string()),
            a.src.site.clone(),
            a.src.asset.clone(),
            a.dst.ip.map(|ip| ip.to_string()),
            a.dst.site.clone(),
            a.dst.asset.clone(),
        ];
        for (b, v) in text.iter_mut().zip(ends) {
            b.append_option(v);
        }
        service.append_value(a.service.as_str());
        dst_port.append_option(a.dst_port);
        rule.append_option(a.rule.as_deref());
        attack.append_option(a.attack.as_deref());
        summary.append_value(&a.summary);
        flow_count.append_value(a.flow_count);
        bytes_out.append_value(a.bytes_out);
        bytes_in.append_value(a.bytes_in);
        incident.append_option(s.incident.as_deref());
        json.append_value(serde_json::to_string(a).unwrap_or_default());
    }
    let mut text = text.into_iter();
    let mut next_text = || -> ArrayRef {
        Arc::new(
            text.next()
                .map(|mut b| b.finish())
                .unwrap_or_else(|| StringBuilder::new().finish()),
        )
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(key.finish()),
        Arc::new(detector.finish()),
        Arc::new(severity.finish()),
        Arc::new(ts.finish()),
        Arc::new(last_ts.finish()),
        next_text(),
        next_text(),
        next_text(),
        next_text(),
        next_text(),
        next_text(),
        Arc::new(service.finish()),
        Arc::new(dst_port.finish()),
        Arc::new(rule.finish()),
        Arc::new(attack.finish()),
        Arc::new(summary.finish()),
        Arc::new(flow_count.finish()),
        Arc::new(bytes_out.finish()),
        Arc::new(bytes_in.finish()),
        Arc::new(incident.finish()),
        Arc::new(json.finish()),
    ];
    RecordBatch::try_new(alerts_schema(), columns)
}

/// One logon as stored: the record, its content key and where its two ends sit in the
/// organisation (resolved by the caller, as for flows).
#[derive(Clone, Debug)]
pub struct StoredLogon {
    pub key: String,
    pub logon: Logon,
    pub src_site: Option<String>,
    pub src_asset: Option<String>,
    pub host_site: Option<String>,
    pub host_asset: Option<String>,
}

impl StoredLogon {
    /// Time and partition site: the host's site, else the source's.
    pub(crate) fn partition(&self) -> (i64, Option<&str>) {
        let site = self.host_site.as_deref().or(self.src_site.as_deref());
        (self.logon.ts.as_micros(), site)
    }
}

/// One other host record as stored, placed like a [`StoredLogon`]: the host it was logged
/// on, and the address it names as its source.
#[derive(Clone, Debug)]
pub struct StoredHostEvent {
    pub key: String,
    pub event: HostEvent,
    pub src_site: Option<String>,
    pub src_asset: Option<String>,
    pub host_site: Option<String>,
    pub host_asset: Option<String>,
}

impl StoredHostEvent {
    /// Time and partition site: the host's site, else the source's.
    pub(crate) fn partition(&self) -> (i64, Option<&str>) {
        let site = self.host_site.as_deref().or(self.src_site.as_deref());
        (self.event.ts.as_micros(), site)
    }
}

/// The content key of a logon: the same record read again, from the same log under another
/// path or from a copy of it, gives the same key, so storing it twice is detected. Every
/// field but the file name counts, the record id and line included, so two identical
/// logons at the same time in one log stay two.
pub fn logon_key(logon: &Logon) -> String {
    let mut l = logon.clone();
    l.origin.file.clear();
    content_key(&l)
}

/// The content key of a host event, as [`logon_key`].
pub fn host_event_key(event: &HostEvent) -> String {
    let mut e = event.clone();
    e.origin.file.clear();
    content_key(&e)
}

fn content_key(record: &impl serde::Serialize) -> String {
    let mut h = blake3::Hasher::new();
    h.update(serde_json::to_string(record).unwrap_or_default().as_bytes());
    h.finalize().to_hex()[..32].to_string()
}

/// The source's own fields as one JSON object (the first value of a repeated name), for
/// `json_extract` and friends.
fn fields_json(fields: &Fields) -> String {
    let mut map = serde_json::Map::new();
    for (name, value) in &fields.pairs {
        map.entry(name.clone())
            .or_insert_with(|| serde_json::Value::from(value.as_str()));
    }
    serde_json::Value::Object(map).to_string()
}

/// Builds one `logons` record batch.
pub(crate) fn logons_batch(
    logons: &[StoredLogon],
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = logons.len();
    let mut key = StringBuilder::new();
    let mut ts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut source = Dict::new();
    let mut event_id = UInt32Builder::with_capacity(n);
    let mut action = Dict::new();
    let mut outcome = Dict::new();
    let mut user = StringBuilder::new();
    let mut domain = StringBuilder::new();
    let mut logon_type = UInt8Builder::with_capacity(n);
    let mut auth = Dict::new();
    let mut src_ip = StringBuilder::new();
    let mut src_port = UInt16Builder::with_capacity(n);
    let mut src_host = StringBuilder::new();
    let mut src_site = Dict::new();
    let mut src_asset = Dict::new();
    let mut host = StringBuilder::new();
    let mut host_ip = StringBuilder::new();
    let mut host_site = Dict::new();
    let mut host_asset = Dict::new();
    let mut cross_site = BooleanBuilder::with_capacity(n);
    let mut process = StringBuilder::new();
    let mut session = StringBuilder::new();
    let mut reason = StringBuilder::new();
    let mut channel = Dict::new();
    let mut record_id = UInt64Builder::with_capacity(n);
    let mut file = StringBuilder::new();
    let mut line = UInt64Builder::with_capacity(n);
    let mut fields = StringBuilder::new();
    for s in logons {
        let l = &s.logon;
        key.append_value(&s.key);
        ts.append_value(l.ts.as_micros());
        source.append_value(l.source.as_str());
        event_id.append_option(l.event_id);
        action.append_value(match l.action {
            LogonAction::Logon => "logon",
            LogonAction::Logoff => "logoff",
        });
        outcome.append_value(l.outcome.as_str());
        user.append_option(l.user.as_deref());
        domain.append_option(l.domain.as_deref());
        logon_type.append_option(l.logon_type);
        auth.append_option(l.auth.as_deref());
        src_ip.append_option(l.source_ip.map(|ip| ip.to_string()));
        src_port.append_option(l.source_port);
        src_host.append_option(l.source_host.as_deref());
        src_site.append_option(s.src_site.as_deref());
        src_asset.append_option(s.src_asset.as_deref());
        host.append_option(l.host.as_deref());
        host_ip.append_option(l.host_ip.map(|ip| ip.to_string()));
        host_site.append_option(s.host_site.as_deref());
        host_asset.append_option(s.host_asset.as_deref());
        cross_site.append_value(matches!(
            (&s.src_site, &s.host_site),
            (Some(a), Some(b)) if a != b
        ));
        process.append_option(l.process.as_deref());
        session.append_option(l.session.as_deref());
        reason.append_option(l.reason.as_deref());
        channel.append_option(l.channel.as_deref());
        record_id.append_option(l.record_id);
        file.append_value(&l.origin.file);
        line.append_value(l.origin.line);
        fields.append_value(fields_json(&l.fields));
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(key.finish()),
        Arc::new(ts.finish()),
        Arc::new(source.finish()),
        Arc::new(event_id.finish()),
        Arc::new(action.finish()),
        Arc::new(outcome.finish()),
        Arc::new(user.finish()),
        Arc::new(domain.finish()),
        Arc::new(logon_type.finish()),
        Arc::new(auth.finish()),
        Arc::new(src_ip.finish()),
        Arc::new(src_port.finish()),
        Arc::new(src_host.finish()),
        Arc::new(src_site.finish()),
        Arc::new(src_asset.finish()),
        Arc::new(host.finish()),
        Arc::new(host_ip.finish()),
        Arc::new(host_site.finish()),
        Arc::new(host_asset.finish()),
        Arc::new(cross_site.finish()),
        Arc::new(process.finish()),
        Arc::new(session.finish()),
        Arc::new(reason.finish()),
        Arc::new(channel.finish()),
        Arc::new(record_id.finish()),
        Arc::new(file.finish()),
        Arc::new(line.finish()),
        Arc::new(fields.finish()),
    ];
    RecordBatch::try_new(logons_schema(), columns)
}

/// Builds one `host_events` record batch.
pub(crate) fn host_events_batch(
    events: &[StoredHostEvent],
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = events.len();
    let mut key = StringBuilder::new();
    let mut ts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut source = Dict::new();
    let mut kind = Dict::new();
    let mut event_id = UInt32Builder::with_capacity(n);
    let mut provider = Dict::new();
    let mut channel = Dict::new();
    let mut host = StringBuilder::new();
    let mut host_site = Dict::new();
    let mut host_asset = Dict::new();
    let mut record_id = UInt64Builder::with_capacity(n);
    // user, domain, target_user, target_host
    let mut names: Vec<StringBuilder> = (0..4).map(|_| StringBuilder::new()).collect();
    let mut src_ip = StringBuilder::new();
    let mut src_port = UInt16Builder::with_capacity(n);
    let mut src_site = Dict::new();
    let mut src_asset = Dict::new();
    let mut dst_ip = StringBuilder::new();
    let mut dst_port = UInt16Builder::with_capacity(n);
    // process, command, object
    let mut what: Vec<StringBuilder> = (0..3).map(|_| StringBuilder::new()).collect();
    let mut outcome = Dict::new();
    let mut file = StringBuilder::new();
    let mut line = UInt64Builder::with_capacity(n);
    let mut fields = StringBuilder::new();
    for s in events {
        let e = &s.event;
        key.append_value(&s.key);
        ts.append_value(e.ts.as_micros());
        source.append_value(e.source.as_str());
        kind.append_value(e.kind.as_str());
        event_id.append_option(e.event_id);
        provider.append_option(e.provider.as_deref());
        channel.append_option(e.channel.as_deref());
        host.append_option(e.host.as_deref());
        host_site.append_option(s.host_site.as_deref());
        host_asset.append_option(s.host_asset.as_deref());
        record_id.append_option(e.record_id);
        let who = [&e.user, &e.domain, &e.target_user, &e.target_host];
        for (b, v) in names.iter_mut().zip(who) {
            b.append_option(v.as_deref());
        }
        src_ip.append_option(e.source_ip.map(|ip| ip.to_string()));
        src_port.append_option(e.source_port);
        src_site.append_option(s.src_site.as_deref());
        src_asset.append_option(s.src_asset.as_deref());
        dst_ip.append_option(e.dest_ip.map(|ip| ip.to_string()));
        dst_port.append_option(e.dest_port);
        for (b, v) in what.iter_mut().zip([&e.process, &e.command, &e.object]) {
            b.append_option(v.as_deref());
        }
        outcome.append_option(e.outcome.map(|o| o.as_str()));
        file.append_value(&e.origin.file);
        line.append_value(e.origin.line);
        fields.append_value(fields_json(&e.fields));
    }
    let text = |b: &mut StringBuilder| -> ArrayRef { Arc::new(b.finish()) };
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(key.finish()),
        Arc::new(ts.finish()),
        Arc::new(source.finish()),
        Arc::new(kind.finish()),
        Arc::new(event_id.finish()),
        Arc::new(provider.finish()),
        Arc::new(channel.finish()),
        Arc::new(host.finish()),
        Arc::new(host_site.finish()),
        Arc::new(host_asset.finish()),
        Arc::new(record_id.finish()),
    ];
    columns.extend(names.iter_mut().map(text));
    columns.extend([
        Arc::new(src_ip.finish()) as ArrayRef,
        Arc::new(src_port.finish()),
        Arc::new(src_site.finish()),
        Arc::new(src_asset.finish()),
        Arc::new(dst_ip.finish()),
        Arc::new(dst_port.finish()),
    ]);
    columns.extend(what.iter_mut().map(text));
    columns.extend([
        Arc::new(outcome.finish()) as ArrayRef,
        Arc::new(file.finish()),
        Arc::new(line.finish()),
        Arc::new(fields.finish()),
    ]);
    RecordBatch::try_new(host_events_schema(), columns)
}
