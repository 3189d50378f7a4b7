//! The mail scanner over arbitrary bytes: must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static POLICY: OnceLock<sekisho_mail::MailPolicy> = OnceLock::new();
    let policy = POLICY.get_or_init(|| {
        sekisho_mail::MailPolicy::new(
            &["example-hi.com".into()],
            &["Example Heavy Industries".into()],
        )
    });
    let _ = sekisho_mail::scan(data, policy);
    let _ = sekisho_mail::discover::classify_bytes(data);
    let _ = sekisho_mail::parse_weights(&String::from_utf8_lossy(data));
});
