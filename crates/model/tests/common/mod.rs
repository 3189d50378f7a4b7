//! The example organisation the model's tests read: three sites, assets, a policy.
#![allow(dead_code)]

use sekisho_model::Org;

pub const EXAMPLE: &str = r#"
[org]
name = "Example Heavy Industries"
domains = ["example-hi.co.jp", "example-hi.com"]
brands = ["Example Heavy Industries", "EHI"]

[[site]]
id = "jp-hq"
name = "Tokyo headquarters"
country = "JP"
timezone = "Asia/Tokyo"
networks = ["10.10.0.0/16", "2001:db8:10::/48"]
tags = ["hq"]

[[site]]
id = "th-bkk"
name = "Bangkok office"
country = "TH"
timezone = "Asia/Bangkok"
networks = ["10.20.0.0/16"]
tags = ["overseas"]

[[site]]
id = "us-hou"
name = "Houston office"
country = "US"
timezone = "America/Chicago"
networks = ["10.40.0.0/16"]
tags = ["overseas"]

[[asset]]
name = "jp-fs01"
site = "jp-hq"
addresses = ["10.10.5.10", "2001:db8:10::10"]
roles = ["file-server"]
data = ["customer-pii", "design"]
customers = ["Acme Air", "Orbital Co"]

[[asset]]
name = "jp-dc01"
site = "jp-hq"
addresses = ["10.10.1.1"]
roles = ["domain-controller"]

[[asset]]
name = "th-dc01"
site = "th-bkk"
addresses = ["10.20.1.1"]
roles = ["domain-controller"]

[[sensor]]
name = "jp-hq-zeek"
sites = ["jp-hq"]

[policy]
cross_site_default = "alert"
business_hours = "Mon-Fri 08:00-19:00"

[[policy.rule]]
name = "AD replication"
from = { role = "domain-controller" }
to = { role = "domain-controller" }
services = ["ldap", "kerberos", "dce-rpc", "smb", "tcp/49152-65535"]
action = "allow"

[[policy.rule]]
name = "no overseas admin access to HQ servers"
from = { tag = "overseas" }
to = { site = "jp-hq", role = ["file-server", "domain-controller"] }
services = ["rdp", "smb", "ssh", "winrm"]
action = "deny"

[[policy.rule]]
name = "overseas web to HQ in business hours"
from = { tag = "overseas" }
to = { site = "jp-hq" }
services = ["https"]
during = "business-hours"
action = "allow"

[detectors.fan_out]
min_hosts = 20
"#;

pub fn org() -> Org {
    Org::from_toml(EXAMPLE, "org.toml").expect("example parses")
}
