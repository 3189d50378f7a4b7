//! `sekisho check ORG.toml`

use crate::Failure;
use anyhow::anyhow;
use clap::Args;
use sekisho_model::{Org, When};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  sekisho check org.toml\n\nExit codes: 0 valid, 2 invalid (the error names file:line:column)."
)]
pub struct CheckArgs {
    /// The organisation file (TOML).
    pub org: PathBuf,
}

pub fn run(args: CheckArgs) -> Result<u8, Failure> {
    let org = Org::load(&args.org).map_err(|e| Failure::input(anyhow!("{e}")))?;
    print!("{}", summary(&org, &args.org.display().to_string()));
    Ok(0)
}

/// What an org file defines, for a human.
pub fn summary(org: &Org, path: &str) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let nets: usize = org.sites.iter().map(|x| x.networks.len()).sum();
    let _ = writeln!(s, "{path}: valid organisation file for {}", org.name);
    let _ = writeln!(s, "\nSites ({}, {nets} networks):", org.sites.len());
    for site in &org.sites {
        let _ = writeln!(
            s,
            "  {:<12} {:<28} {}  {:<20} {:>2} networks  tags: {}",
            site.id,
            site.name,
            site.country,
            site.timezone.name(),
            site.networks.len(),
            if site.tags.is_empty() {
                "-".to_string()
            } else {
                site.tags.join(", ")
            }
        );
    }
    let mut roles: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &org.assets {
        for r in &a.roles {
            *roles.entry(r).or_default() += 1;
        }
    }
    let _ = writeln!(s, "\nAssets: {}", org.assets.len());
    for (role, n) in roles {
        let _ = writeln!(s, "  {role:<20} {n}");
    }
    let (data, customers) = org.data_classes_and_customers();
    let _ = writeln!(s, "Data classes: {}", join(data));
    let _ = writeln!(s, "Customers: {}", join(customers));
    let _ = writeln!(s, "\nSensors: {}", org.sensors.len());
    for sensor in &org.sensors {
        let sites: Vec<&str> = sensor
            .sites
            .iter()
            .map(|id| org.site(*id).id.as_str())
            .collect();
        let _ = writeln!(s, "  {:<20} watches {}", sensor.name, sites.join(", "));
    }
    let _ = writeln!(
        s,
        "\nPolicy: {} rules, cross-site default {}, business hours {}",
        org.policy.rules().len(),
        org.policy.cross_site_default,
        org.policy.business_hours
    );
    for (i, rule) in org.policy.rules().iter().enumerate() {
        let when = match &rule.when {
            When::Always => String::new(),
            When::During(w) => format!(" (during {w})"),
            When::Outside(w) => format!(" (outside {w})"),
        };
        let _ = writeln!(
            s,
            "  {:>2}. {:<5} {}{} [line {}]",
            i + 1,
            rule.action.as_str(),
            rule.name,
            when,
            rule.line
        );
    }
    s
}

fn join<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.into_iter().collect();
    if v.is_empty() {
        "-".to_string()
    } else {
        v.join(", ")
    }
}
