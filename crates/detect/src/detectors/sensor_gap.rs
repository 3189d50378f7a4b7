//! `sensor-gap`: a sensor that fell silent while the others went on.
//!
//! **What it does.** Follows the latest record time of every sensor (`flow.sensor`) against
//! the latest record time of all of them. A sensor silent for more than
//! `sensor_gap.max_silence_minutes` while other sensors' records show time going on is
//! reported when it comes back ("silent from T1 to T2"), and at the end of the input when it
//! never came back. A sensor declared in the org file (`[[sensor]]`) that sent nothing at all
//! over an input longer than the limit is reported at the end, and one that started more
//! than the limit after the input began is reported for that opening gap. When *every*
//! sensor is silent (the input itself has a hole: a night without traffic, a missing file),
//! nothing is reported for that stretch: only silence that others' records contradict counts.
//!
//! **Why it matters.** "No unauthorized access after August" is only worth something with
//! the coverage behind it. A sensor that stops — unplugged, crashed, or switched off by an
//! intruder — is a hole in the evidence, and the breach's attackers took care to leave none on
//! the hosts.
//!
//! **Example.** `th-bkk-zeek` sends nothing from 02:00 to 05:10 while `jp-hq-zeek` goes on,
//! then resumes → "sensor th-bkk-zeek silent from 2024-05-15T02:00:00Z to
//! 2024-05-15T05:10:00Z (3h 10m)", endpoints naming site `th-bkk`. Severity `medium`.
//!
//! **Known false positives.** A site that is really idle (a small office at night) while HQ
//! is busy: raise `max_silence_minutes` or accept the alert as a coverage note; a sensor
//! whose clock runs ahead of the others makes them look silent.
//!
//! **ATT&CK.** T1562 (Impair Defenses), where the silence is someone's doing.

use crate::bounded::{cap, caps};
use crate::common::{clean_name, fmt_duration, fmt_ts, minutes};
use crate::{AlertSink, Detector, DetectorSpec, DetectorStats, FlowView};
use sekisho_event::{Alert, AlertEndpoint, AppContext, Service, Severity, Timestamp};
use sekisho_model::{Org, SiteId};
use std::collections::HashMap;
use std::sync::Arc;

/// `sensor-gap`.
pub static SPEC: DetectorSpec = DetectorSpec {
    id: "sensor-gap",
    title: "a sensor silent while the others go on",
    attack: Some("T1562"),
    build,
};

fn build(org: &Org) -> Option<Box<dyn Detector + '_>> {
    let s = &org.detectors.sensor_gap;
    s.enabled.then(|| {
        Box::new(SensorGap {
            org,
            max_silence: minutes(s.max_silence_minutes),
            cap: cap(org.detectors.limits.max_tracked_keys, caps::SENSORS),
            sensors: Vec::new(),
            index: HashMap::new(),
            cache: usize::MAX,
            start: i64::MAX,
            now: i64::MIN,
            resumed: i64::MIN,
            dropped: 0,
        }) as Box<dyn Detector + '_>
    })
}

#[derive(Debug)]
struct Sensor {
    name: Arc<str>,
    last: i64,
    declared: bool,
    sites: Vec<SiteId>,
}

/// One silence to report.
struct Gap<'a> {
    name: &'a str,
    sites: &'a [SiteId],
    from: i64,
    to: i64,
    verb: &'a str,
    tail: &'a str,
}

#[derive(Debug)]
struct SensorGap<'o> {
    org: &'o Org,
    max_silence: i64,
    cap: usize,
    sensors: Vec<Sensor>,
    index: HashMap<Arc<str>, usize>,
    /// Index of the last flow's sensor: most flows come in runs from one sensor.
    cache: usize,
    /// Earliest and latest record time of the whole input.
    start: i64,
    now: i64,
    /// When the input last resumed after every sensor had been silent past the limit.
    resumed: i64,
    /// Records of sensors beyond the cap ([`caps::SENSORS`]), not followed.
    dropped: u64,
}

