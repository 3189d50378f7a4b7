//! What sekisho keeps of a terminal's osquery inventory: one typed row type per table,
//! holding only the columns a check or an indicator looks at (so 26,000 terminals fit in
//! a few hundred megabytes), and the per-host [`Inventory`] those rows go into.
//!
//! Column names and meanings follow osquery's published table specs (`specs/*.table`);
//! osquery writes every column value as a string in its results log, so numbers are parsed
//! here, leniently: an unparsable number reads as the column's "unknown" value.

use crate::parse::Row;
use serde::Serialize;
use std::net::IpAddr;

/// Rows kept per host and table; more are dropped and counted (`row-cap`).
pub const MAX_ROWS_PER_TABLE: usize = 4096;

/// The osquery tables sekisho reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// `os_version`: name, version, major/minor/patch, build, platform.
    OsVersion,
    /// `system_info`: hostname, uuid, hardware serial, computer name.
    SystemInfo,
    /// `interface_addresses`: the addresses that place a terminal in its site.
    InterfaceAddresses,
    /// `programs` (Windows Installer products).
    Programs,
    /// `patches` (Windows hotfixes).
    Patches,
    /// `services` (Windows services).
    Services,
    /// `processes`.
    Processes,
    /// `listening_ports`.
    ListeningPorts,
    /// `startup_items`.
    StartupItems,
    /// `scheduled_tasks`.
    ScheduledTasks,
    /// `users` (optionally joined with groups: a `groupname` column marks membership).
    Users,
    /// `windows_security_center`.
    WindowsSecurityCenter,
    /// `windows_security_products`.
    WindowsSecurityProducts,
    /// `bitlocker_info`.
    BitlockerInfo,
    /// `disk_encryption` (macOS, Linux).
    DiskEncryption,
    /// `certificates`.
    Certificates,
    /// `hash`.
    Hash,
    /// `file`.
    File,
    /// `process_open_sockets`: remote addresses, for IP indicators.
    ProcessOpenSockets,
}

impl Table {
    /// Every table, in a fixed order.
    pub const ALL: [Table; 19] = [
        Table::OsVersion,
        Table::SystemInfo,
        Table::InterfaceAddresses,
        Table::Programs,
        Table::Patches,
        Table::Services,
        Table::Processes,
        Table::ListeningPorts,
        Table::StartupItems,
        Table::ScheduledTasks,
        Table::Users,
        Table::WindowsSecurityCenter,
        Table::WindowsSecurityProducts,
        Table::BitlockerInfo,
        Table::DiskEncryption,
        Table::Certificates,
        Table::Hash,
        Table::File,
        Table::ProcessOpenSockets,
    ];

    /// osquery's table name.
    pub fn as_str(self) -> &'static str {
        match self {
            Table::OsVersion => "os_version",
            Table::SystemInfo => "system_info",
            Table::InterfaceAddresses => "interface_addresses",
            Table::Programs => "programs",
            Table::Patches => "patches",
            Table::Services => "services",
            Table::Processes => "processes",
            Table::ListeningPorts => "listening_ports",
            Table::StartupItems => "startup_items",
            Table::ScheduledTasks => "scheduled_tasks",
            Table::Users => "users",
            Table::WindowsSecurityCenter => "windows_security_center",
            Table::WindowsSecurityProducts => "windows_security_products",
            Table::BitlockerInfo => "bitlocker_info",
            Table::DiskEncryption => "disk_encryption",
            Table::Certificates => "certificates",
            Table::Hash => "hash",
            Table::File => "file",
            Table::ProcessOpenSockets => "process_open_sockets",
        }
    }

    /// The table a scheduled query's name stands for. Packs prefix names
    /// (`pack/Global/programs`, `pack:it:programs`), so the last `/`- or `:`-separated
    /// segment is looked up; osquery's alias `programs_and_features` is accepted.
    ///
    /// ```
    /// use sekisho_fleet::Table;
    /// assert_eq!(Table::from_query_name("pack/Global/os_version"), Some(Table::OsVersion));
    /// assert_eq!(Table::from_query_name("kernel_modules"), None);
    /// ```
    pub fn from_query_name(name: &str) -> Option<Table> {
        let last = name.rsplit(['/', ':']).next().unwrap_or(name);
        if last == "programs_and_features" {
            return Some(Table::Programs);
        }
        Table::ALL.iter().copied().find(|t| t.as_str() == last)
    }

    /// Index into per-table arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A kept string: boxed to save the capacity word on 26,000 × hundreds of values.
