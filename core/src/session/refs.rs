//! Turning ODK references (`/data/members[2]/name`) into tree nodes.
//! A step without an index means the first instance, as ODK's tools read it.

use super::Session;
use super::error::SessionError;
use super::form::{TplId, TplKind};
use super::tree::NodeId;

impl Session {
    /// The node a reference names.
    pub fn resolve(&self, reference: &str) -> Result<NodeId, SessionError> {
        let unknown = || SessionError::UnknownRef { reference: reference.to_string() };
        let mut steps = parse_steps(reference).ok_or_else(unknown)?.into_iter();
        let (root_name, root_index) = steps.next().ok_or_else(unknown)?;
        let root = self.tree.root();
        if root_name != self.form.root().name || root_index.unwrap_or(1) != 1 {
            return Err(unknown());
        }
        let mut cur = root;
        for (name, index) in steps {
            // By template index, not by scanning: a wide form has thousands
            // of siblings and this runs on every answer.
            let parent_tpl = self.tree.node(cur).tpl;
            let tpl = *self.form.child_by_name[parent_tpl].get(name).ok_or_else(unknown)?;
            // Walk to the i-th instance, stopping at the last one there is:
            // an index is input (`[18446744073709551615]` came from fuzzing).
            let mut found = self.tree.first_of(cur, tpl);
            for _ in 1..index.unwrap_or(1) {
                let Some(n) = found else { break };
                found = self.tree.node(n).next.filter(|&n| self.tree.node(n).tpl == tpl);
            }
            cur = found.ok_or_else(unknown)?;
        }
        Ok(cur)
    }

    /// The parent instance and template of a repeat named by `reference`
    /// (`/data/members`, `/data/hh[2]/members`), checking it can be added to.
    pub(crate) fn resolve_repeat(&self, reference: &str) -> Result<(NodeId, TplId), SessionError> {
        let unknown = || SessionError::UnknownRef { reference: reference.to_string() };
        let trimmed = reference.trim_end_matches('/');
        let (parent_ref, last) = trimmed.rsplit_once('/').ok_or_else(unknown)?;
        let name = last.split('[').next().unwrap_or(last);
        let parent = if parent_ref.is_empty() {
            return Err(unknown());
        } else {
            self.resolve(parent_ref)?
        };
        let parent_tpl = self.form.template(self.tree.node(parent).tpl);
        let tpl = parent_tpl
            .children
            .iter()
            .copied()
            .find(|&c| self.form.template(c).name == name)
            .ok_or_else(unknown)?;
        let t = self.form.template(tpl);
        if t.kind != TplKind::Repeat {
            return Err(SessionError::NotARepeat { reference: reference.to_string() });
        }
        if t.logic.repeat_count.is_some() {
            return Err(SessionError::CountControlled { reference: reference.to_string() });
        }
        Ok((parent, tpl))
    }
}

/// `/data/a[2]/b` -> [("data", None), ("a", Some(2)), ("b", None)].
fn parse_steps(reference: &str) -> Option<Vec<(&str, Option<usize>)>> {
    let rest = reference.trim().strip_prefix('/')?;
    rest.split('/')
        .map(|step| match step.split_once('[') {
            None if !step.is_empty() => Some((step, None)),
            None => None,
            Some((name, idx)) => {
                let n: usize = idx.strip_suffix(']')?.trim().parse().ok()?;
                (n >= 1 && !name.is_empty()).then_some((name, Some(n)))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_steps;

    #[test]
    fn steps() {
        assert_eq!(
            parse_steps("/data/m[2]/x").unwrap(),
            vec![("data", None), ("m", Some(2)), ("x", None)]
        );
        assert!(parse_steps("data/x").is_none());
        assert!(parse_steps("/data//x").is_none());
        assert!(parse_steps("/data/m[0]").is_none());
        assert!(parse_steps("/data/m[a]").is_none());
    }
}
