//! osquery's result formats, table by table: every table sekisho reads is fed as snapshot,
//! batch (`diffResults`) and event lines, and the parsed values are asserted. Rows use
//! the column names of osquery's table specs (`specs/*.table`), all values as strings,
//! the way osqueryd's filesystem logger writes them.

use sekisho_fleet::{Collector, Inventory, ProblemKind, Table};

/// Two sample rows per table, with the columns of osquery's schema.
fn samples(t: Table) -> [&'static str; 2] {
    match t {
        Table::OsVersion => [
            r#"{"name":"Microsoft Windows 11 Enterprise","version":"10.0.22631","major":"10","minor":"0","patch":"","build":"22631","platform":"windows","platform_like":"windows","codename":"","arch":"64-bit","install_date":"20230412093015.000000+540"}"#,
            r#"{"name":"Ubuntu","version":"22.04.4 LTS (Jammy Jellyfish)","major":"22","minor":"4","patch":"0","build":"","platform":"ubuntu","platform_like":"debian","codename":"jammy","arch":"x86_64"}"#,
        ],
        Table::SystemInfo => [
            r#"{"hostname":"th-ws00001","uuid":"4C4C4544-0042-3510-8052-B4C04F4B4A32","cpu_type":"x86_64","cpu_brand":"Intel(R) Core(TM) i5-1245U","cpu_physical_cores":"10","cpu_logical_cores":"12","physical_memory":"17179869184","hardware_vendor":"HP","hardware_model":"HP EliteBook 840 G9","hardware_serial":"5CG1234567","computer_name":"TH-WS00001"}"#,
            r#"{"hostname":"th-ws00001b","uuid":"U2","hardware_serial":"5CG1234567","computer_name":"TH-WS00001"}"#,
        ],
        Table::InterfaceAddresses => [
            r#"{"interface":"Ethernet","address":"10.20.64.5","mask":"255.255.255.0","broadcast":"10.20.64.255","point_to_point":"","type":"dhcp"}"#,
            r#"{"interface":"en0","address":"fe80::1c2a:3bff:fe4d:5e6f%en0","mask":"ffff:ffff:ffff:ffff::","broadcast":"","point_to_point":"","type":"auto"}"#,
        ],
        Table::Programs => [
            r#"{"name":"7-Zip 23.01 (x64)","version":"23.01","install_source":"","language":"","publisher":"Igor Pavlov","uninstall_string":"\"C:\\Program Files\\7-Zip\\Uninstall.exe\"","install_date":"20240105","identifying_number":""}"#,
            r#"{"name":"Google Chrome","version":"126.0.6478.127","publisher":"Google LLC","install_date":"20240701"}"#,
        ],
        Table::Patches => [
            r#"{"csname":"TH-WS00001","hotfix_id":"KB5040442","caption":"http://support.microsoft.com/?kbid=5040442","description":"Security Update","fix_comments":"","installed_by":"NT AUTHORITY\\SYSTEM","install_date":"","installed_on":"7/10/2024"}"#,
            r#"{"csname":"TH-WS00001","hotfix_id":"KB890830","caption":"","description":"Update","installed_on":"7/11/2024"}"#,
        ],
        Table::Services => [
            r#"{"name":"Sense","service_type":"OWN_PROCESS","display_name":"Windows Defender Advanced Threat Protection Service","status":"RUNNING","pid":"2816","start_type":"AUTO_START","win32_exit_code":"0","service_exit_code":"0","path":"C:\\Program Files\\Windows Defender Advanced Threat Protection\\MsSense.exe","module_path":"","description":"","user_account":"LocalSystem"}"#,
            r#"{"name":"Spooler","service_type":"OWN_PROCESS","display_name":"Print Spooler","status":"STOPPED","pid":"0","start_type":"DISABLED","path":"C:\\Windows\\System32\\spoolsv.exe","user_account":"LocalSystem"}"#,
        ],
        Table::Processes => [
            r#"{"pid":"688","name":"lsass.exe","path":"C:\\Windows\\System32\\lsass.exe","cmdline":"C:\\Windows\\system32\\lsass.exe","state":"STILL_ACTIVE","cwd":"","root":"","uid":"-1","gid":"-1","on_disk":"1","parent":"560","threads":"9","is_elevated_token":"1"}"#,
            r#"{"pid":"9316","name":"rundll32.exe","path":"C:\\Windows\\System32\\rundll32.exe","cmdline":"rundll32.exe C:\\Users\\Public\\x.dll,Start","parent":"4432"}"#,
        ],
        Table::ListeningPorts => [
            r#"{"pid":"1236","port":"3389","protocol":"6","family":"2","address":"0.0.0.0","net_namespace":"0","fd":"-1","socket":"-1","path":""}"#,
            r#"{"pid":"4","port":"137","protocol":"17","family":"2","address":"10.20.64.5","fd":"-1","socket":"-1","path":""}"#,
        ],
        Table::StartupItems => [
            r#"{"name":"OneDrive","path":"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe","args":"/background","type":"Startup Item","source":"HKEY_USERS\\S-1-5-21-1-1001\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run","status":"enabled","username":"user"}"#,
            r#"{"name":"Updater","path":"C:\\Users\\user\\AppData\\Roaming\\u.exe","args":"","type":"Startup Item","source":"","status":"enabled","username":""}"#,
        ],
        Table::ScheduledTasks => [
            r#"{"name":"\\Microsoft\\Windows\\Defrag\\ScheduledDefrag","action":"%windir%\\system32\\defrag.exe -c -h -o -$","path":"%windir%\\system32\\defrag.exe","enabled":"1","state":"ready","hidden":"0","last_run_time":"1721300000","next_run_time":"1721400000","last_run_message":"The operation completed successfully.","last_run_code":"0"}"#,
            r#"{"name":"\\Evil","action":"c:\\x.exe","path":"c:\\x.exe","enabled":"0","state":"disabled","hidden":"1"}"#,
        ],
        Table::Users => [
            r#"{"uid":"500","gid":"513","uid_signed":"500","gid_signed":"513","username":"Administrator","description":"Built-in account","directory":"","shell":"C:\\Windows\\system32\\cmd.exe","uuid":"S-1-5-21-1004336348-1177238915-682003330-500","type":"local"}"#,
            r#"{"uid":"1003","gid":"513","username":"support","uuid":"S-1-5-21-1-1003","type":"local","groupname":"Administrators"}"#,
        ],
        Table::WindowsSecurityCenter => [
            r#"{"firewall":"Good","autoupdate":"Good","antivirus":"Good","antispyware":"Good","internet_settings":"Good","windows_security_center_service":"Good","user_account_control":"Good"}"#,
            r#"{"firewall":"Poor","autoupdate":"Good","antivirus":"Snoozed","antispyware":"Good","internet_settings":"Good","windows_security_center_service":"Good","user_account_control":"Poor"}"#,
        ],
        Table::WindowsSecurityProducts => [
            r#"{"type":"Antivirus","name":"Microsoft Defender Antivirus","state":"On","state_timestamp":"Thu, 18 Jul 2024 01:12:45 GMT","remediation_path":"windowsdefender://","signatures_up_to_date":"1"}"#,
            r#"{"type":"Firewall","name":"Windows Firewall","state":"Off","state_timestamp":"","remediation_path":"","signatures_up_to_date":"0"}"#,
        ],
        Table::BitlockerInfo => [
            r#"{"device_id":"\\\\?\\Volume{3f1e9c2a}\\","drive_letter":"C:","persistent_volume_id":"{D8B1A2E3}","conversion_status":"1","protection_status":"1"}"#,
            r#"{"device_id":"\\\\?\\Volume{4f1e9c2a}\\","drive_letter":"D:","persistent_volume_id":"","conversion_status":"0","protection_status":"0"}"#,
        ],
        Table::DiskEncryption => [
            r#"{"name":"/dev/disk3s1","uuid":"A1B2","encrypted":"1","type":"APFS Encryption","encryption_status":"encrypted","uid":"","user_uuid":"","filevault_status":"on"}"#,
            r#"{"name":"/dev/sda2","uuid":"C3D4","encrypted":"0","type":"","encryption_status":"not encrypted"}"#,
        ],
        Table::Certificates => [
            r#"{"common_name":"ISRG Root X1","subject":"ISRG Root X1","issuer":"ISRG Root X1","ca":"1","self_signed":"1","not_valid_before":"1433415148","not_valid_after":"2054232000","signing_algorithm":"sha256WithRSAEncryption","key_algorithm":"rsaEncryption","key_strength":"4096","key_usage":"","subject_key_id":"","authority_key_id":"","sha1":"CABD2A79A1076A31F21D253635CB039D4329A5E8","path":"","serial":"8210CFB0D240E3594463E0BB63828B00","store":"Root"}"#,
            r#"{"common_name":"Evil CA","issuer":"Evil CA","ca":"1","self_signed":"1","not_valid_after":"1900000000","sha1":"0000000000000000000000000000000000000001","store":"Root"}"#,
        ],
        Table::Hash => [
            r#"{"path":"C:\\Windows\\System32\\lsass.exe","directory":"C:\\Windows\\System32","md5":"4B1F5E5C1E8FA2CB6E1E3A9C0A8D3A21","sha1":"5d2b08a8f3c4b0d8f3a1e2c9b7a6d5e4f3c2b1a0","sha256":"0b3c5f1e2a9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa99"}"#,
            r#"{"path":"C:\\x.exe","directory":"C:\\","md5":"","sha1":"","sha256":"ab"}"#,
        ],
        Table::File => [
            r#"{"path":"C:\\Windows\\System32\\drivers\\etc\\hosts","directory":"C:\\Windows\\System32\\drivers\\etc","filename":"hosts","inode":"0","uid":"0","gid":"0","mode":"0666","device":"0","size":"824","block_size":"4096","atime":"1721300000","mtime":"1575670380","ctime":"1575670380","btime":"1575670380","hard_links":"1","symlink":"0","type":"regular"}"#,
            r#"{"path":"/tmp/x","directory":"/tmp","filename":"x","size":"12","type":"regular"}"#,
        ],
        Table::ProcessOpenSockets => [
            r#"{"pid":"688","fd":"0","socket":"0","family":"2","protocol":"6","local_address":"10.20.64.5","remote_address":"10.10.5.11","local_port":"50112","remote_port":"389","path":"","state":"ESTABLISHED","net_namespace":"0"}"#,
            r#"{"pid":"9316","family":"2","protocol":"6","remote_address":"45.133.7.9","remote_port":"443","state":"ESTABLISHED"}"#,
        ],
    }
}