pub type Text = Box<str>;

fn text(row: &Row, col: &str) -> Text {
    Box::from(row.get(col))
}

fn int(row: &Row, col: &str) -> i64 {
    row.get(col).trim().parse().unwrap_or(-1)
}

fn flag(row: &Row, col: &str) -> bool {
    matches!(row.get(col).trim(), "1" | "true" | "yes")
}

/// `os_version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OsVersion {
    /// `name`, e.g. `Microsoft Windows 11 Enterprise`.
    pub name: Text,
    /// `version`, e.g. `10.0.22631`.
    pub version: Text,
    /// `major`.
    pub major: i64,
    /// `minor`.
    pub minor: i64,
    /// `patch`.
    pub patch: i64,
    /// `build`, e.g. `22631` (Windows) or a distribution's variant.
    pub build: Text,
    /// `platform`: `windows`, `darwin`, `ubuntu`, `rhel`, ...
    pub platform: Text,
}

/// `system_info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SystemInfo {
    /// `hostname`.
    pub hostname: Text,
    /// `uuid`.
    pub uuid: Text,
    /// `hardware_serial`.
    pub hardware_serial: Text,
    /// `computer_name`.
    pub computer_name: Text,
}

/// `interface_addresses`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InterfaceAddress {
    /// `interface`.
    pub interface: Text,
    /// `address`, parsed; `None` when it is no address (then the row is kept for display).
    pub address: Option<IpAddr>,
}

/// `programs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Program {
    /// `name`.
    pub name: Text,
    /// `version`.
    pub version: Text,
    /// `publisher`.
    pub publisher: Text,
}

/// `patches`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Patch {
    /// `hotfix_id`, e.g. `KB5034441`.
    pub hotfix_id: Text,
    /// `installed_on`.
    pub installed_on: Text,
}

/// `services`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Service {
    /// `name`.
    pub name: Text,
    /// `display_name`.
    pub display_name: Text,
    /// `status`: `RUNNING`, `STOPPED`, ...
    pub status: Text,
    /// `start_type`: `AUTO_START`, `DEMAND_START`, `DISABLED`, ...
    pub start_type: Text,
    /// `path`.
    pub path: Text,
    /// `user_account`.
    pub user_account: Text,
}

/// `processes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Process {
    /// `pid`.
    pub pid: i64,
    /// `name`.
    pub name: Text,
    /// `path`.
    pub path: Text,
    /// `cmdline`.
    pub cmdline: Text,
}

/// `listening_ports`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListeningPort {
    /// `pid`.
    pub pid: i64,
    /// `port`.
    pub port: u16,
    /// `protocol`: 6 TCP, 17 UDP.
    pub protocol: i64,
    /// `address` bound to.
    pub address: Text,
}

/// `startup_items`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StartupItem {
    /// `name`.
    pub name: Text,
    /// `path`.
    pub path: Text,
    /// `args`.
    pub args: Text,
    /// `source`: the registry key or folder it comes from.
    pub source: Text,
    /// `status`.
    pub status: Text,
    /// `username`.
    pub username: Text,
}

/// `scheduled_tasks`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScheduledTask {
    /// `name`, with its folder (`\Microsoft\Windows\...\Name`) when osquery gives it.
    pub name: Text,
    /// `action`.
    pub action: Text,
    /// `path`.
    pub path: Text,
    /// `enabled`.
    pub enabled: bool,
}

/// `users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    /// `uid`.
    pub uid: i64,
    /// `username`.
    pub username: Text,
    /// `uuid`: the SID on Windows.
    pub uuid: Text,
    /// `type`: `local`, `roaming`, `special` (Windows).
    pub kind: Text,
    /// `groupname`, when the query joined `user_groups` and `groups`.
    pub groupname: Text,
}

