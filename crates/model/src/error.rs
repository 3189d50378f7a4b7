use std::fmt;
use std::ops::Range;

/// A problem in an organisation file, with the line and column it is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    /// File name as given by the caller (for messages only).
    pub file: String,
    /// 1-based line; 0 when the problem is not at one place (an unreadable file).
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for ModelError {}

/// Turns byte spans of the source into line/column errors.
#[derive(Debug)]
pub(crate) struct Locator<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Locator<'_> {
    pub fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> ModelError {
        let (line, column) = match span {
            Some(span) => self.line_col(span.start),
            None => (0, 0),
        };
        ModelError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    /// 1-based line of a span's start.
    pub fn line(&self, span: Range<usize>) -> usize {
        self.line_col(span.start).0
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        (line, column)
    }
}
