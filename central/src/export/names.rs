//! Variable names valid in Stata (32 characters) and SPSS (64 bytes):
//! ASCII letters, digits and `_`, not starting with a digit, no reserved
//! word, unique within a table (case-insensitively).
//!
//! A question is named after itself (`interview-capacity-cap_planning` is
//! `cap_planning`); when two questions of a table share a name, the second
//! takes its group as a prefix (`workplace_country`), then a number. The
//! questions are named first, so metadata never takes a question's name:
//! metadata is named after what it holds (`participant`, `round`, ...) and
//! becomes `meta_round` when the form has a question `round`. The codebook
//! lists every name beside the column it names.

use std::collections::HashSet;

use super::schema::Column;

/// The tool a name is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Stata,
    Spss,
}

impl Tool {
    pub fn max_len(self) -> usize {
        match self {
            Tool::Stata => 32,
            Tool::Spss => 64,
        }
    }

    fn reserved(self, name: &str) -> bool {
        const STATA: &[&str] = &[
            "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
            "_n", "_N", "_pi", "_pred", "_rc", "_skip", "strL", "using", "with",
        ];
        const SPSS: &[&str] =
            &["ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"];
        match self {
            Tool::Stata => STATA.contains(&name) || is_str_type(name),
            Tool::Spss => SPSS.iter().any(|r| r.eq_ignore_ascii_case(name)),
        }
    }
}

/// `str1`..`str2045` are type names in Stata.
fn is_str_type(name: &str) -> bool {
    name.strip_prefix("str").is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Hands out unique valid names for one table.
#[derive(Debug)]
pub struct Namer {
    tool: Tool,
    taken: HashSet<String>,
}

impl Namer {
    pub fn new(tool: Tool) -> Self {
        Namer { tool, taken: HashSet::new() }
    }

    fn free(&self, name: &str) -> bool {
        !self.taken.contains(&name.to_ascii_lowercase())
    }

    /// The first free one of `wanted` (each made valid), or the first with a number.
    pub fn first_free(&mut self, wanted: &[&str]) -> String {
        let valid: Vec<String> = wanted.iter().map(|w| sanitize(w, self.tool)).collect();
        if let Some(free) = valid.iter().find(|v| self.free(v)) {
            let free = free.clone();
            self.taken.insert(free.to_ascii_lowercase());
            return free;
        }
        self.name(&valid[0])
    }

    /// A valid, unused name close to `wanted`.
    pub fn name(&mut self, wanted: &str) -> String {
        let base = sanitize(wanted, self.tool);
        let mut candidate = base.clone();
        let mut n = 2;
        while !self.free(&candidate) {
            let suffix = format!("_{n}");
            let keep = base.len().min(self.tool.max_len() - suffix.len());
            candidate = format!("{}{suffix}", &base[..keep]);
            n += 1;
        }
        self.taken.insert(candidate.to_ascii_lowercase());
        candidate
    }
}

/// Valid characters, length and first character, reserved words avoided.
pub fn sanitize(wanted: &str, tool: Tool) -> String {
    let mut s: String = wanted
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_');
    let mut s = if s.is_empty() { "v".to_string() } else { s.to_string() };
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'v');
    }
    if tool.reserved(&s) {
        s.push('_');
    }
    s.truncate(tool.max_len());
    s
}

/// The group a column's question is in (`interview-workplace-country` ->
/// `workplace`), if any.
fn group_of(c: &Column) -> Option<&str> {
    let groups = c.name.strip_suffix(&c.leaf)?.strip_suffix('-')?;
    groups.rsplit('-').next().filter(|g| !g.is_empty())
}

/// Valid (Stata, SPSS) names for a table's columns, in column order:
/// questions first, then metadata (see the module comment).
pub fn table_names(columns: &[Column]) -> Vec<(String, String)> {
    let mut names = vec![(String::new(), String::new()); columns.len()];
    let mut stata = Namer::new(Tool::Stata);
    let mut spss = Namer::new(Tool::Spss);
    for (i, c) in columns.iter().enumerate().filter(|(_, c)| !c.is_meta()) {
        let grouped = group_of(c).map(|g| format!("{g}_{}", c.leaf));
        let wanted: Vec<&str> =
            std::iter::once(c.leaf.as_str()).chain(grouped.as_deref()).collect();
        names[i] = (stata.first_free(&wanted), spss.first_free(&wanted));
    }
    for (i, c) in columns.iter().enumerate().filter(|(_, c)| c.is_meta()) {
        let prefixed = format!("meta_{}", c.leaf);
        let wanted = [c.leaf.as_str(), prefixed.as_str()];
        names[i] = (stata.first_free(&wanted), spss.first_free(&wanted));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::schema::MetaField;

    #[test]
    fn valid_for_each_tool() {
        assert_eq!(sanitize("peer_channels/call", Tool::Stata), "peer_channels_call");
        assert_eq!(sanitize("geo-Latitude", Tool::Spss), "geo_Latitude");
        assert_eq!(sanitize("1st", Tool::Stata), "v1st");
        assert_eq!(sanitize("in", Tool::Stata), "in_");
        assert_eq!(sanitize("str12", Tool::Stata), "str12_");
        assert_eq!(sanitize("with", Tool::Spss), "with_");
        assert_eq!(sanitize("ação", Tool::Spss), "a_o");
        let long = "a".repeat(80);
        assert_eq!(sanitize(&long, Tool::Stata).len(), 32);
        assert_eq!(sanitize(&long, Tool::Spss).len(), 64);
    }

    #[test]
    fn unique_within_a_table_case_insensitively() {
        let mut n = Namer::new(Tool::Stata);
        let long = "x".repeat(40);
        let a = n.name(&long);
        let b = n.name(&long);
        assert_eq!(a.len(), 32);
        assert_eq!(b.len(), 32);
        assert!(b.ends_with("_2"));
        assert_eq!(n.name("Key"), "Key");
        assert_eq!(n.name("KEY"), "KEY_2");
    }

    fn question(name: &str, leaf: &str) -> Column {
        let mut c = Column::meta(name, MetaField::Key, "");
        c.role = crate::export::schema::ColumnRole::Value;
        c.leaf = leaf.into();
        c
    }

    #[test]
    fn questions_keep_their_names_and_metadata_steps_aside() {
        let cols = vec![
            Column::meta("KEY", MetaField::Key, ""),
            Column::meta("meta-round", MetaField::Round, ""),
            Column::meta("meta-participant", MetaField::Participant, ""),
            question("round", "round"),
            question("interview-workplace-country", "country"),
            question("interview-home-country", "country"),
            question("x-home-country", "country"),
        ];
        let names: Vec<String> = table_names(&cols).into_iter().map(|(s, _)| s).collect();
        assert_eq!(
            names,
            ["KEY", "meta_round", "participant", "round", "country", "home_country", "country_2"]
        );
    }
}