impl User {
    /// An administrator: a member of an administrators group (when the query joined the
    /// groups), uid 0, or the built-in Windows Administrator (SID ending in `-500`).
    pub fn is_admin(&self) -> bool {
        let g = self.groupname.to_ascii_lowercase();
        matches!(
            g.as_str(),
            "administrators" | "admin" | "wheel" | "sudo" | "root" | "domain admins"
        ) || self.uid == 0
            || self.uuid.ends_with("-500")
    }
}

/// `windows_security_center`: health values `Good`, `Poor`, `Snoozed`, `Not Monitored`, `Error`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecurityCenter {
    /// `firewall`.
    pub firewall: Text,
    /// `antivirus`.
    pub antivirus: Text,
    /// `autoupdate`.
    pub autoupdate: Text,
}

/// `windows_security_products`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecurityProduct {
    /// `type`: `Firewall`, `Antivirus`, `Antispyware`.
    pub kind: Text,
    /// `name`.
    pub name: Text,
    /// `state`: `On`, `Off`, `Snoozed`, `Expired`.
    pub state: Text,
    /// `signatures_up_to_date`.
    pub signatures_up_to_date: bool,
}

/// `bitlocker_info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bitlocker {
    /// `drive_letter`, e.g. `C:`.
    pub drive_letter: Text,
    /// `conversion_status`: 1 fully encrypted.
    pub conversion_status: i64,
    /// `protection_status`: 1 protection on.
    pub protection_status: i64,
}

/// `disk_encryption`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiskEncryption {
    /// `name`, e.g. `/dev/disk1`.
    pub name: Text,
    /// `encrypted`.
    pub encrypted: bool,
    /// `type`, e.g. `AES-XTS`.
    pub kind: Text,
}

/// `certificates`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Certificate {
    /// `common_name`.
    pub common_name: Text,
    /// `sha1` of the certificate.
    pub sha1: Text,
    /// `issuer`.
    pub issuer: Text,
    /// `self_signed`.
    pub self_signed: bool,
    /// `not_valid_after`, seconds since the epoch.
    pub not_valid_after: i64,
    /// `store` (Windows).
    pub store: Text,
}

/// `hash` or `file` rows: a path with what is known about its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// `path`.
    pub path: Text,
    /// `md5` (hash table), lower case.
    pub md5: Text,
    /// `sha1` (hash table), lower case.
    pub sha1: Text,
    /// `sha256` (hash table), lower case.
    pub sha256: Text,
    /// `size` (file table); -1 when unknown.
    pub size: i64,
}

/// `process_open_sockets`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Socket {
    /// `pid`.
    pub pid: i64,
    /// `remote_address`.
    pub remote_address: Option<IpAddr>,
    /// `remote_port`.
    pub remote_port: i64,
}

/// One host's inventory: every table's current rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Inventory {
    /// The host's identity: the `host_uuid` decoration, else `hostIdentifier`, else the
    /// folder name of an `osqueryi --json` dump.
    pub host_id: String,
    /// `hostname` decoration, else `system_info.hostname`, else `hostIdentifier`.
    pub hostname: String,
    /// Newest `unixTime` seen for the host (seconds); `None` when no line had one.
    pub last_seen: Option<i64>,
    /// Where the host was first seen (`file:line`).
    pub first_seen_at: String,
    /// `os_version` (one row).
    pub os: Vec<OsVersion>,
    /// `system_info` (one row).
    pub system: Vec<SystemInfo>,
    /// `interface_addresses`.
    pub addresses: Vec<InterfaceAddress>,
    /// `programs`.
    pub programs: Vec<Program>,
    /// `patches`.
    pub patches: Vec<Patch>,
    /// `services`.
    pub services: Vec<Service>,
    /// `processes`.
    pub processes: Vec<Process>,
    /// `listening_ports`.
    pub listening: Vec<ListeningPort>,
    /// `startup_items`.
    pub startup: Vec<StartupItem>,
    /// `scheduled_tasks`.
    pub tasks: Vec<ScheduledTask>,
    /// `users`.
    pub users: Vec<User>,
    /// `windows_security_center` (one row).
    pub security_center: Vec<SecurityCenter>,
    /// `windows_security_products`.
    pub security_products: Vec<SecurityProduct>,
    /// `bitlocker_info`.
    pub bitlocker: Vec<Bitlocker>,
    /// `disk_encryption`.
    pub disk_encryption: Vec<DiskEncryption>,
    /// `certificates`.
    pub certificates: Vec<Certificate>,
    /// `hash` and `file` rows.
    pub files: Vec<FileEntry>,
    /// `process_open_sockets`.
    pub sockets: Vec<Socket>,
    /// Newest time each table was written (index: [`Table::index`]); decides which side
    /// wins when two inputs carry the same host's table.
    #[serde(skip)]
    pub table_time: [Option<i64>; Table::ALL.len()],
}

