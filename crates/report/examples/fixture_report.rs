//! Writes the four report files of the test fixture into a directory, to look at them:
//!
//! ```text
//! cargo run -p sekisho-report --example fixture_report -- /tmp/report-check
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| std::path::PathBuf::from("report-check"), Into::into);
    let f = common::fixture();
    match sekisho_report::write_all(&dir, &f.analysis()) {
        Ok(w) => {
            print!("{}", sekisho_report::terminal_summary(&f.analysis(), false));
            for p in w.paths() {
                println!("wrote {}", p.display());
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
