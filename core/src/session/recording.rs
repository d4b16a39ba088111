//! The one way a file name reaches `background-audio`: metadata no person
//! answers, which [`Session::set`] therefore refuses, yet the answer the
//! app's whole-interview recording is attached as ([`crate::recording`]).

use super::form::TplKind;
use super::{Session, SessionError};
use crate::instrument::QuestionType;

impl Session {
    /// A file question's answer set to its attachment's name: as
    /// [`Session::set`], except that the form's `background-audio`
    /// question takes the recording's name too.
    pub fn set_file_name(&mut self, reference: &str, name: &str) -> Result<(), SessionError> {
        let node = self.resolve(reference)?;
        let tpl = self.form.template(self.tree.node(node).tpl);
        if matches!(tpl.kind, TplKind::Leaf(QuestionType::BackgroundAudio)) {
            self.store_value(node, name.to_string());
            return Ok(());
        }
        self.set(reference, name)
    }
}