/// How a row changes a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Differential `added` (and event-format `"action":"added"`).
    Add,
    /// Differential `removed`.
    Remove,
}

/// What applying a row did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Row added or removed.
    Done,
    /// The table is full ([`MAX_ROWS_PER_TABLE`]); the row was dropped.
    Full,
}

fn apply_vec<T: PartialEq>(v: &mut Vec<T>, change: Change, row: T) -> Applied {
    match change {
        Change::Add => {
            if v.len() >= MAX_ROWS_PER_TABLE {
                return Applied::Full;
            }
            v.push(row);
        }
        Change::Remove => {
            if let Some(i) = v.iter().position(|r| *r == row) {
                v.remove(i);
            }
        }
    }
    Applied::Done
}

fn lower(row: &Row, col: &str) -> Text {
    Box::from(row.get(col).trim().to_ascii_lowercase().as_str())
}

fn addr(s: &str) -> Option<IpAddr> {
    // osquery may append a zone to link-local IPv6 addresses (`fe80::1%en0`).
    let s = s.trim();
    let s = s.split('%').next().unwrap_or(s);
    s.parse().ok()
}

impl Inventory {
    /// A new, empty inventory for a host.
    pub fn new(host_id: &str) -> Self {
        Inventory {
            host_id: host_id.to_string(),
            ..Inventory::default()
        }
    }

    /// Empties one table (a snapshot replaces the table as a whole).
    pub fn clear(&mut self, table: Table) {
        match table {
            Table::OsVersion => self.os.clear(),
            Table::SystemInfo => self.system.clear(),
            Table::InterfaceAddresses => self.addresses.clear(),
            Table::Programs => self.programs.clear(),
            Table::Patches => self.patches.clear(),
            Table::Services => self.services.clear(),
            Table::Processes => self.processes.clear(),
            Table::ListeningPorts => self.listening.clear(),
            Table::StartupItems => self.startup.clear(),
            Table::ScheduledTasks => self.tasks.clear(),
            Table::Users => self.users.clear(),
            Table::WindowsSecurityCenter => self.security_center.clear(),
            Table::WindowsSecurityProducts => self.security_products.clear(),
            Table::BitlockerInfo => self.bitlocker.clear(),
            Table::DiskEncryption => self.disk_encryption.clear(),
            Table::Certificates => self.certificates.clear(),
            // `hash` and `file` share one list; a snapshot of one clears only its kind.
            Table::Hash => self
                .files
                .retain(|f| f.sha256.is_empty() && f.md5.is_empty()),
            Table::File => self
                .files
                .retain(|f| !(f.sha256.is_empty() && f.md5.is_empty())),
            Table::ProcessOpenSockets => self.sockets.clear(),
        }
    }

