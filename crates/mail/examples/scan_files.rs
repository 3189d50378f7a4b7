//! Scans the files given and prints one line per reason: `file level score id evidence`.
//! `cargo run -p sekisho-mail --example scan_files -- FILE...`
fn main() {
    let policy = sekisho_mail::MailPolicy::default();
    for p in std::env::args().skip(1) {
        let Ok(b) = std::fs::read(&p) else { continue };
        let v = sekisho_mail::scan(&b, &policy);
        let name = p.rsplit('/').next().unwrap_or(&p);
        for r in &v.reasons {
            println!(
                "{name}\t{}\t{:.1}\t{}\t{:.1}\t{}",
                v.level.as_str(),
                v.score,
                r.id,
                r.weight,
                r.evidence.replace('\n', " ")
            );
        }
        if v.reasons.is_empty() {
            println!("{name}\t{}\t{:.1}\t-\t0\t-", v.level.as_str(), v.score);
        }
    }
}