/// The parsed values of a table, as strings, for comparison.
fn values(inv: &Inventory, t: Table) -> Vec<String> {
    match t {
        Table::OsVersion => inv
            .os
            .iter()
            .map(|o| {
                format!(
                    "{}|{}|{}.{}.{}|{}|{}",
                    o.name, o.version, o.major, o.minor, o.patch, o.build, o.platform
                )
            })
            .collect(),
        Table::SystemInfo => inv
            .system
            .iter()
            .map(|s| {
                format!(
                    "{}|{}|{}|{}",
                    s.hostname, s.uuid, s.hardware_serial, s.computer_name
                )
            })
            .collect(),
        Table::InterfaceAddresses => inv
            .addresses
            .iter()
            .map(|a| format!("{}|{:?}", a.interface, a.address))
            .collect(),
        Table::Programs => inv
            .programs
            .iter()
            .map(|p| format!("{}|{}|{}", p.name, p.version, p.publisher))
            .collect(),
        Table::Patches => inv
            .patches
            .iter()
            .map(|p| format!("{}|{}", p.hotfix_id, p.installed_on))
            .collect(),
        Table::Services => inv
            .services
            .iter()
            .map(|s| {
                format!(
                    "{}|{}|{}|{}|{}",
                    s.name, s.status, s.start_type, s.path, s.user_account
                )
            })
            .collect(),
        Table::Processes => inv
            .processes
            .iter()
            .map(|p| format!("{}|{}|{}|{}", p.pid, p.name, p.path, p.cmdline))
            .collect(),
        Table::ListeningPorts => inv
            .listening
            .iter()
            .map(|l| format!("{}|{}|{}|{}", l.pid, l.port, l.protocol, l.address))
            .collect(),
        Table::StartupItems => inv
            .startup
            .iter()
            .map(|s| format!("{}|{}|{}|{}", s.name, s.path, s.args, s.status))
            .collect(),
        Table::ScheduledTasks => inv
            .tasks
            .iter()
            .map(|s| format!("{}|{}|{}", s.name, s.path, s.enabled))
            .collect(),
        Table::Users => inv
            .users
            .iter()
            .map(|u| {
                format!(
                    "{}|{}|{}|{}|{}",
                    u.uid,
                    u.username,
                    u.uuid,
                    u.kind,
                    u.is_admin()
                )
            })
            .collect(),
        Table::WindowsSecurityCenter => inv
            .security_center
            .iter()
            .map(|w| format!("{}|{}|{}", w.firewall, w.antivirus, w.autoupdate))
            .collect(),
        Table::WindowsSecurityProducts => inv
            .security_products
            .iter()
            .map(|p| {
                format!(
                    "{}|{}|{}|{}",
                    p.kind, p.name, p.state, p.signatures_up_to_date
                )
            })
            .collect(),
        Table::BitlockerInfo => inv
            .bitlocker
            .iter()
            .map(|b| {
                format!(
                    "{}|{}|{}",
                    b.drive_letter, b.conversion_status, b.protection_status
                )
            })
            .collect(),
        Table::DiskEncryption => inv
            .disk_encryption
            .iter()
            .map(|d| format!("{}|{}|{}", d.name, d.encrypted, d.kind))
            .collect(),
        Table::Certificates => inv
            .certificates
            .iter()
            .map(|c| {
                format!(
                    "{}|{}|{}|{}|{}",
                    c.common_name, c.sha1, c.self_signed, c.not_valid_after, c.store
                )
            })
            .collect(),
        Table::Hash | Table::File => inv
            .files
            .iter()
            .map(|f| format!("{}|{}|{}|{}|{}", f.path, f.md5, f.sha1, f.sha256, f.size))
            .collect(),
        Table::ProcessOpenSockets => inv
            .sockets
            .iter()
            .map(|s| format!("{}|{:?}|{}", s.pid, s.remote_address, s.remote_port))
            .collect(),
    }
}

