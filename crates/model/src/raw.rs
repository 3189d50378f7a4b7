//! The organisation file as written: serde structs that keep the position of every value
//! that validation may complain about.

use serde::Deserialize;
use toml::Spanned;

use crate::settings::DetectorSettings;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub org: Spanned<RawOrg>,
    #[serde(default, rename = "site")]
    pub sites: Vec<Spanned<RawSite>>,
    #[serde(default, rename = "asset")]
    pub assets: Vec<Spanned<RawAsset>>,
    #[serde(default, rename = "sensor")]
    pub sensors: Vec<Spanned<RawSensor>>,
    #[serde(default)]
    pub policy: Option<RawPolicy>,
    #[serde(default)]
    pub detectors: DetectorSettings,
    #[serde(default, rename = "hunt")]
    pub hunts: Vec<Spanned<RawHunt>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHunt {
    pub name: Spanned<String>,
    pub sql: Spanned<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrg {
    pub name: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub brands: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSite {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub country: Spanned<String>,
    pub timezone: Spanned<String>,
    pub networks: Vec<Spanned<String>>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub business_hours: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAsset {
    pub name: Spanned<String>,
    pub site: Spanned<String>,
    #[serde(default)]
    pub addresses: Vec<Spanned<String>>,
    #[serde(default)]
    pub networks: Vec<Spanned<String>>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub data: Vec<String>,
    #[serde(default)]
    pub customers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSensor {
    pub name: Spanned<String>,
    #[serde(default)]
    pub sites: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    pub cross_site_default: Option<Spanned<String>>,
    pub business_hours: Option<Spanned<String>>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub name: Spanned<String>,
    pub from: Spanned<RawSelector>,
    pub to: Spanned<RawSelector>,
    #[serde(default)]
    pub services: Vec<Spanned<String>>,
    pub during: Option<Spanned<String>>,
    pub outside: Option<Spanned<String>>,
    pub action: Spanned<String>,
    pub severity: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSelector {
    pub site: Option<Spanned<OneOrMany>>,
    pub tag: Option<Spanned<OneOrMany>>,
    pub role: Option<Spanned<OneOrMany>>,
    pub asset: Option<Spanned<OneOrMany>>,
    pub country: Option<Spanned<OneOrMany>>,
    pub external: Option<bool>,
    pub any: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> &[String] {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s),
            OneOrMany::Many(v) => v,
        }
    }
}