impl SensorGap<'_> {
    fn lookup(&mut self, name: &Arc<str>, ts: i64) -> Option<(usize, bool)> {
        if let Some(s) = self.sensors.get(self.cache)
            && Arc::ptr_eq(&s.name, name)
        {
            return Some((self.cache, false));
        }
        // Few sensors: comparing pointers beats hashing the name.
        if let Some(i) = self
            .sensors
            .iter()
            .take(8)
            .position(|s| Arc::ptr_eq(&s.name, name))
        {
            self.cache = i;
            return Some((i, false));
        }
        if let Some(&i) = self.index.get(name) {
            self.cache = i;
            return Some((i, false));
        }
        if self.sensors.len() >= self.cap {
            self.dropped += 1;
            return None;
        }
        let i = self.sensors.len();
        let declared = self.org.sensors.iter().find(|s| *s.name == **name);
        self.sensors.push(Sensor {
            name: name.clone(),
            last: ts,
            declared: declared.is_some(),
            sites: declared.map(|s| s.sites.clone()).unwrap_or_default(),
        });
        self.index.insert(name.clone(), i);
        self.cache = i;
        Some((i, true))
    }

    fn gap_alert(&self, s: Gap<'_>) -> Alert {
        let Gap {
            name,
            sites,
            from,
            to,
            verb,
            tail,
        } = s;
        let org = self.org;
        let first = sites.first().map(|&s| org.site(s));
        let here = AlertEndpoint {
            ip: None,
            site: first.map(|s| s.id.clone()),
            asset: None,
            country: first.map(|s| s.country.clone()),
        };
        let summary = format!(
            "sensor {} {verb} from {} to {} ({}){tail}",
            clean_name(name),
            fmt_ts(Timestamp::from_micros(from)),
            fmt_ts(Timestamp::from_micros(to)),
            fmt_duration(to.saturating_sub(from))
        );
        Alert {
            id: String::new(),
            detector: SPEC.id.to_string(),
            severity: Severity::Medium,
            ts: Timestamp::from_micros(from),
            last_ts: Timestamp::from_micros(to),
            src: here.clone(),
            dst: here,
            service: Service::Other,
            dst_port: None,
            rule: None,
            attack: Some("T1562".to_string()),
            summary,
            flow_count: 0,
            bytes_out: 0,
            bytes_in: 0,
            related: if sites.len() > 1 {
                sites
                    .iter()
                    .map(|&s| AlertEndpoint {
                        ip: None,
                        site: Some(org.site(s).id.clone()),
                        asset: None,
                        country: Some(org.site(s).country.clone()),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            context: AppContext::default(),
            evidence: Vec::new(),
        }
    }
}

impl Detector for SensorGap<'_> {
    fn id(&self) -> &'static str {
        SPEC.id
    }

    #[inline]
    fn on_flow(&mut self, view: &FlowView<'_>, out: &mut AlertSink) {
        let f = view.flow;
        let ts = f.ts.as_micros();
        if ts > self.now {
            if self.now != i64::MIN && ts.saturating_sub(self.now) > self.max_silence {
                // Every sensor was silent: a hole in the input, not in one sensor.
                self.resumed = ts;
            }
            self.now = ts;
        }
        self.start = self.start.min(ts);
        let Some((i, new)) = self.lookup(&f.sensor, ts) else {
            return;
        };
        let s = &self.sensors[i];
        if new {
            // A declared sensor that started late left a hole at the beginning.
            let from = self.start.max(self.resumed);
            if s.declared && ts.saturating_sub(from) > self.max_silence {
                out.push(self.gap_alert(Gap {
                    name: &s.name,
                    sites: &s.sites,
                    from,
                    to: ts,
                    verb: "sent nothing",
                    tail: " after the input began",
                }));
            }
            return;
        }
        if ts <= s.last {
            return;
        }
        let from = s.last.max(self.resumed);
        if ts.saturating_sub(from) > self.max_silence {
            out.push(self.gap_alert(Gap {
                name: &s.name,
                sites: &s.sites,
                from,
                to: ts,
                verb: "silent",
                tail: "",
            }));
        }
        self.sensors[i].last = ts;
    }

    fn finish(&mut self, out: &mut AlertSink) {
        if self.now == i64::MIN {
            return;
        }
        let mut alerts = Vec::new();
        for s in &self.sensors {
            let from = s.last.max(self.resumed);
            if self.now.saturating_sub(from) > self.max_silence {
                alerts.push(self.gap_alert(Gap {
                    name: &s.name,
                    sites: &s.sites,
                    from,
                    to: self.now,
                    verb: "silent",
                    tail: ", until the end of the input",
                }));
            }
        }
        if self.now.saturating_sub(self.start) > self.max_silence {
            for d in &self.org.sensors {
                if !self.index.contains_key(d.name.as_str()) {
                    alerts.push(self.gap_alert(Gap {
                        name: &d.name,
                        sites: &d.sites,
                        from: self.start,
                        to: self.now,
                        verb: "sent nothing",
                        tail: ": a declared sensor with no records at all",
                    }));
                }
            }
        }
        crate::common::emit_sorted(&mut alerts, out);
    }

    fn stats(&self) -> DetectorStats {
        let mut s = DetectorStats::default();
        s.add_table(self.sensors.len(), self.dropped);
        s
    }
}