/// What each sample row must parse to.
fn expected(t: Table) -> [&'static str; 2] {
    match t {
        Table::OsVersion => [
            "Microsoft Windows 11 Enterprise|10.0.22631|10.0.-1|22631|windows",
            "Ubuntu|22.04.4 LTS (Jammy Jellyfish)|22.4.0||ubuntu",
        ],
        Table::SystemInfo => [
            "th-ws00001|4C4C4544-0042-3510-8052-B4C04F4B4A32|5CG1234567|TH-WS00001",
            "th-ws00001b|U2|5CG1234567|TH-WS00001",
        ],
        Table::InterfaceAddresses => [
            "Ethernet|Some(10.20.64.5)",
            "en0|Some(fe80::1c2a:3bff:fe4d:5e6f)",
        ],
        Table::Programs => [
            "7-Zip 23.01 (x64)|23.01|Igor Pavlov",
            "Google Chrome|126.0.6478.127|Google LLC",
        ],
        Table::Patches => ["KB5040442|7/10/2024", "KB890830|7/11/2024"],
        Table::Services => [
            "Sense|RUNNING|AUTO_START|C:\\Program Files\\Windows Defender Advanced Threat Protection\\MsSense.exe|LocalSystem",
            "Spooler|STOPPED|DISABLED|C:\\Windows\\System32\\spoolsv.exe|LocalSystem",
        ],
        Table::Processes => [
            "688|lsass.exe|C:\\Windows\\System32\\lsass.exe|C:\\Windows\\system32\\lsass.exe",
            "9316|rundll32.exe|C:\\Windows\\System32\\rundll32.exe|rundll32.exe C:\\Users\\Public\\x.dll,Start",
        ],
        Table::ListeningPorts => ["1236|3389|6|0.0.0.0", "4|137|17|10.20.64.5"],
        Table::StartupItems => [
            "OneDrive|C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe|/background|enabled",
            "Updater|C:\\Users\\user\\AppData\\Roaming\\u.exe||enabled",
        ],
        Table::ScheduledTasks => [
            "\\Microsoft\\Windows\\Defrag\\ScheduledDefrag|%windir%\\system32\\defrag.exe|true",
            "\\Evil|c:\\x.exe|false",
        ],
        Table::Users => [
            "500|Administrator|S-1-5-21-1004336348-1177238915-682003330-500|local|true",
            "1003|support|S-1-5-21-1-1003|local|true",
        ],
        Table::WindowsSecurityCenter => ["Good|Good|Good", "Poor|Snoozed|Good"],
        Table::WindowsSecurityProducts => [
            "Antivirus|Microsoft Defender Antivirus|On|true",
            "Firewall|Windows Firewall|Off|false",
        ],
        Table::BitlockerInfo => ["C:|1|1", "D:|0|0"],
        Table::DiskEncryption => ["/dev/disk3s1|true|APFS Encryption", "/dev/sda2|false|"],
        Table::Certificates => [
            "ISRG Root X1|cabd2a79a1076a31f21d253635cb039d4329a5e8|true|2054232000|Root",
            "Evil CA|0000000000000000000000000000000000000001|true|1900000000|Root",
        ],
        Table::Hash => [
            "C:\\Windows\\System32\\lsass.exe|4b1f5e5c1e8fa2cb6e1e3a9c0a8d3a21|5d2b08a8f3c4b0d8f3a1e2c9b7a6d5e4f3c2b1a0|0b3c5f1e2a9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa99|-1",
            "C:\\x.exe|||ab|-1",
        ],
        Table::File => [
            "C:\\Windows\\System32\\drivers\\etc\\hosts||||824",
            "/tmp/x||||12",
        ],
        Table::ProcessOpenSockets => ["688|Some(10.10.5.11)|389", "9316|Some(45.133.7.9)|443"],
    }
}

