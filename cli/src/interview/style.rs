//! Colours as plain ANSI escapes, only where they help: on a terminal, and
//! never when `NO_COLOR` is set (<https://no-color.org>). Everything else
//! gets the bare text, so transcripts and dumb terminals stay readable.

use std::io::IsTerminal;

/// Whether to colour, decided once per interview.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    pub fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style { color: !no_color && std::io::stdout().is_terminal() }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }

    /// The question label.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Hints, progress, secondary information.
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Validation messages and errors.
    pub fn error(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// Confirmations (answer kept, finalized).
    pub fn ok(self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Warnings and questions to the enumerator (add another?).
    pub fn warn(self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Where we are (groups, repeat instances) and choice keys.
    pub fn accent(self, text: &str) -> String {
        self.paint("36", text)
    }
}

#[cfg(test)]
mod tests {
    use super::Style;

    #[test]
    fn plain_without_colour_and_escaped_with_it() {
        assert_eq!(Style { color: false }.error("bad"), "bad");
        assert_eq!(Style { color: true }.error("bad"), "\x1b[1;31mbad\x1b[0m");
        assert_eq!(Style { color: true }.dim("x"), "\x1b[2mx\x1b[0m");
    }
}
