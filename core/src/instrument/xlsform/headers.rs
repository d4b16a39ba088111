//! What each column header means, with pyxform's aliases and its rules for
//! splitting `label::English (en)` into a column and a language.

/// The XLSForm sheets whose headers we interpret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SheetKind {
    Survey,
    Choices,
    Settings,
}

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    Type,
    Name,
    Label,
    Hint,
    GuidanceHint,
    Required,
    RequiredMessage,
    Constraint,
    ConstraintMessage,
    Relevant,
    Calculation,
    Default,
    ReadOnly,
    Appearance,
    ChoiceFilter,
    RepeatCount,
    Parameters,
    /// `image`, `big-image`, `audio`, `video`.
    Media(String),
    Trigger,
    Pii,
    Preload,
    Disabled,
    /// choices: `list_name`.
    ListName,
    /// A `bind::X`, `body::X` or `instance::X` column on the survey sheet,
    /// kept verbatim under this key; or, on the choices and settings sheets,
    /// any other column under its header.
    Extra(String),
}

impl Field {
    /// Fields that take a language suffix.
    pub fn translatable(&self) -> bool {
        matches!(
            self,
            Field::Label
                | Field::Hint
                | Field::GuidanceHint
                | Field::RequiredMessage
                | Field::ConstraintMessage
                | Field::Media(_)
        )
    }

    /// The key this field is known by in [`super::SourceColumns`] and in
    /// messages (`relevant`, `label`, `image`).
    pub fn key(&self) -> String {
        match self {
            Field::Type => "type".into(),
            Field::Name => "name".into(),
            Field::Label => "label".into(),
            Field::Hint => "hint".into(),
            Field::GuidanceHint => "guidance_hint".into(),
            Field::Required => "required".into(),
            Field::RequiredMessage => "required_message".into(),
            Field::Constraint => "constraint".into(),
            Field::ConstraintMessage => "constraint_message".into(),
            Field::Relevant => "relevant".into(),
            Field::Calculation => "calculation".into(),
            Field::Default => "default".into(),
            Field::ReadOnly => "read_only".into(),
            Field::Appearance => "appearance".into(),
            Field::ChoiceFilter => "choice_filter".into(),
            Field::RepeatCount => "repeat_count".into(),
            Field::Parameters => "parameters".into(),
            Field::Media(kind) => kind.clone(),
            Field::Trigger => "trigger".into(),
            Field::Pii => "pii".into(),
            Field::Preload => "preload".into(),
            Field::Disabled => "disabled".into(),
            Field::ListName => "list_name".into(),
            Field::Extra(key) => key.clone(),
        }
    }
}

/// One interpreted header cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    /// 0-based column index.
    pub index: usize,
    pub header: String,
    pub field: Field,
    /// The language of a translatable column (`English (en)`); `None` for the
    /// unsuffixed column.
    pub lang: Option<String>,
}

/// Interprets a header. `double_colon` is true when any header of the sheet
/// uses `::`; only then does pyxform stop splitting on a single `:`.
pub(crate) fn parse(sheet: SheetKind, header: &str, double_colon: bool) -> (Field, Option<String>) {
    let tokens = split(header, double_colon);
    let first = snake(&tokens[0]);
    let rest = &tokens[1..];
    match sheet {
        SheetKind::Survey => survey_field(header, &first, rest),
        SheetKind::Choices => choices_field(header, &first, rest),
        SheetKind::Settings => (settings_field(header), None),
    }
}

/// Splits on `::`, or on `:` keeping `jr:x` together (pyxform's rule).
fn split(header: &str, double_colon: bool) -> Vec<String> {
    if double_colon || header.contains("::") {
        return header.split("::").map(|t| t.trim().to_string()).collect();
    }
    let parts: Vec<&str> = header.split(':').map(str::trim).collect();
    let mut out = Vec::with_capacity(parts.len());
    let mut i = 0;
    while i < parts.len() {
        if parts[i] == "jr" && i + 1 < parts.len() {
            out.push(format!("jr:{}", parts[i + 1]));
            i += 2;
        } else {
            out.push(parts[i].to_string());
            i += 1;
        }
    }
    out
}

/// `Required Message` -> `required_message`, as pyxform normalises.
pub(crate) fn snake(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join("_").to_lowercase()
}

fn lang(rest: &[String]) -> Option<String> {
    rest.first().filter(|l| !l.is_empty()).cloned()
}

