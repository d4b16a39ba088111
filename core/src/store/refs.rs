//! ODK-style references (`/data/members[2]/name`): the small amount of
//! parsing the store needs to validate them and renumber repeat instances.

/// Why a reference is refused, or `None` when it is acceptable.
pub(crate) fn invalid_reason(reference: &str) -> Option<&'static str> {
    if !reference.starts_with('/') || reference.len() < 2 {
        Some("must be an absolute path such as /data/age")
    } else if reference.len() > 4096 {
        Some("longer than 4096 bytes")
    } else if reference.ends_with('/') || reference.contains("//") {
        Some("has an empty step")
    } else if reference.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("contains white space or a control character")
    } else {
        None
    }
}

/// Splits a repeat instance reference `/data/members[2]` into
/// (`/data/members`, 2). Indices are 1-based, as ODK writes them.
pub(crate) fn split_instance(reference: &str) -> Option<(&str, u32)> {
    let inner = reference.strip_suffix(']')?;
    let open = inner.rfind('[')?;
    let index: u32 = inner[open + 1..].parse().ok()?;
    (index >= 1 && open > 0).then_some((&inner[..open], index))
}

/// For a reference under `base[k]` (itself or a descendant), returns k and
/// the rest after `]` (empty or starting with `/`).
pub(crate) fn instance_of<'r>(reference: &'r str, base: &str) -> Option<(u32, &'r str)> {
    let tail = reference.strip_prefix(base)?.strip_prefix('[')?;
    let close = tail.find(']')?;
    let index: u32 = tail[..close].parse().ok()?;
    let rest = &tail[close + 1..];
    (rest.is_empty() || rest.starts_with('/')).then_some((index, rest))
}

/// The reference with every `[n]` removed: `/data/members[2]/name` ->
/// `/data/members/name` (the instrument's path for the node).
pub(crate) fn generic(reference: &str) -> String {
    let mut out = String::with_capacity(reference.len());
    let mut in_index = false;
    for c in reference.chars() {
        match c {
            '[' => in_index = true,
            ']' if in_index => in_index = false,
            _ if !in_index => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_references() {
        assert_eq!(invalid_reason("/data/age"), None);
        assert_eq!(invalid_reason("/data/members[2]/name"), None);
        assert!(invalid_reason("data/age").is_some());
        assert!(invalid_reason("/").is_some());
        assert!(invalid_reason("/data//age").is_some());
        assert!(invalid_reason("/data/a ge").is_some());
        assert!(invalid_reason("").is_some());
    }

    #[test]
    fn splits_repeat_instances() {
        assert_eq!(split_instance("/data/members[2]"), Some(("/data/members", 2)));
        assert_eq!(split_instance("/data/h[1]/m[12]"), Some(("/data/h[1]/m", 12)));
        assert_eq!(split_instance("/data/members[0]"), None);
        assert_eq!(split_instance("/data/members"), None);
        assert_eq!(split_instance("/data/members[x]"), None);
    }

    #[test]
    fn finds_instance_of_descendants() {
        assert_eq!(instance_of("/data/m[3]/name", "/data/m"), Some((3, "/name")));
        assert_eq!(instance_of("/data/m[3]", "/data/m"), Some((3, "")));
        assert_eq!(instance_of("/data/m[3]x", "/data/m"), None);
        assert_eq!(instance_of("/data/mm[3]/a", "/data/m"), None);
    }

    #[test]
    fn generic_paths_drop_indices() {
        assert_eq!(generic("/data/h[2]/m[10]/name"), "/data/h/m/name");
        assert_eq!(generic("/data/age"), "/data/age");
    }
}
