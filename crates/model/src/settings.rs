//! Detector thresholds: `[detectors.*]` tables of the organisation file. Every value has a
//! default, so an org file without a `[detectors]` table is complete.

use serde::{Deserialize, Serialize};

/// All detector settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorSettings {
    pub first_seen_crossing: FirstSeenSettings,
    pub off_hours_crossing: OffHoursSettings,
    pub pivot_chain: PivotSettings,
    pub fan_out: FanOutSettings,
    pub bulk_transfer: BulkTransferSettings,
    pub beacon: BeaconSettings,
    pub sensor_gap: SensorGapSettings,
    /// Detectors on host evidence (logons, service installs, log clears...).
    pub host: HostSettings,
    /// `failed-logon-burst` and `password-spray`.
    pub failed_logons: FailedLogonSettings,
    pub correlation: CorrelationSettings,
    /// One connection logged by several sensors, analysed once.
    pub duplicates: DuplicateSettings,
    pub limits: Limits,
}

/// The same connection logged by more than one sensor (both ends of a WAN link, two
/// routers on its path, host-based Zeek on both hosts) is analysed once: records with the
/// same protocol, addresses and ports from another sensor, starting within `window_ms` of
/// the first, are counted as duplicates and kept from the detectors (the store keeps them:
/// they are evidence of what each sensor saw).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DuplicateSettings {
    pub enabled: bool,
    /// Largest difference in start time between two sensors' records of one connection
    /// (their clocks and capture points differ by milliseconds).
    pub window_ms: u32,
}

impl Default for DuplicateSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            window_ms: 2_000,
        }
    }
}

/// What a first-seen pair is keyed by on the source side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FirstSeenKey {
    /// (source site → destination asset, service): quiet, the default.
    #[default]
    Site,
    /// (source host → destination asset, service): finer, noisier.
    Host,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirstSeenSettings {
    pub enabled: bool,
    /// Days from the first event that only learn, never alert.
    pub baseline_days: u32,
    pub key: FirstSeenKey,
    /// Crossings known before the first flow (`sekisho analyze --baseline FILE`), which
    /// then replace the `baseline_days` learning window. Not an org-file key.
    #[serde(skip)]
    pub saved: Option<std::sync::Arc<crate::baseline::Baseline>>,
}

impl Default for FirstSeenSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            baseline_days: 7,
            key: FirstSeenKey::Site,
            saved: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OffHoursSettings {
    pub enabled: bool,
}

impl Default for OffHoursSettings {
    fn default() -> Self {
        Self { enabled: true }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PivotSettings {
    pub enabled: bool,
    /// How long after a cross-site connection in its onward connections count.
    pub window_minutes: u32,
    /// Distinct onward targets needed to report a chain.
    pub min_targets: u32,
}

impl Default for PivotSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            window_minutes: 60,
            min_targets: 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FanOutSettings {
    pub enabled: bool,
    pub window_minutes: u32,
    /// Distinct destination hosts in the window.
    pub min_hosts: u32,
    /// Distinct destination ports on one host in the window.
    pub min_ports: u32,
    /// Assets with any of these roles are not reported (sanctioned scanners).
    pub exempt_roles: Vec<String>,
}

impl Default for FanOutSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            window_minutes: 10,
            min_hosts: 50,
            min_ports: 100,
            exempt_roles: vec!["scanner".to_string()],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BulkTransferSettings {
    pub enabled: bool,
    pub window_minutes: u32,
    /// Bytes out of a data-bearing asset to one other site or the outside within the window.
    pub min_bytes: u64,
}

impl Default for BulkTransferSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            window_minutes: 60,
            min_bytes: 100_000_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BeaconSettings {
    pub enabled: bool,
    /// Connections needed before a pair is scored.
    pub min_connections: u32,
    /// Score (0..1) from which a pair is reported.
    pub min_score: f64,
    /// Only pairs that leave the organisation (outbound) or cross sites are scored.
    pub cross_site: bool,
    /// Most pairs for which connection times and sizes are sampled at once (each holds up to
    /// 256 samples, about 2 KiB); every other pair only has a counter. Also capped by
    /// `limits.max_tracked_keys`.
    pub max_detailed_pairs: usize,
}

impl Default for BeaconSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            min_connections: 24,
            min_score: 0.85,
            cross_site: false,
            max_detailed_pairs: 8_192,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SensorGapSettings {
    pub enabled: bool,
    pub max_silence_minutes: u32,
}

impl Default for SensorGapSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            max_silence_minutes: 60,
        }
    }
}

/// `[detectors.host]`: the detectors that read host evidence (Windows event logs, Linux
/// auth logs) rather than flows.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostSettings {
    /// Turns every host detector on or off at once.
    pub enabled: bool,
    /// Groups whose new members `admin-group-added` reports (compared ignoring ASCII case).
    pub admin_groups: Vec<String>,
}

impl Default for HostSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            admin_groups: [
                "Administrators",
                "Domain Admins",
                "Enterprise Admins",
                "Schema Admins",
                "Account Operators",
                "Backup Operators",
                "Server Operators",
                "DnsAdmins",
                "Remote Desktop Users",
                "Remote Management Users",
                "sudo",
                "wheel",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        }
    }
}

/// `[detectors.failed_logons]`: bursts of failed logons and password spraying, per source.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FailedLogonSettings {
    pub enabled: bool,
    /// Length of the window counted from a source's first failure.
    pub window_minutes: u32,
    /// Failed logons from one source within the window that make a burst.
    pub min_failures: u32,
    /// Distinct accounts failed from one source within the window that make a spray.
    pub min_users: u32,
}

impl Default for FailedLogonSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            window_minutes: 10,
            min_failures: 20,
            min_users: 10,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorrelationSettings {
    /// Alerts sharing a host within this many minutes join one incident.
    pub window_minutes: u32,
    /// An incident is opened only if one of its alerts is at least this severe
    /// (`info`, `low`, `medium`, `high`, `critical`).
    pub min_severity: String,
}

impl Default for CorrelationSettings {
    fn default() -> Self {
        Self {
            window_minutes: 24 * 60,
            min_severity: "medium".to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most keys any one detector table holds; past it the oldest are evicted and counted.
    pub max_tracked_keys: usize,
    /// Most alerts kept per run; further ones are counted, not stored.
    pub max_alerts: usize,
    /// How far out of time order records may arrive (sensors merged, clocks a little apart).
    /// Detectors close a time window only this long after its end, so a late record still
    /// lands in the right window.
    pub reorder_slack_minutes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_tracked_keys: 1_000_000,
            max_alerts: 100_000,
            reorder_slack_minutes: 5,
        }
    }
}
