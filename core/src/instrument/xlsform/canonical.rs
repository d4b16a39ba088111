//! One way to write what an XLSForm can say two ways, so that the same
//! form has the same instrument (and hash) however it was written, and an
//! XForm read back gives it again: a `range` names its start, end and step
//! (pyxform's 1, 10 and 1 where the form says nothing).

use crate::instrument::model::{Instrument, Node, QuestionType};

pub(crate) fn canonicalize(inst: &mut Instrument) {
    fill_range_defaults(&mut inst.children);
}

fn fill_range_defaults(nodes: &mut [Node]) {
    for n in nodes {
        if n.question_type() == Some(QuestionType::Range) {
            for (k, v) in [("start", "1"), ("end", "10"), ("step", "1")] {
                n.parameters.entry(k.to_string()).or_insert_with(|| v.to_string());
            }
        }
        fill_range_defaults(&mut n.children);
    }
}