fn head(query: &str, host: &str, time: &str) -> String {
    format!(
        r#""name":"pack/Global/{query}","hostIdentifier":"{host}","calendarTime":"Tue Jul 16 03:14:31 2024 UTC","unixTime":{time},"epoch":"0","counter":"1","numerics":false,"decorations":{{"host_uuid":"{host}-uuid","hostname":"{host}"}}"#
    )
}

#[test]
fn every_table_reads_from_snapshot_batch_and_event_lines() {
    for t in Table::ALL {
        let [a, b] = samples(t);
        let q = t.as_str();
        let lines = [
            // Snapshot: the whole table (numeric unixTime, as newer osquery writes it).
            format!(
                r#"{{"snapshot":[{a},{b}],"action":"snapshot",{}}}"#,
                head(q, "snap", "1721099671")
            ),
            // Batch: both rows added ("removed" written as ""), then the second removed.
            format!(
                r#"{{"diffResults":{{"added":[{a},{b}],"removed":""}},{}}}"#,
                head(q, "batch", "\"1721099671\"")
            ),
            format!(
                r#"{{"diffResults":{{"added":[],"removed":[{b}]}},{}}}"#,
                head(q, "batch", "\"1721103271\"")
            ),
            // Event format: one row per line.
            format!(
                r#"{{"columns":{a},"action":"added",{}}}"#,
                head(q, "event", "1721099671")
            ),
            format!(
                r#"{{"columns":{b},"action":"added",{}}}"#,
                head(q, "event", "1721099672")
            ),
            format!(
                r#"{{"columns":{b},"action":"removed",{}}}"#,
                head(q, "event", "1721099673")
            ),
        ];
        let mut c = Collector::new();
        for (n, l) in lines.iter().enumerate() {
            c.feed_line("results.log", n as u64 + 1, l.as_bytes());
        }
        let (invs, stats) = c.finish();
        if t == Table::SystemInfo {
            // The sample rows name other hosts than the decorations do: that is a clash,
            // counted, and the rows are still read.
            assert!(stats.count(ProblemKind::ClashingDecoration) > 0);
            assert!(
                stats
                    .samples
                    .iter()
                    .all(|p| p.kind == ProblemKind::ClashingDecoration)
            );
        } else {
            assert!(stats.problems.is_empty(), "{q}: {:?}", stats.samples);
        }
        assert_eq!(stats.rows, 2 + 3 + 3, "{q}: rows applied");
        let get = |h: &str| {
            invs.iter()
                .find(|i| i.host_id == format!("{h}-uuid"))
                .unwrap_or_else(|| panic!("{q}: host {h}"))
        };
        let [ea, eb] = expected(t);
        assert_eq!(
            values(get("snap"), t),
            vec![ea.to_string(), eb.to_string()],
            "{q}: snapshot"
        );
        assert_eq!(values(get("batch"), t), vec![ea.to_string()], "{q}: batch");
        assert_eq!(values(get("event"), t), vec![ea.to_string()], "{q}: event");
        assert_eq!(
            get("batch").last_seen,
            Some(1_721_103_271),
            "{q}: newest unixTime"
        );
        assert_eq!(get("event").hostname, "event");
    }
}

