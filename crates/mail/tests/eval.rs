//! Evaluation on real mail nobody here wrote (../shared/data/mail): 495 phishing emails
//! and 2,075 legitimate ones from 2002. At the default threshold, detection must be at
//! least 90 % and false positives at most 1 %. No rule names a file or a sample; the
//! eval has no organisation domains (these phish imitate other brands).

use sekisho_mail::{Level, MailPolicy, scan};
mod common;

use common::{data_dir, eml_files};
use std::collections::BTreeMap;
use std::path::Path;

struct SetResult {
    total: usize,
    flagged: usize,
    by_reason: BTreeMap<&'static str, usize>,
    flagged_paths: Vec<(String, f64, Vec<&'static str>)>,
    missed: Vec<(String, f64, Vec<&'static str>)>,
}

fn run(dir: &Path, policy: &MailPolicy) -> SetResult {
    let files = eml_files(dir);
    let mut r = SetResult {
        total: 0,
        flagged: 0,
        by_reason: BTreeMap::new(),
        flagged_paths: vec![],
        missed: vec![],
    };
    for f in files {
        let bytes = std::fs::read(&f).expect("readable");
        let v = scan(&bytes, policy);
        r.total += 1;
        let ids: Vec<&'static str> = v
            .reasons
            .iter()
            .filter(|x| x.weight > 0.0)
            .map(|x| x.id)
            .collect();
        for id in &ids {
            *r.by_reason.entry(id).or_default() += 1;
        }
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if v.level != Level::Clean {
            r.flagged += 1;
            r.flagged_paths.push((name, v.score, ids));
        } else {
            r.missed.push((name, v.score, ids));
        }
    }
    r
}

#[test]
fn detection_and_false_positives_on_real_mail() {
    let policy = MailPolicy::default();
    let phish = run(&data_dir().join("phish"), &policy);
    let ham = run(&data_dir().join("ham"), &policy);
    assert_eq!(phish.total, 495, "phish set size");
    assert_eq!(ham.total, 2075, "ham set size");
    let detection = phish.flagged as f64 / phish.total as f64;
    let fp = ham.flagged as f64 / ham.total as f64;
    println!(
        "detection {:.2}% ({}/{}), false positives {:.2}% ({}/{})",
        detection * 100.0,
        phish.flagged,
        phish.total,
        fp * 100.0,
        ham.flagged,
        ham.total
    );
    println!("reason            phish   ham");
    let ids: std::collections::BTreeSet<_> =
        phish.by_reason.keys().chain(ham.by_reason.keys()).collect();
    for id in ids {
        println!(
            "{id:<28} {:>5} {:>5}",
            phish.by_reason.get(id).unwrap_or(&0),
            ham.by_reason.get(id).unwrap_or(&0)
        );
    }
    if std::env::var_os("MAIL_EVAL_VERBOSE").is_some() {
        for (p, s, ids) in &ham.flagged_paths {
            println!("FP {p} {s:.1} {ids:?}");
        }
        for (p, s, ids) in &phish.missed {
            println!("MISS {p} {s:.1} {ids:?}");
        }
    }
    // The target: detection >= 0.90 and false positives <= 0.01, with general rules
    // only (no rule names a file, sample, sender or subject; no credit for missing
    // authentication headers; header mismatches count only next to another signal).
    // The defaults reach 0.915 (453/495) at 0.67 % (14/2,075): the margin is seven
    // messages, so a regression of a few signals fails here.
    assert!(
        detection >= 0.90,
        "detection {detection:.3} below the 0.90 target"
    );
    assert!(fp <= 0.01, "false positives {fp:.3} above 0.01");
}
