//! Weekly time windows such as `Mon-Fri 08:00-19:00`, evaluated in a site's local time.

use std::fmt;

/// A point in a site's local week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalTime {
    /// 0 = Monday ... 6 = Sunday.
    pub weekday: u8,
    /// Minutes since local midnight, 0..1440.
    pub minute: u16,
    /// Local calendar day as days since 1970-01-01 (for per-day grouping).
    pub day: i32,
}

/// A set of weekly intervals: `Mon-Fri 08:00-19:00, Sat 09:00-13:00`. An interval whose end
/// is before its start runs past midnight (`Mon-Fri 22:00-06:00`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeeklyWindow {
    spans: Vec<Span>,
    text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    days: [bool; 7],
    start: u16,
    end: u16,
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WeeklyWindow {
    /// Parses `Mon-Fri 08:00-19:00[, <more>]`. Days: `Mon`..`Sun`, ranges (`Mon-Fri`, may
    /// wrap: `Fri-Mon`), lists (`Mon,Wed`), `Daily`. Times `HH:MM`, `24:00` allowed as an end.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut spans = Vec::new();
        for part in text.split(';').flat_map(split_segments) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (days, times) = part
                .rsplit_once(char::is_whitespace)
                .ok_or_else(|| format!("`{part}`: expected `DAYS HH:MM-HH:MM`"))?;
            let days = parse_days(days.trim())?;
            let (start, end) = times
                .split_once('-')
                .ok_or_else(|| format!("`{times}`: expected `HH:MM-HH:MM`"))?;
            let start = parse_hhmm(start)?;
            let end = parse_hhmm(end)?;
            if start == end {
                return Err(format!("`{times}`: empty interval"));
            }
            spans.push(Span { days, start, end });
        }
        if spans.is_empty() {
            return Err("empty time window".to_string());
        }
        Ok(Self {
            spans,
            text: text.to_string(),
        })
    }

    /// True when `t` lies inside the window.
    pub fn contains(&self, t: LocalTime) -> bool {
        let wd = t.weekday as usize % 7;
        self.spans.iter().any(|s| {
            if s.start < s.end {
                s.days[wd] && t.minute >= s.start && t.minute < s.end
            } else {
                // Past midnight: the evening part belongs to the listed day, the morning part
                // to the day after it.
                (s.days[wd] && t.minute >= s.start) || (s.days[(wd + 6) % 7] && t.minute < s.end)
            }
        })
    }
}

impl fmt::Display for WeeklyWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Splits `Mon-Fri 08:00-19:00, Sat 09:00-12:00` into segments, but not `Mon,Wed 09:00-10:00`
/// (a comma inside the day list).
fn split_segments(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == ',' {
            let before = &text[start..i];
            if before.contains(':') {
                out.push(before);
                start = i + 1;
            }
        }
    }
    out.push(&text[start..]);
    out
}

fn parse_days(s: &str) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    if s.eq_ignore_ascii_case("daily") || s.eq_ignore_ascii_case("every-day") {
        return Ok([true; 7]);
    }
    for item in s.split(',') {
        let item = item.trim();
        let (a, b) = item.split_once('-').unwrap_or((item, item));
        let a = day_index(a)?;
        let b = day_index(b)?;
        let mut d = a;
        loop {
            days[d] = true;
            if d == b {
                break;
            }
            d = (d + 1) % 7;
        }
    }
    Ok(days)
}

fn day_index(s: &str) -> Result<usize, String> {
    let lower = s.trim().to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|d| lower.len() >= 3 && lower.starts_with(d))
        .ok_or_else(|| format!("`{s}` is not a day (Mon..Sun)"))
}

fn parse_hhmm(s: &str) -> Result<u16, String> {
    let s = s.trim();
    let (h, m) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not HH:MM"))?;
    let h: u16 = h.parse().map_err(|_| format!("`{s}` is not HH:MM"))?;
    let m: u16 = m.parse().map_err(|_| format!("`{s}` is not HH:MM"))?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(format!("`{s}` is not a time of day"));
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(weekday: u8, h: u16, m: u16) -> LocalTime {
        LocalTime {
            weekday,
            minute: h * 60 + m,
            day: 0,
        }
    }

    #[test]
    fn business_hours_cover_weekdays_only() {
        let w = WeeklyWindow::parse("Mon-Fri 08:00-19:00").unwrap();
        assert!(w.contains(at(0, 8, 0)));
        assert!(w.contains(at(4, 18, 59)));
        assert!(!w.contains(at(4, 19, 0)));
        assert!(!w.contains(at(5, 12, 0)));
        assert!(!w.contains(at(2, 7, 59)));
    }

    #[test]
    fn overnight_and_multiple_segments() {
        let w = WeeklyWindow::parse("Fri 22:00-06:00, Sat,Sun 10:00-12:00").unwrap();
        assert!(w.contains(at(4, 23, 0)));
        assert!(w.contains(at(5, 5, 59)));
        assert!(!w.contains(at(4, 5, 0)));
        assert!(w.contains(at(6, 11, 0)));
        assert!(!w.contains(at(0, 11, 0)));
    }

    #[test]
    fn bad_windows_are_rejected_with_a_reason() {
        for bad in [
            "",
            "Mon-Fri",
            "Mon-Fri 8-19",
            "Moo 08:00-09:00",
            "Mon 25:00-26:00",
            "Mon 08:00-08:00",
        ] {
            assert!(WeeklyWindow::parse(bad).is_err(), "{bad}");
        }
    }
}
