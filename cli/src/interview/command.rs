//! What one line typed at the interview means: an answer, Enter, or a
//! `:command`. A line that really starts with `:` is typed as `::`.

/// One line of input, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An empty line: keep the answer (or skip) and go on.
    Keep,
    /// Anything else that is not a command, as typed (`::x` becomes `:x`).
    Answer(String),
    Command(Command),
}

/// The interview's commands (`:h` lists them for the user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Back,
    Next,
    /// `:j` alone shows the hierarchy and asks where to go.
    Jump(Option<String>),
    Add,
    Remove,
    Clear,
    /// `:l` alone lists the languages.
    Language(Option<String>),
    Save,
    Finalize,
    Help,
    Quit,
}

/// A `:word` that is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown command :{0} (type :h for the list)")]
pub struct UnknownCommand(pub String);

/// Understands one line (without its line ending).
pub fn parse(line: &str) -> Result<Input, UnknownCommand> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Ok(Input::Keep);
    }
    if let Some(literal) = line.strip_prefix("::") {
        return Ok(Input::Answer(format!(":{literal}")));
    }
    let Some(rest) = line.trim_start().strip_prefix(':') else {
        return Ok(Input::Answer(line.to_string()));
    };
    let (word, arg) = match rest.trim().split_once(char::is_whitespace) {
        Some((w, a)) => (w, Some(a.trim().to_string()).filter(|a| !a.is_empty())),
        None => (rest.trim(), None),
    };
    let command = match word.to_ascii_lowercase().as_str() {
        "b" | "back" => Command::Back,
        "n" | "next" => Command::Next,
        "j" | "jump" | "g" | "go" => Command::Jump(arg),
        "a" | "add" => Command::Add,
        "r" | "remove" => Command::Remove,
        "c" | "clear" => Command::Clear,
        "l" | "lang" | "language" => Command::Language(arg),
        "s" | "save" => Command::Save,
        "f" | "finalize" | "finalise" => Command::Finalize,
        "h" | "help" | "?" => Command::Help,
        "q" | "quit" | "exit" => Command::Quit,
        _ => return Err(UnknownCommand(word.to_string())),
    };
    Ok(Input::Command(command))
}

/// The help text shown by `:h`.
pub const HELP: &str = "\
Type the answer and press Enter. For a list of choices, type the number in
front of a choice or its value (several, separated by spaces, where more
than one may be chosen).
  Enter        keep the current answer (or skip) and go on
  :b           back to the previous question
  :n           next question, without checking this one
  :j [N|REF]   jump to screen N, a reference (/data/age) or a question name;
               alone, show the whole form and ask where to go
  :a           add a repeat instance (another member, visit, ...)
  :r           remove the repeat instance this question belongs to
  :c           clear the answer
  :l [LANG]    switch language; alone, list the languages
  :s           save and quit
  :f           finalize (refused, with the reasons, while something blocks it)
  :h           this help
  :q           quit
  ::text       answer a text that starts with ':'";

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(line: &str) -> Command {
        match parse(line) {
            Ok(Input::Command(c)) => c,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn empty_lines_keep() {
        assert_eq!(parse(""), Ok(Input::Keep));
        assert_eq!(parse("   \r\n"), Ok(Input::Keep));
    }

    #[test]
    fn answers_are_kept_as_typed() {
        assert_eq!(parse("34\n"), Ok(Input::Answer("34".into())));
        assert_eq!(parse(" Ana Maria "), Ok(Input::Answer(" Ana Maria ".into())));
        assert_eq!(parse("::colon"), Ok(Input::Answer(":colon".into())));
    }

    #[test]
    fn commands_short_and_long() {
        assert_eq!(cmd(":b"), Command::Back);
        assert_eq!(cmd(":back"), Command::Back);
        assert_eq!(cmd(" :N "), Command::Next);
        assert_eq!(cmd(":a"), Command::Add);
        assert_eq!(cmd(":r"), Command::Remove);
        assert_eq!(cmd(":c"), Command::Clear);
        assert_eq!(cmd(":s"), Command::Save);
        assert_eq!(cmd(":f"), Command::Finalize);
        assert_eq!(cmd(":h"), Command::Help);
        assert_eq!(cmd(":q"), Command::Quit);
    }

    #[test]
    fn commands_with_arguments() {
        assert_eq!(cmd(":j 12"), Command::Jump(Some("12".into())));
        assert_eq!(
            cmd(":j   /data/members[2]/age "),
            Command::Jump(Some("/data/members[2]/age".into()))
        );
        assert_eq!(cmd(":j"), Command::Jump(None));
        assert_eq!(cmd(":l Português (pt)"), Command::Language(Some("Português (pt)".into())));
        assert_eq!(cmd(":l"), Command::Language(None));
    }

    #[test]
    fn unknown_commands_are_errors() {
        assert_eq!(parse(":x"), Err(UnknownCommand("x".into())));
        assert!(parse(":xyz 3").unwrap_err().to_string().contains(":h"));
    }
}
