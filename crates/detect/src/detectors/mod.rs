//! Every detector, one file each, and the one table that lists them.
//!
//! Each file opens with the same documentation template: **What it does**, **Why it
//! matters** (tied to the breach in DESIGN.md), **Example**, **Known false positives**,
//! **ATT&CK**.

use crate::DetectorSpec;

pub mod beacon;
pub mod bulk;
pub mod fan_out;
pub mod first_seen;
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
