//! Where Enumera and ODK Web Forms differ in a session, on purpose or
//! because ODK is wrong: each by form, script, steps, reference and field.
//! Keep in step with docs/EXPRESSIONS.md ("Sessions: where Enumera and ODK
//! Web Forms differ"). An entry that no longer matches anything fails the
//! test, so the list cannot rot.

use std::ops::RangeInclusive;

use crate::state::Difference;

/// One excused difference.
#[derive(Debug)]
pub struct Known {
    pub form: &'static str,
    pub script: &'static str,
    /// Snapshots (0 = before any step, k = after step k) or steps it covers.
    pub steps: RangeInclusive<usize>,
    /// The leaf; for `ok`, the step's target; empty for `submission`.
    pub reference: &'static str,
    /// A compared field, `present`, `ok` or `submission`.
    pub field: &'static str,
    /// Why, for the reader of a failure.
    pub why: &'static str,
}

const MIDNIGHT: &str = "ODK bug: at exact local midnight Web Forms writes `start` (and now()) \
    date-only, `2024-01-15`; Enumera writes the full `2024-01-15T00:00:00.000+00:00` for \
    `start` (an xsd:dateTime), while its now() follows Web Forms";

const GROUP_READS_DESCENDANT: &str = "a group whose relevance reads its own descendant (here a \
    default): JavaRosa (ODK Collect) and Enketo evaluate the form's relevance once at start with \
    every node still relevant, in dependency order, so the group starts relevant; Web Forms 0.22 \
    starts it non-relevant. Enumera follows JavaRosa (docs/EXPRESSIONS.md)";

/// The initial state of `group_reads_descendant`.
const fn descendant(reference: &'static str, field: &'static str) -> Known {
    Known {
        form: "group_reads_descendant",
        script: "answers",
        steps: 0..=0,
        reference,
        field,
        why: GROUP_READS_DESCENDANT,
    }
}

pub const DIFFERENCES: &[Known] = &[
    descendant("/data/g/inner", "relevant"),
    descendant("/data/g/inner", "value"),
    descendant("/data/g/other", "relevant"),
    descendant("/data/seen", "value"),
    Known {
        form: "clock_midnight",
        script: "at_midnight",
        steps: 0..=1,
        reference: "/data/start",
        field: "value",
        why: MIDNIGHT,
    },
    Known {
        form: "clock_midnight",
        script: "at_midnight",
        steps: 1..=1,
        reference: "",
        field: "submission",
        why: MIDNIGHT,
    },
];

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