fn survey_field(header: &str, first: &str, rest: &[String]) -> (Field, Option<String>) {
    let field = match first {
        "type" | "command" => Field::Type,
        "name" | "tag" | "value" => Field::Name,
        "label" | "caption" => Field::Label,
        "hint" => Field::Hint,
        "guidance_hint" => Field::GuidanceHint,
        "required" => Field::Required,
        "required_message" | "requiredmsg" | "jr:requiredmsg" => Field::RequiredMessage,
        "constraint" => Field::Constraint,
        "constraint_message" | "constraining_message" | "jr:constraintmsg" => {
            Field::ConstraintMessage
        }
        "relevant" | "relevance" => Field::Relevant,
        "calculation" | "calculate" => Field::Calculation,
        "default" => Field::Default,
        "read_only" | "readonly" => Field::ReadOnly,
        "appearance" => Field::Appearance,
        "choice_filter" => Field::ChoiceFilter,
        "repeat_count" | "count" | "jr:count" => Field::RepeatCount,
        "parameters" => Field::Parameters,
        "image" | "big-image" | "audio" | "video" => Field::Media(first.to_string()),
        "media" => match rest.first().map(|k| k.to_lowercase()) {
            Some(k) if matches!(k.as_str(), "image" | "big-image" | "audio" | "video") => {
                return (Field::Media(k), lang(&rest[1..]));
            }
            _ => Field::Extra(header.to_string()),
        },
        "trigger" => Field::Trigger,
        "pii" => Field::Pii,
        "preload" => Field::Preload,
        "disabled" => Field::Disabled,
        "bind" => {
            let field = bind_field(header, rest);
            let lang = if field.translatable() { rest.get(1..).and_then(lang) } else { None };
            return (field, lang);
        }
        "body" | "control" => match rest.first().map(String::as_str) {
            Some("appearance") => Field::Appearance,
            Some("jr:count") => Field::RepeatCount,
            _ => Field::Extra(header.to_string()),
        },
        _ => Field::Extra(header.to_string()),
    };
    let lang = if field.translatable() { lang(rest) } else { None };
    (field, lang)
}

/// `bind::relevant` means the relevant column, and so on; our own
/// `bind::enumera:pii` and `bind::enumera:preload` mean the pii and preload
/// columns; any other bind attribute is kept verbatim.
fn bind_field(header: &str, rest: &[String]) -> Field {
    match rest.first().map(String::as_str) {
        Some("relevant") => Field::Relevant,
        Some("required") => Field::Required,
        Some("constraint") => Field::Constraint,
        Some("calculate") => Field::Calculation,
        Some("readonly") => Field::ReadOnly,
        Some("jr:constraintMsg") => Field::ConstraintMessage,
        Some("jr:requiredMsg") => Field::RequiredMessage,
        Some("enumera:pii") => Field::Pii,
        Some("enumera:preload") => Field::Preload,
        _ => Field::Extra(header.to_string()),
    }
}

fn choices_field(header: &str, first: &str, rest: &[String]) -> (Field, Option<String>) {
    let field = match first {
        "list_name" => Field::ListName,
        "name" | "value" => Field::Name,
        "label" | "caption" => Field::Label,
        "image" | "big-image" | "audio" | "video" => Field::Media(first.to_string()),
        "media" => match rest.first().map(|k| k.to_lowercase()) {
            Some(k) if matches!(k.as_str(), "image" | "big-image" | "audio" | "video") => {
                return (Field::Media(k), lang(&rest[1..]));
            }
            _ => Field::Extra(header.to_string()),
        },
        // Extra columns keep their header as written: choice_filter
        // expressions name them.
        _ => Field::Extra(header.to_string()),
    };
    let lang = if field.translatable() { lang(rest) } else { None };
    (field, lang)
}

fn settings_field(header: &str) -> Field {
    let s = snake(header);
    match s.as_str() {
        "form_title" | "set_form_title" => Field::Label,
        "form_id" | "set_form_id" | "id_string" => Field::Name,
        _ => Field::Extra(s),
    }
}

/// Whether a language header names a machine-readable code, as pyxform wants:
/// `Name (code)` where the code looks like a BCP 47 tag (`en`, `pt-BR`, `bn`).
pub(crate) fn has_language_code(lang: &str) -> bool {
    if lang == "default" {
        return true;
    }
    let Some(open) = lang.rfind('(') else {
        return false;
    };
    let Some(code) = lang[open + 1..].strip_suffix(')') else {
        return false;
    };
    let mut parts = code.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && open > 0
}