    /// Whether any row of a table is present.
    pub fn has(&self, table: Table) -> bool {
        match table {
            Table::OsVersion => !self.os.is_empty(),
            Table::SystemInfo => !self.system.is_empty(),
            Table::InterfaceAddresses => !self.addresses.is_empty(),
            Table::Programs => !self.programs.is_empty(),
            Table::Patches => !self.patches.is_empty(),
            Table::Services => !self.services.is_empty(),
            Table::Processes => !self.processes.is_empty(),
            Table::ListeningPorts => !self.listening.is_empty(),
            Table::StartupItems => !self.startup.is_empty(),
            Table::ScheduledTasks => !self.tasks.is_empty(),
            Table::Users => !self.users.is_empty(),
            Table::WindowsSecurityCenter => !self.security_center.is_empty(),
            Table::WindowsSecurityProducts => !self.security_products.is_empty(),
            Table::BitlockerInfo => !self.bitlocker.is_empty(),
            Table::DiskEncryption => !self.disk_encryption.is_empty(),
            Table::Certificates => !self.certificates.is_empty(),
            Table::Hash | Table::File => !self.files.is_empty(),
            Table::ProcessOpenSockets => !self.sockets.is_empty(),
        }
    }

    /// Applies one row of a table.
    pub fn apply(&mut self, table: Table, change: Change, row: &Row) -> Applied {
        match table {
            Table::OsVersion => {
                let r = OsVersion {
                    name: text(row, "name"),
                    version: text(row, "version"),
                    major: int(row, "major"),
                    minor: int(row, "minor"),
                    patch: int(row, "patch"),
                    build: text(row, "build"),
                    platform: lower(row, "platform"),
                };
                apply_vec(&mut self.os, change, r)
            }
            Table::SystemInfo => {
                let r = SystemInfo {
                    hostname: text(row, "hostname"),
                    uuid: text(row, "uuid"),
                    hardware_serial: text(row, "hardware_serial"),
                    computer_name: text(row, "computer_name"),
                };
                apply_vec(&mut self.system, change, r)
            }
            Table::InterfaceAddresses => {
                let r = InterfaceAddress {
                    interface: text(row, "interface"),
                    address: addr(row.get("address")),
                };
                apply_vec(&mut self.addresses, change, r)
            }
            Table::Programs => {
                let r = Program {
                    name: text(row, "name"),
                    version: text(row, "version"),
                    publisher: text(row, "publisher"),
                };
                apply_vec(&mut self.programs, change, r)
            }
            Table::Patches => {
                let r = Patch {
                    hotfix_id: text(row, "hotfix_id"),
                    installed_on: text(row, "installed_on"),
                };
                apply_vec(&mut self.patches, change, r)
            }
            Table::Services => {
                let r = Service {
                    name: text(row, "name"),
                    display_name: text(row, "display_name"),
                    status: text(row, "status"),
                    start_type: text(row, "start_type"),
                    path: text(row, "path"),
                    user_account: text(row, "user_account"),
                };
                apply_vec(&mut self.services, change, r)
            }
            Table::Processes => {
                let r = Process {
                    pid: int(row, "pid"),
                    name: text(row, "name"),
                    path: text(row, "path"),
                    cmdline: text(row, "cmdline"),
                };
                apply_vec(&mut self.processes, change, r)
            }
            Table::ListeningPorts => {
                let port = int(row, "port");
                let r = ListeningPort {
                    pid: int(row, "pid"),
                    port: u16::try_from(port).unwrap_or(0),
                    protocol: int(row, "protocol"),
                    address: text(row, "address"),
                };
                apply_vec(&mut self.listening, change, r)
            }
            Table::StartupItems => {
                let r = StartupItem {
                    name: text(row, "name"),
                    path: text(row, "path"),
                    args: text(row, "args"),
                    source: text(row, "source"),
                    status: text(row, "status"),
                    username: text(row, "username"),
                };
                apply_vec(&mut self.startup, change, r)
            }
            Table::ScheduledTasks => {
                let r = ScheduledTask {
                    name: text(row, "name"),
                    action: text(row, "action"),
                    path: text(row, "path"),
                    enabled: flag(row, "enabled"),
                };
                apply_vec(&mut self.tasks, change, r)
            }
            Table::Users => {
                let r = User {
                    uid: int(row, "uid"),
                    username: text(row, "username"),
                    uuid: text(row, "uuid"),
                    kind: text(row, "type"),
                    groupname: text(row, "groupname"),
                };
                apply_vec(&mut self.users, change, r)
            }
            Table::WindowsSecurityCenter => {
                let r = SecurityCenter {
                    firewall: text(row, "firewall"),
                    antivirus: text(row, "antivirus"),
                    autoupdate: text(row, "autoupdate"),
                };
                apply_vec(&mut self.security_center, change, r)
            }
            Table::WindowsSecurityProducts => {
                let r = SecurityProduct {
                    kind: text(row, "type"),
                    name: text(row, "name"),
                    state: text(row, "state"),
                    signatures_up_to_date: flag(row, "signatures_up_to_date"),
                };
                apply_vec(&mut self.security_products, change, r)
            }
            Table::BitlockerInfo => {
                let r = Bitlocker {
                    drive_letter: text(row, "drive_letter"),
                    conversion_status: int(row, "conversion_status"),
                    protection_status: int(row, "protection_status"),
                };
                apply_vec(&mut self.bitlocker, change, r)
            }
            Table::DiskEncryption => {
                let r = DiskEncryption {
                    name: text(row, "name"),
                    encrypted: flag(row, "encrypted"),
                    kind: text(row, "type"),
                };
                apply_vec(&mut self.disk_encryption, change, r)
            }
            Table::Certificates => {
                let r = Certificate {
                    common_name: text(row, "common_name"),
                    sha1: lower(row, "sha1"),
                    issuer: text(row, "issuer"),
                    self_signed: flag(row, "self_signed"),
                    not_valid_after: int(row, "not_valid_after"),
                    store: text(row, "store"),
                };
                apply_vec(&mut self.certificates, change, r)
            }
            Table::Hash => {
                let r = FileEntry {
                    path: text(row, "path"),
                    md5: lower(row, "md5"),
                    sha1: lower(row, "sha1"),
                    sha256: lower(row, "sha256"),
                    size: -1,
                };
                apply_vec(&mut self.files, change, r)
            }
            Table::File => {
                let r = FileEntry {
                    path: text(row, "path"),
                    md5: Text::default(),
                    sha1: Text::default(),
                    sha256: Text::default(),
                    size: int(row, "size"),
                };
                apply_vec(&mut self.files, change, r)
            }
            Table::ProcessOpenSockets => {
                let r = Socket {
                    pid: int(row, "pid"),
                    remote_address: addr(row.get("remote_address")),
                    remote_port: int(row, "remote_port"),
                };
                apply_vec(&mut self.sockets, change, r)
            }
        }
    }

