//! What can go wrong while compiling a form for filling or while filling it.

/// The form cannot be filled: its expressions do not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the form cannot be filled: {}", problems.join("; "))]
pub struct CompileError {
    pub problems: Vec<String>,
}

/// A step the enumerator (or a script) asked for could not be done. The
/// session is unchanged when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("no question at {reference}")]
    UnknownRef { reference: String },
    #[error("{reference} is {what}, which cannot be answered")]
    NotAnswerable { reference: String, what: &'static str },
    #[error("{reference} is read-only")]
    ReadOnly { reference: String },
    #[error("{reference}: {value:?} is not a valid {expected}")]
    BadValue { reference: String, value: String, expected: String },
    #[error("{reference}: {value:?} is not one of the choices ({choices})")]
    NotAChoice { reference: String, value: String, choices: String },
    #[error("{reference} is not a repeat")]
    NotARepeat { reference: String },
    #[error(
        "{reference} is a count-controlled repeat (its repeat_count sets the number of instances)"
    )]
    CountControlled { reference: String },
    #[error(
        "{reference}: a response holds at most {limit} repeat instances in all; this step would make more, so it was not taken"
    )]
    TooManyRepeatInstances { reference: String, limit: usize },
    #[error("the form has no language {language:?} (it has: {available})")]
    UnknownLanguage { language: String, available: String },
    #[error("the response is finalized and can no longer change")]
    Finalized,
}
