//! Terminal concerns shared by the commands: colour, progress.

use indicatif::{ProgressBar, ProgressStyle};
use sekisho_engine::Progress;
use std::io::IsTerminal;
use std::time::Duration;

/// Colour on stdout only for a terminal, and never when NO_COLOR is set.
pub fn stdout_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// A spinner with records read and rate on stderr, hidden when stderr is not a terminal.
pub fn reading_bar() -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Updates the bar from engine progress.
pub fn show(bar: &ProgressBar, p: Progress) {
    let secs = bar.elapsed().as_secs_f64().max(1e-3);
    bar.set_message(format!(
        "{} records ({:.0}/s), {} MB, files {}/{}",
        p.records,
        p.records as f64 / secs,
        p.bytes / 1_000_000,
        p.files_done,
        p.files_total
    ));
}
