//! Where Enumera and ODK Web Forms differ in a session, on purpose or
//! because ODK is wrong: each by form, script, steps, reference and field.
//! Keep in step with docs/EXPRESSIONS.md ("Sessions: where Enumera and ODK
//! Web Forms differ").

use std::ops::RangeInclusive;

use crate::state::Difference;

/// One excused difference.
#[derive(Debug)]
pub struct Known {
    pub form: &'static str,
    pub script: &'static str,
    /// Snapshots (0 = before any step, k = after step k) or steps it covers.
    pub steps: RangeInclusive<usize>,
    /// The leaf reference; for `ok`, the step as JSON; empty for `submission`.
    pub reference: &'static str,
    /// A compared field, `present`, `ok` or `submission`.
    pub field: &'static str,
    pub why: &'static str,
}

pub const DIFFERENCES: &[Known] = &[];

/// Whether `d` is a listed difference; marks the entry used.
pub fn excused(form: &str, script: &str, d: &Difference, used: &mut [bool]) -> bool {
    for (i, k) in DIFFERENCES.iter().enumerate() {
        if k.form == form
            && k.script == script
            && k.steps.contains(&d.step)
            && k.reference == d.reference
            && k.field == d.field
        {
            used[i] = true;
            return true;
        }
    }
    false
}
