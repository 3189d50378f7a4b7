//! Property tests: whatever an attacker puts in the strings sekisho reports, the HTML stays
//! our markup, Markdown tables keep their shape and the terminal gets no escape sequence.

mod common;

use common::{check_markup, check_md_tables, fixture};
use proptest::prelude::*;
use sekisho_report::{html, markdown, terminal_summary};

/// Arbitrary text, biased towards the characters that matter to HTML, Markdown and
/// terminals.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[<>&\"'|`*_\\[\\]\\\\/=a-z \\n\\r\\t\\x1b\\x07\\x9b\u{202e}\u{2028};:#!-]{0,48}",
        Just("\"><script>alert(1)</script><svg onload=alert(2)>".to_string()),
        Just("' onmouseover='alert(3)".to_string()),
        Just("</title></text></svg><img src=//evil.example/x>".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_strings_never_become_markup_or_escape_sequences(
        summary in hostile(),
        user in hostile(),
        share in hostile(),
        sensor in hostile(),
        detail in hostile(),
        detector in hostile(),
    ) {
        // The same analysis with benign strings but the same detector (detector names
        // decide how many table rows there are).
        let build = |summary: &str, user: &str, share: &str, sensor: &str, detail: &str| {
            let mut f = fixture();
            f.alerts[1].summary = summary.to_string();
            f.alerts[1].context.users = vec![user.to_string()];
            f.alerts[1].context.shares = vec![share.to_string()];
            f.alerts[1].evidence[0].sensor = sensor.into();
            f.alerts[2].detector = detector.clone();
            f.incidents[0].timeline[1].summary = summary.to_string();
            f.incidents[0].timeline[2].detector = detector.clone();
            f.incidents[0].detectors.push(detector.clone());
            f.incidents[0].users.push(user.to_string());
            f.stats.samples[0].detail = detail.to_string();
            f
        };
        let f = build(&summary, &user, &share, &sensor, &detail);
        let benign = build("x", "x", "x", "x", "x");
        let a = f.analysis();

        let page = html(&a);
        prop_assert!(check_markup(&page).is_ok(), "{:?}", check_markup(&page));
        prop_assert_eq!(page.matches("<svg").count(), 4);

        let md = markdown(&a);
        prop_assert!(check_md_tables(&md).is_ok(), "{:?}", check_md_tables(&md));

        let plain = terminal_summary(&a, false);
        prop_assert!(!plain.chars().any(|c| c.is_control() && c != '\n'));
        prop_assert_eq!(
            plain.lines().count(),
            terminal_summary(&benign.analysis(), false).lines().count()
        );
    }
}
