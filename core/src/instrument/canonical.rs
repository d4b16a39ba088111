//! The canonical JSON form of an instrument and its content hash.
//!
//! Canonical means: compact serde_json output of the model, whose maps are
//! `BTreeMap`s and whose struct fields have a fixed order, so equal
//! instruments give equal bytes. The hash is the SHA-256 of those bytes, in
//! lowercase hex; a response names it so that central knows exactly which
//! instrument it was filled with.

use sha2::{Digest, Sha256};

use super::model::{Instrument, MODEL_VERSION};

#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    #[error("not an Enumera instrument JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "instrument JSON has model version {found}; this build reads version {MODEL_VERSION} (upgrade Enumera)"
    )]
    Version { found: u32 },
}

impl Instrument {
    /// The canonical JSON bytes.
    pub fn canonical_json(&self) -> Vec<u8> {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// SHA-256 of the canonical JSON with source positions left out,
    /// lowercase hex. Rows say where a question was written (for
    /// messages), not what it is: the same form has the same hash whether
    /// it comes from an XLSForm with blank rows, one without, or an XForm
    /// (which has no rows at all).
    pub fn hash(&self) -> String {
        let mut positionless = self.clone();
        positionless.clear_rows();
        hex(&Sha256::digest(positionless.canonical_json()))
    }

    /// Every source row set to 0 (rows are not part of the hash).
    pub fn clear_rows(&mut self) {
        fn nodes(ns: &mut [super::model::Node]) {
            for n in ns {
                n.row = 0;
                nodes(&mut n.children);
            }
        }
        nodes(&mut self.children);
        for list in self.choices.values_mut().chain(self.osm.values_mut()) {
            for c in &mut list.choices {
                c.row = 0;
            }
        }
    }

    /// Reads an instrument back from its JSON (canonical or pretty).
    pub fn from_json(bytes: &[u8]) -> Result<Self, CanonicalError> {
        #[derive(serde::Deserialize)]
        struct Probe {
            model_version: u32,
        }
        let probe: Probe = serde_json::from_slice(bytes)?;
        if probe.model_version != MODEL_VERSION {
            return Err(CanonicalError::Version { found: probe.model_version });
        }
        Ok(serde_json::from_slice(bytes)?)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::instrument::model::*;

    fn sample() -> Instrument {
        Instrument {
            model_version: MODEL_VERSION,
            form_id: "f".into(),
            version: "1".into(),
            title: "F".into(),
            root_name: "data".into(),
            default_language: None,
            languages: vec![],
            settings: Settings::default(),
            children: vec![Node {
                name: "age".into(),
                kind: NodeKind::Question(Question {
                    qtype: QuestionType::Integer,
                    list: None,
                    file: None,
                    or_other: false,
                }),
                row: 2,
                label: Text::plain("Age"),
                hint: Text::default(),
                guidance_hint: Text::default(),
                media: BTreeMap::new(),
                bind: Bind::default(),
                appearance: None,
                parameters: BTreeMap::new(),
                pii: false,
                preload: false,
                extra: BTreeMap::new(),
                children: vec![],
            }],
            choices: BTreeMap::new(),
            files: BTreeMap::new(),
            osm: BTreeMap::new(),
            externals: BTreeMap::new(),
        }
    }

    #[test]
    fn round_trip_keeps_hash() {
        let i = sample();
        let back = Instrument::from_json(&i.canonical_json()).unwrap();
        assert_eq!(back, i);
        assert_eq!(back.hash(), i.hash());
        assert_eq!(i.hash().len(), 64);
    }

    #[test]
    fn hash_changes_with_content() {
        let a = sample();
        let mut b = sample();
        b.children[0].label = Text::plain("Age in years");
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn rows_are_not_part_of_the_hash() {
        let a = sample();
        let mut b = sample();
        b.children[0].row = 40;
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.canonical_json(), b.canonical_json(), "the JSON keeps them, for messages");
    }

    #[test]
    fn refuses_other_model_version() {
        let mut v: serde_json::Value = serde_json::from_slice(&sample().canonical_json()).unwrap();
        v["model_version"] = 99.into();
        let err = Instrument::from_json(v.to_string().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("model version 99"));
    }
}
