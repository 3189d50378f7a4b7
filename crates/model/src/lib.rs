//! The organisation model: sites with their networks and clocks, assets with the data and
//! customers on them, sensors, the access policy between sites, and detector settings —
//! read from one TOML file, validated with errors that name the line, and resolved into a
//! form that enriches a flow in a few hundred nanoseconds.
//!
//! ```
//! use sekisho_model::{Direction, Enricher, Org};
//! let org = Org::from_toml(r#"
//! [org]
//! name = "Example"
//! [[site]]
//! id = "jp-hq"
//! country = "JP"
//! timezone = "Asia/Tokyo"
//! networks = ["10.10.0.0/16"]
//! [[site]]
//! id = "th-bkk"
//! country = "TH"
//! timezone = "Asia/Bangkok"
//! networks = ["10.20.0.0/16"]
//! tags = ["overseas"]
//! "#, "org.toml").unwrap();
//! let hq = org.locate("10.10.5.10".parse().unwrap());
//! assert_eq!(org.site(hq.site.unwrap()).id, "jp-hq");
//! ```
//!
//! Invariants: no I/O except [`Org::load`]; no clock; the model is immutable once built.

pub mod baseline;
mod enrich;
mod error;
mod hours;
mod org;
mod policy;
mod raw;
pub mod settings;

pub use enrich::{Direction, Enriched, Enricher, Location};
pub use error::ModelError;
pub use hours::{LocalTime, WeeklyWindow};
pub use org::{Asset, AssetId, Org, SavedHunt, Sensor, Site, SiteId, parse_severity};
pub use policy::{Action, Policy, Rule, Selector, ServiceMatch, Verdict, When};
pub use settings::DetectorSettings;