    /// Takes over the tables of another inventory of the same host where they are newer
    /// (or where this one has none). Used to join a host seen in several inputs.
    pub fn absorb(&mut self, other: Inventory) {
        self.last_seen = match (self.last_seen, other.last_seen) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if self.hostname.is_empty() {
            self.hostname = other.hostname.clone();
        }
        let newer = |t: Table, mine: &Inventory| {
            let (a, b) = (mine.table_time[t.index()], other.table_time[t.index()]);
            !mine.has(t) || (b.is_some() && b > a)
        };
        macro_rules! take {
            ($t:expr, $f:ident) => {
                if other.has($t) && newer($t, self) {
                    self.$f = other.$f.clone();
                    self.table_time[$t.index()] = other.table_time[$t.index()];
                }
            };
        }
        take!(Table::OsVersion, os);
        take!(Table::SystemInfo, system);
        take!(Table::InterfaceAddresses, addresses);
        take!(Table::Programs, programs);
        take!(Table::Patches, patches);
        take!(Table::Services, services);
        take!(Table::Processes, processes);
        take!(Table::ListeningPorts, listening);
        take!(Table::StartupItems, startup);
        take!(Table::ScheduledTasks, tasks);
        take!(Table::Users, users);
        take!(Table::WindowsSecurityCenter, security_center);
        take!(Table::WindowsSecurityProducts, security_products);
        take!(Table::BitlockerInfo, bitlocker);
        take!(Table::DiskEncryption, disk_encryption);
        take!(Table::Certificates, certificates);
        take!(Table::Hash, files);
        take!(Table::ProcessOpenSockets, sockets);
    }
}