#[test]
fn a_snapshot_replaces_earlier_rows_and_a_later_batch_builds_on_it() {
    let [a, b] = samples(Table::Programs);
    let mut c = Collector::new();
    c.feed_line(
        "r",
        1,
        format!(
            r#"{{"snapshot":[{a}],"action":"snapshot",{}}}"#,
            head("programs", "h", "1")
        )
        .as_bytes(),
    );
    c.feed_line(
        "r",
        2,
        format!(
            r#"{{"snapshot":[{b}],"action":"snapshot",{}}}"#,
            head("programs", "h", "2")
        )
        .as_bytes(),
    );
    c.feed_line(
        "r",
        3,
        format!(
            r#"{{"diffResults":{{"added":[{a}],"removed":[]}},{}}}"#,
            head("programs", "h", "3")
        )
        .as_bytes(),
    );
    let (invs, _) = c.finish();
    let names: Vec<&str> = invs[0].programs.iter().map(|p| &*p.name).collect();
    assert_eq!(names, ["Google Chrome", "7-Zip 23.01 (x64)"]);
}

#[test]
fn numerics_and_pack_names_are_accepted() {
    let line = r#"{"name":"pack:it:listening_ports","hostIdentifier":"h1","unixTime":1721099671,"numerics":true,"columns":{"pid":1236,"port":3389,"protocol":6,"family":2,"address":"0.0.0.0"},"action":"added"}"#;
    let mut c = Collector::new();
    c.feed_line("r", 1, line.as_bytes());
    let (invs, stats) = c.finish();
    assert!(stats.problems.is_empty());
    assert_eq!(invs[0].listening[0].port, 3389);
    assert_eq!(invs[0].listening[0].protocol, 6);
    assert_eq!(invs[0].host_id, "h1");
}