/// Interprets every header of a sheet, reporting headers that repeat (the
/// same text twice, or two spellings of one column such as `calculate` and
/// `calculation`).
pub(crate) fn columns(
    sheet: &super::workbook::Sheet,
    sheet_label: &str,
    kind: SheetKind,
    diagnostics: &mut Vec<crate::instrument::Diagnostic>,
) -> Vec<Column> {
    use crate::instrument::{Diagnostic, Location};
    let double_colon = sheet.headers.iter().flatten().any(|h| h.contains("::"));
    let mut out: Vec<Column> = Vec::new();
    for (index, header) in sheet.headers.iter().enumerate() {
        let Some(header) = header else { continue };
        let (field, lang) = parse(kind, header, double_colon);
        let here = Location::cell(sheet_label, sheet.header_row, index);
        if let Some(prev) = out.iter().find(|c| c.field == field && c.lang == lang) {
            let what = if &prev.header == header {
                format!("column header '{header}' appears twice")
            } else {
                format!("column '{header}' means the same as column '{}'", prev.header)
            };
            diagnostics.push(Diagnostic::error(
                here,
                format!(
                    "{what} (first in column {}); keep one of them",
                    crate::instrument::diagnostic::column_letters(prev.index)
                ),
            ));
            continue;
        }
        out.push(Column { index, header: header.clone(), field, lang });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey(h: &str) -> (Field, Option<String>) {
        parse(SheetKind::Survey, h, h.contains("::"))
    }

    #[test]
    fn aliases_and_languages() {
        assert_eq!(survey("calculate"), (Field::Calculation, None));
        assert_eq!(survey("readonly"), (Field::ReadOnly, None));
        assert_eq!(survey("Required Message"), (Field::RequiredMessage, None));
        assert_eq!(
            parse(SheetKind::Survey, "jr:constraintMsg", false),
            (Field::ConstraintMessage, None)
        );
        assert_eq!(
            parse(SheetKind::Survey, "jr:requiredMsg::Bengali (bn)", true),
            (Field::RequiredMessage, Some("Bengali (bn)".into()))
        );
        assert_eq!(survey("label::English (en)"), (Field::Label, Some("English (en)".into())));
        assert_eq!(
            parse(SheetKind::Survey, "label:English (en)", false),
            (Field::Label, Some("English (en)".into()))
        );
        assert_eq!(survey("media::image"), (Field::Media("image".into()), None));
        assert_eq!(
            survey("media::image::Português (pt)"),
            (Field::Media("image".into()), Some("Português (pt)".into()))
        );
        assert_eq!(
            survey("big-image::English (en)"),
            (Field::Media("big-image".into()), Some("English (en)".into()))
        );
        assert_eq!(survey("repeat_count"), (Field::RepeatCount, None));
        assert_eq!(survey("Type"), (Field::Type, None));
    }

    #[test]
    fn bind_body_instance() {
        assert_eq!(survey("bind::enumera:pii"), (Field::Pii, None));
        assert_eq!(
            survey("bind::jr:constraintMsg::Bengali (bn)"),
            (Field::ConstraintMessage, Some("Bengali (bn)".into()))
        );
        assert_eq!(survey("bind::jr:requiredMsg"), (Field::RequiredMessage, None));
        assert_eq!(survey("bind::relevant"), (Field::Relevant, None));
        assert_eq!(survey("bind::odk:length"), (Field::Extra("bind::odk:length".into()), None));
        assert_eq!(survey("body::appearance"), (Field::Appearance, None));
        assert_eq!(survey("instance::odk:tag"), (Field::Extra("instance::odk:tag".into()), None));
    }

    #[test]
    fn choices_and_settings() {
        assert_eq!(parse(SheetKind::Choices, "list name", false).0, Field::ListName);
        assert_eq!(parse(SheetKind::Choices, "list_name", false).0, Field::ListName);
        assert_eq!(parse(SheetKind::Choices, "State", false).0, Field::Extra("State".into()));
        assert_eq!(parse(SheetKind::Settings, "form_title", false).0, Field::Label);
        assert_eq!(
            parse(SheetKind::Settings, "Default Language", false).0,
            Field::Extra("default_language".into())
        );
    }

    #[test]
    fn language_codes() {
        assert!(has_language_code("English (en)"));
        assert!(has_language_code("Português (pt-BR)"));
        assert!(has_language_code("বাংলা (bn)"));
        assert!(!has_language_code("English"));
        assert!(!has_language_code("English (english)"));
        assert!(!has_language_code("(en)"));
    }
}
