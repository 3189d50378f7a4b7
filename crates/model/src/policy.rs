//! The access policy: ordered rules, first match wins, and a default for cross-site flows.

use crate::Location;
use crate::hours::{LocalTime, WeeklyWindow};
use sekisho_event::{Flow, Proto, Service, Severity};
use std::fmt;

/// What a rule (or the default) says about a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Allow,
    Alert,
    Deny,
}

impl Action {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allow" => Some(Action::Allow),
            "alert" => Some(Action::Alert),
            "deny" => Some(Action::Deny),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Alert => "alert",
            Action::Deny => "deny",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One side of a rule, resolved against the model: which locations it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// Matches only addresses outside every site.
    pub(crate) external: bool,
    /// Per site: does a site satisfy the site/tag/country keys? `None` when no such key.
    pub(crate) sites: Option<Vec<bool>>,
    /// Per asset: does an asset satisfy the role/asset keys? `None` when no such key.
    pub(crate) assets: Option<Vec<bool>>,
}

impl Selector {
    /// Matches everything, inside and outside the organisation.
    pub fn any() -> Self {
        Self {
            external: false,
            sites: None,
            assets: None,
        }
    }

    /// True when the location satisfies every key of the selector.
    #[inline]
    pub fn matches(&self, loc: Location) -> bool {
        if self.external {
            return loc.site.is_none();
        }
        if let Some(sites) = &self.sites {
            match loc.site {
                Some(s) if sites[s.index()] => {}
                _ => return false,
            }
        }
        if let Some(assets) = &self.assets {
            match loc.asset {
                Some(a) if assets[a.index()] => {}
                _ => return false,
            }
        }
        true
    }
}

/// Services a rule covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceMatch {
    Any,
    Named(Service),
    Ports { proto: Proto, low: u16, high: u16 },
}

impl ServiceMatch {
    /// Parses `rdp`, `tcp/445`, `udp/161-162` or `any`.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "any" {
            return Ok(ServiceMatch::Any);
        }
        if let Some(svc) = Service::from_name(s) {
            return Ok(ServiceMatch::Named(svc));
        }
        let (proto, ports) = s
            .split_once('/')
            .ok_or_else(|| format!("unknown service `{s}` (a name such as rdp, or tcp/445)"))?;
        let proto = match proto {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            _ => return Err(format!("`{proto}` is not tcp or udp in `{s}`")),
        };
        let (low, high) = ports.split_once('-').unwrap_or((ports, ports));
        let low: u16 = low.parse().map_err(|_| format!("bad port in `{s}`"))?;
        let high: u16 = high.parse().map_err(|_| format!("bad port in `{s}`"))?;
        if low > high {
            return Err(format!("port range `{ports}` runs backwards"));
        }
        Ok(ServiceMatch::Ports { proto, low, high })
    }

    #[inline]
    fn matches(&self, flow: &Flow) -> bool {
        match self {
            ServiceMatch::Any => true,
            ServiceMatch::Named(s) => flow.service == *s,
            ServiceMatch::Ports { proto, low, high } => {
                flow.proto == *proto && (*low..=*high).contains(&flow.resp_port)
            }
        }
    }
}

/// When a rule applies, in the source site's local time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    Always,
    During(WeeklyWindow),
    Outside(WeeklyWindow),
}

/// One policy rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: String,
    /// 1-based line of the rule in the org file, for messages.
    pub line: usize,
    pub from: Selector,
    pub to: Selector,
    /// Empty means any service.
    pub services: Vec<ServiceMatch>,
    pub when: When,
    pub action: Action,
    /// Severity of the alert this rule raises (alert/deny).
    pub severity: Severity,
}

impl Rule {
    #[inline]
    fn matches(&self, flow: &Flow, src: Location, dst: Location, local: Option<LocalTime>) -> bool {
        if !self.from.matches(src) || !self.to.matches(dst) {
            return false;
        }
        if !self.services.is_empty() && !self.services.iter().any(|s| s.matches(flow)) {
            return false;
        }
        match (&self.when, local) {
            (When::Always, _) => true,
            (When::During(w), Some(t)) => w.contains(t),
            (When::Outside(w), Some(t)) => !w.contains(t),
            // Without a local clock a timed rule cannot be said to apply.
            (_, None) => false,
        }
    }
}

/// The policy's word on one flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub action: Action,
    /// Index into [`Policy::rules`]; `None` when the default decided.
    pub rule: Option<u16>,
}

/// Ordered rules and the cross-site default.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub rules: Vec<Rule>,
    /// For cross-site flows that no rule matched.
    pub cross_site_default: Action,
    /// Business hours in each source site's local time (sites may override).
    pub business_hours: WeeklyWindow,
}

impl Policy {
    /// First matching rule wins; cross-site flows no rule matches get the default; every
    /// other flow is allowed.
    pub fn evaluate(
        &self,
        flow: &Flow,
        src: Location,
        dst: Location,
        cross_site: bool,
        local: Option<LocalTime>,
    ) -> Verdict {
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.matches(flow, src, dst, local) {
                return Verdict {
                    action: rule.action,
                    rule: Some(i as u16),
                };
            }
        }
        Verdict {
            action: if cross_site {
                self.cross_site_default
            } else {
                Action::Allow
            },
            rule: None,
        }
    }
}