#[test]
fn bad_input_is_counted_with_file_and_line_and_never_panics() {
    let [a, _] = samples(Table::Programs);
    let good = format!(
        r#"{{"snapshot":[{a}],"action":"snapshot",{}}}"#,
        head("programs", "ok", "1721099671")
    );
    let huge_value = "x".repeat(sekisho_fleet::parse::MAX_ROW_BYTES + 10);
    let many_cols: String = (0..300)
        .map(|i| format!(r#""c{i}":"v""#))
        .collect::<Vec<_>>()
        .join(",");
    let lines: Vec<String> = vec![
        good.clone(),                                                  // 1
        good[..good.len() / 2].to_string(),                            // 2 truncated
        format!(r#"{{"snapshot":[],"action":"snapshot",{}}}"#, head("kernel_modules", "ok", "1")), // 3 unknown table
        format!(r#"{{"columns":{{"name":"{huge_value}"}},"action":"added",{}}}"#, head("programs", "ok", "1")), // 4 huge row (bytes)
        format!(r#"{{"columns":{{{many_cols}}},"action":"added",{}}}"#, head("programs", "ok", "1")), // 5 huge row (columns)
        format!(r#"{{"columns":{{"name":["a"]}},"action":"added",{}}}"#, head("programs", "ok", "1")), // 6 bad row
        r#"{"hello":"world"}"#.to_string(),                            // 7 not a result
        // 8, 9: one host id, two machines (serials differ): duplicate host id.
        r#"{"name":"system_info","hostIdentifier":"dup","unixTime":"1","decorations":{"host_uuid":"CLONED","hostname":"a1","hardware_serial":"S1"},"snapshot":[],"action":"snapshot"}"#.to_string(),
        r#"{"name":"system_info","hostIdentifier":"dup","unixTime":"1","decorations":{"host_uuid":"CLONED","hostname":"a1","hardware_serial":"S2"},"snapshot":[],"action":"snapshot"}"#.to_string(),
        // 10: same id and serial, another hostname decoration: clashing decoration.
        r#"{"name":"system_info","hostIdentifier":"dup","unixTime":"1","decorations":{"host_uuid":"CLONED","hostname":"b2","hardware_serial":"S1"},"snapshot":[],"action":"snapshot"}"#.to_string(),
        "\u{0}\u{1}garbage".to_string(),                              // 11
        r#"{"name":"programs","hostIdentifier":"","snapshot":[]}"#.to_string(), // 12 no host
    ];
    let mut c = Collector::new();
    for (n, l) in lines.iter().enumerate() {
        c.feed_line("bad.log", n as u64 + 1, l.as_bytes());
    }
    let (invs, stats) = c.finish();
    let at = |k: ProblemKind| -> Vec<u64> {
        stats
            .samples
            .iter()
            .filter(|p| p.kind == k)
            .map(|p| p.line)
            .collect()
    };
    assert_eq!(at(ProblemKind::BadJson), [2, 11]);
    assert_eq!(at(ProblemKind::UnknownTable), [3]);
    assert_eq!(at(ProblemKind::HugeRow), [4, 5]);
    assert_eq!(at(ProblemKind::BadRow), [6]);
    assert_eq!(at(ProblemKind::NotAResult), [7, 12]);
    assert_eq!(at(ProblemKind::DuplicateHostId), [9]);
    assert_eq!(at(ProblemKind::ClashingDecoration), [10]);
    assert!(stats.samples.iter().all(|p| p.file == "bad.log"));
    // The good line still made its host.
    let ok = invs
        .iter()
        .find(|i| i.host_id == "ok-uuid")
        .expect("good host kept");
    assert_eq!(ok.programs.len(), 1);
}

#[test]
fn row_and_host_bounds_hold() {
    let mut c = Collector::new();
    let row = r#"{"name":"p","version":"1"}"#;
    let rows = vec![row; sekisho_fleet::MAX_ROWS_PER_TABLE + 5].join(",");
    c.feed_line(
        "big.log",
        1,
        format!(
            r#"{{"snapshot":[{rows}],"action":"snapshot",{}}}"#,
            head("programs", "h", "1")
        )
        .as_bytes(),
    );
    let (invs, stats) = c.finish();
    assert_eq!(invs[0].programs.len(), sekisho_fleet::MAX_ROWS_PER_TABLE);
    assert_eq!(stats.count(ProblemKind::RowCap), 5);
}

#[test]
fn files_gzip_long_lines_and_osqueryi_dumps_are_read() {
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("sekisho-fleet-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("dumps/ws-7")).unwrap();
    let [a, b] = samples(Table::Programs);
    let line = format!(
        r#"{{"snapshot":[{a}],"action":"snapshot",{}}}"#,
        head("programs", "gz", "1721099671")
    );
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(line.as_bytes()).unwrap();
    gz.write_all(b"\n").unwrap();
    std::fs::write(dir.join("a.results.log.gz"), gz.finish().unwrap()).unwrap();
    // A truncated gzip file: counted, no panic.
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(line.repeat(50).as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    std::fs::write(dir.join("b.results.log.gz"), &bytes[..bytes.len() / 2]).unwrap();
    // A line over the limit, then a good line.
    let mut long = vec![b'x'; sekisho_fleet::source::MAX_LINE_BYTES + 100];
    long.push(b'\n');
    long.extend_from_slice(
        line.replace("\"gz\"", "\"long\"")
            .replace("gz-uuid", "long-uuid")
            .as_bytes(),
    );
    std::fs::write(dir.join("c.results.log"), long).unwrap();
    std::fs::write(
        dir.join("dumps/ws-7/programs.json"),
        format!("[\n  {a},\n  {b}\n]\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("dumps/ws-7/os_version.json"),
        format!("[{}]", samples(Table::OsVersion)[0]),
    )
    .unwrap();

    let (invs, stats) = sekisho_fleet::source::read_inventories(std::slice::from_ref(&dir), 2);
    let ids: Vec<&str> = invs.iter().map(|i| i.host_id.as_str()).collect();
    assert_eq!(ids, ["gz-uuid", "long-uuid", "ws-7"], "{:?}", stats.samples);
    assert_eq!(stats.count(ProblemKind::LineTooLong), 1);
    assert_eq!(
        stats
            .samples
            .iter()
            .find(|p| p.kind == ProblemKind::LineTooLong)
            .map(|p| p.line),
        Some(1)
    );
    assert_eq!(stats.count(ProblemKind::Io), 1, "{:?}", stats.samples);
    let ws7 = &invs[2];
    assert_eq!(ws7.programs.len(), 2);
    assert_eq!(&*ws7.os[0].build, "22631");
    assert!(ws7.last_seen.is_some(), "dump time comes from the file");
    let _ = std::fs::remove_dir_all(&dir);
}
