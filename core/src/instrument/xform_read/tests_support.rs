//! Small builders for the reader's unit tests.

use crate::instrument::model::{Node, NodeKind};

pub(crate) fn node(name: &str) -> Node {
    super::blank(name, NodeKind::Group)
}
