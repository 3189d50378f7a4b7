//! Saved hunts (`[[hunt]]`) in the org file: parsed in order, names unique, unknown keys refused
//! with the line they are on.

use sekisho_model::Org;

const HEAD: &str = r#"
[org]
name = "Example"

[[site]]
id = "jp-hq"
country = "JP"
timezone = "Asia/Tokyo"
networks = ["10.10.0.0/16"]
"#;

#[test]
fn saved_hunts_are_parsed_in_order() {
    let text = format!(
        "{HEAD}\n[[hunt]]\nname = \"overseas-rdp\"\nsql = \"SELECT * FROM flows WHERE service = 'rdp'\"\ndescription = \"RDP anywhere\"\n\n[[hunt]]\nname = \"top-talkers\"\nsql = \"SELECT src_ip, SUM(orig_bytes) FROM flows GROUP BY 1\"\n"
    );
    let org = Org::from_toml(&text, "org.toml").unwrap();
    assert_eq!(org.hunts.len(), 2);
    assert_eq!(org.hunts[0].name, "overseas-rdp");
    assert_eq!(
        org.hunts[0].sql,
        "SELECT * FROM flows WHERE service = 'rdp'"
    );
    assert_eq!(org.hunts[0].description.as_deref(), Some("RDP anywhere"));
    assert_eq!(org.hunts[1].name, "top-talkers");
    assert_eq!(org.hunts[1].description, None);
}

#[test]
fn no_hunts_is_fine() {
    let org = Org::from_toml(HEAD, "org.toml").unwrap();
    assert!(org.hunts.is_empty());
}

#[test]
fn duplicate_hunt_name_is_an_error_naming_the_line() {
    let text = format!(
        "{HEAD}\n[[hunt]]\nname = \"a\"\nsql = \"SELECT 1\"\n\n[[hunt]]\nname = \"a\"\nsql = \"SELECT 2\"\n"
    );
    let err = Org::from_toml(&text, "org.toml").unwrap_err();
    assert!(err.message.contains("defined twice"), "{err}");
    let line = text.lines().position(|l| l == "name = \"a\"").unwrap();
    // The second definition is the one blamed.
    let second = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "name = \"a\"")
        .nth(1)
        .unwrap()
        .0;
    assert!(second > line);
    assert_eq!(err.line, second + 1, "{err}");
}

#[test]
fn unknown_key_in_hunt_is_an_error_naming_the_line() {
    let text = format!("{HEAD}\n[[hunt]]\nname = \"a\"\nsql = \"SELECT 1\"\nquery = \"x\"\n");
    let err = Org::from_toml(&text, "org.toml").unwrap_err();
    assert!(err.message.contains("query"), "{err}");
    let line = text.lines().position(|l| l.starts_with("query")).unwrap() + 1;
    assert_eq!(err.line, line, "{err}");
}

#[test]
fn missing_sql_and_bad_names_are_errors() {
    let text = format!("{HEAD}\n[[hunt]]\nname = \"a\"\n");
    let err = Org::from_toml(&text, "org.toml").unwrap_err();
    assert!(err.message.contains("sql"), "{err}");

    let text = format!("{HEAD}\n[[hunt]]\nname = \"has space\"\nsql = \"SELECT 1\"\n");
    let err = Org::from_toml(&text, "org.toml").unwrap_err();
    assert!(err.message.contains("hunt name"), "{err}");

    let text = format!("{HEAD}\n[[hunt]]\nname = \"a\"\nsql = \"  \"\n");
    let err = Org::from_toml(&text, "org.toml").unwrap_err();
    assert!(err.message.contains("empty"), "{err}");
}
