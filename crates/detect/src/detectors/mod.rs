//! Every detector, one file each, and the one table that lists them.
//!
//! Each file opens with the same documentation template: **What it does**, **Why it
//! matters** (tied to the breach in DESIGN.md), **Example**, **Known false positives**,
//! **ATT&CK**.

use crate::{DetectorSpec, HostDetectorSpec};

pub mod beacon;
pub mod bulk;
pub mod fan_out;
pub mod first_seen;
pub mod host_account;
pub mod host_admin_logon;
pub mod host_explicit_credentials;
pub mod host_failed_logons;
pub mod host_log_tamper;
pub mod host_logon_policy;
pub mod host_rdp;
pub mod host_remote_exec;
pub mod host_remote_logon;
pub mod host_rules;
pub mod host_service_install;
pub mod off_hours;
pub mod pivot;
pub mod policy;
pub mod sensor_gap;

/// Every detector, in the order they run.
pub static REGISTRY: &[DetectorSpec] = &[
    policy::DENY,
    policy::ALERT,
    first_seen::SPEC,
    off_hours::SPEC,
    pivot::SPEC,
    fan_out::SPEC,
    bulk::SPEC,
    beacon::SPEC,
    sensor_gap::SPEC,
];

/// Every detector on host evidence, in the order they run.
pub static HOST_REGISTRY: &[HostDetectorSpec] = &[
    host_remote_logon::SPEC,
    host_logon_policy::DENY,
    host_logon_policy::ALERT,
    host_failed_logons::BURST,
    host_failed_logons::SPRAY,
    host_explicit_credentials::SPEC,
    host_admin_logon::SPEC,
    host_service_install::SPEC,
    host_account::CREATED,
    host_account::ADMIN_GROUP,
    host_rdp::SPEC,
    host_log_tamper::CLEARED,
    host_log_tamper::AUDIT_POLICY,
    host_remote_exec::SPEC,
];
