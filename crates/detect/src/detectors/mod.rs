//! Every detector, one file each, and the one table that lists them.

use crate::DetectorSpec;

/// Every detector, in the order they run.
pub static REGISTRY: &[DetectorSpec] = &[];
