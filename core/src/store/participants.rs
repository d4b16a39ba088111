//! The participant roster: people interviewed again each round, each with a
//! stable pseudonymous id; personal fields (names, phone numbers) are kept
//! apart from the fields shown to pick someone. Also preload: the answers of
//! a participant's latest earlier response that the instrument marks.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use super::responses::Answer;
use super::{Store, now, refs};
use crate::instrument::{Instrument, Node};

/// Where a roster row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParticipantSource {
    /// Registered on this device.
    Device,
    /// Delivered in a roster from central.
    Roster,
    /// Named by a response before the roster existed (schema version 1).
    Migrated,
}

impl ParticipantSource {
    fn as_str(self) -> &'static str {
        match self {
            ParticipantSource::Device => "device",
            ParticipantSource::Roster => "roster",
            ParticipantSource::Migrated => "migrated",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "device" => ParticipantSource::Device,
            "roster" => ParticipantSource::Roster,
            _ => ParticipantSource::Migrated,
        }
    }
}

/// One person on the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    /// Stable pseudonymous id, the same on every device and in every round.
    pub id: String,
    /// Fields shown to find the person (local government, role).
    pub display: BTreeMap<String, String>,
    /// Personal data (name, phone): left out of exports unless asked for.
    pub personal: BTreeMap<String, String>,
    pub source: ParticipantSource,
    pub created_at: String,
    pub updated_at: String,
}

/// What a roster import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RosterImport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// A roster file: `{"participants": [...]}` or a bare list of
/// `{"id": "MZ-001", "display": {...}, "personal": {...}}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RosterFile {
    Wrapped { participants: Vec<serde_json::Value> },
    Bare(Vec<serde_json::Value>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterEntry {
    id: String,
    #[serde(default)]
    display: BTreeMap<String, String>,
    #[serde(default)]
    personal: BTreeMap<String, String>,
}

fn to_json(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".into())
}

fn participant_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Participant> {
    let parse = |s: String| serde_json::from_str(&s).unwrap_or_default();
    Ok(Participant {
        id: r.get(0)?,
        display: parse(r.get(1)?),
        personal: parse(r.get(2)?),
        source: ParticipantSource::parse(&r.get::<_, String>(3)?),
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

const PARTICIPANT_COLUMNS: &str =
    "participant_id, display, personal, source, created_at, updated_at";

impl Store {
    /// Registers a participant on this device. Without an id, a new random
    /// pseudonymous one (`p-` and 32 hex digits) is made.
    pub fn add_participant(
        &mut self,
        id: Option<&str>,
        display: BTreeMap<String, String>,
        personal: BTreeMap<String, String>,
    ) -> Result<Participant> {
        let at = now();
        let p = Participant {
            id: id.map_or_else(|| format!("p-{}", uuid::Uuid::new_v4().simple()), str::to_string),
            display,
            personal,
            source: ParticipantSource::Device,
            created_at: at.clone(),
            updated_at: at,
        };
        if p.id.trim().is_empty() {
            return Err(StoreError::Roster { index: 0, reason: "participant id is empty".into() });
        }
        let Store { conn, path, .. } = self;
        let map = |e| StoreError::sql(path, format!("adding participant {:?}", p.id), e);
        let tx = super::write_tx(conn, path, "adding a participant")?;
        let n = tx
            .execute(
                &format!(
                    "INSERT INTO participants ({PARTICIPANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (participant_id) DO NOTHING"
                ),
                params![p.id, to_json(&p.display), to_json(&p.personal), p.source.as_str(), p.created_at, p.updated_at],
            )
            .map_err(map)?;
        if n == 0 {
            return Err(StoreError::Roster {
                index: 0,
                reason: format!("participant id {:?} is already on the roster", p.id),
            });
        }
        tx.commit().map_err(map)?;
        Ok(p)
    }

    /// One participant.
    pub fn participant(&self, id: &str) -> Result<Participant> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE participant_id = ?1"
            ))
            .and_then(|mut s| s.query_row([id], participant_from_row).optional())
            .map_err(self.err(format!("reading participant {id:?}")))?
            .ok_or_else(|| StoreError::UnknownParticipant { participant_id: id.to_string() })
    }

    /// The whole roster, by id.
    pub fn participants(&self) -> Result<Vec<Participant>> {
        self.conn
            .prepare(&format!(
                "SELECT {PARTICIPANT_COLUMNS} FROM participants ORDER BY participant_id"
            ))
            .and_then(|mut s| s.query_map([], participant_from_row)?.collect())
            .map_err(self.err("listing participants"))
    }

    /// Imports a roster from central (JSON). Every entry is checked first;
    /// a bad entry imports nothing. Existing participants take the roster's
    /// fields; none is ever deleted.
    pub fn import_roster(&mut self, json: &[u8]) -> Result<RosterImport> {
        let file: RosterFile = serde_json::from_slice(json).map_err(StoreError::RosterJson)?;
        let values = match file {
            RosterFile::Wrapped { participants } => participants,
            RosterFile::Bare(v) => v,
        };
        let mut entries = Vec::with_capacity(values.len());
        let mut seen = BTreeSet::new();
        for (i, v) in values.into_iter().enumerate() {
            let index = i + 1;
            let e: RosterEntry = serde_json::from_value(v)
                .map_err(|e| StoreError::Roster { index, reason: e.to_string() })?;
            if e.id.trim().is_empty() {
                return Err(StoreError::Roster { index, reason: "participant id is empty".into() });
            }
            if !seen.insert(e.id.clone()) {
                return Err(StoreError::Roster {
                    index,
                    reason: format!("participant id {:?} appears twice", e.id),
                });
            }
            entries.push(e);
        }
        let Store { conn, path, .. } = self;
        let map = |e| StoreError::sql(path, "importing a roster", e);
        let tx = super::write_tx(conn, path, "importing a roster")?;
        let at = now();
        let mut report = RosterImport::default();
        for e in entries {
            let (display, personal) = (to_json(&e.display), to_json(&e.personal));
            let existing: Option<(String, String)> = tx
                .prepare_cached(
                    "SELECT display, personal FROM participants WHERE participant_id = ?1",
                )
                .and_then(|mut s| s.query_row([&e.id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
                .map_err(map)?;
            match existing {
                Some((d, p)) if d == display && p == personal => report.unchanged += 1,
                Some(_) => {
                    tx.execute(
                        "UPDATE participants SET display = ?2, personal = ?3, source = 'roster', updated_at = ?4
                         WHERE participant_id = ?1",
                        params![e.id, display, personal, at],
                    )
                    .map_err(map)?;
                    report.updated += 1;
                }
                None => {
                    tx.execute(
                        &format!("INSERT INTO participants ({PARTICIPANT_COLUMNS}) VALUES (?1, ?2, ?3, 'roster', ?4, ?4)"),
                        params![e.id, display, personal, at],
                    )
                    .map_err(map)?;
                    report.added += 1;
                }
            }
        }
        tx.commit().map_err(map)?;
        Ok(report)
    }

    /// The answers to preload into a new response to `instrument` for this
    /// participant: from their latest finalized (or sent) response to the
    /// same form in an earlier round (any round when `round` is `None`), not
    /// replaced by an edit, only the questions the instrument marks
    /// `preload`. Empty when there is none (or it was sealed or purged).
    pub fn preload(
        &self,
        participant_id: &str,
        instrument: &Instrument,
        round: Option<i64>,
    ) -> Result<Vec<Answer>> {
        self.participant(participant_id)?;
        let mut marked = BTreeSet::new();
        let root = format!("/{}", instrument.root_name);
        collect_preload(&instrument.children, &root, false, &mut marked);
        if marked.is_empty() {
            return Ok(Vec::new());
        }
        let source: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT instance_id FROM responses r
                 WHERE participant_id = ?1 AND form_id = ?2 AND state IN ('finalized', 'sent')
                   AND (?3 IS NULL OR round IS NULL OR round < ?3)
                   AND NOT EXISTS (SELECT 1 FROM responses e WHERE e.deprecated_id = r.instance_id
                                   AND e.state IN ('finalized', 'sent'))
                 ORDER BY coalesce(round, -1) DESC, finalized_at DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![participant_id, instrument.form_id, round], |r| r.get(0))
                    .optional()
            })
            .map_err(
                self.err(format!("finding the latest response of participant {participant_id:?}")),
            )?;
        let Some(source) = source else {
            return Ok(Vec::new());
        };
        Ok(self
            .answers(&source)?
            .into_iter()
            .filter(|a| marked.contains(&refs::generic(&a.reference)))
            .collect())
    }
}

/// Paths (without repeat indices) of every question marked preload; a
/// marked group or repeat marks everything in it.
fn collect_preload(nodes: &[Node], prefix: &str, inherited: bool, out: &mut BTreeSet<String>) {
    for n in nodes {
        let path = format!("{prefix}/{}", n.name);
        let marked = inherited || n.preload;
        if n.is_container() {
            collect_preload(&n.children, &path, marked, out);
        } else if marked {
            out.insert(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{instrument, ready_store};
    use crate::store::{NewResponse, Payload};

    fn plain() -> Payload {
        Payload::Plain { xml: "<data/>".into(), json: "{}".into() }
    }

    const ROSTER: &str = r#"{"participants": [
        {"id": "MZ-001", "display": {"municipality": "Maputo", "role": "planner"}, "personal": {"name": "Ana"}},
        {"id": "MZ-002", "display": {"municipality": "Beira"}}
    ]}"#;

    #[test]
    fn roster_import_adds_updates_and_never_deletes() {
        let (_d, mut store, _key) = ready_store(&["a"]);
        let local = store.add_participant(None, BTreeMap::new(), BTreeMap::new()).unwrap();
        assert!(local.id.starts_with("p-"));
        assert_eq!(
            store.import_roster(ROSTER.as_bytes()).unwrap(),
            RosterImport { added: 2, updated: 0, unchanged: 0 }
        );
        let ana = store.participant("MZ-001").unwrap();
        assert_eq!(ana.personal.get("name").map(String::as_str), Some("Ana"));
        assert_eq!(ana.display.get("role").map(String::as_str), Some("planner"));
        assert_eq!(ana.source, ParticipantSource::Roster);
        let changed = r#"[{"id": "MZ-001", "display": {"municipality": "Maputo", "role": "manager"}},
                          {"id": "MZ-002", "display": {"municipality": "Beira"}}]"#;
        assert_eq!(
            store.import_roster(changed.as_bytes()).unwrap(),
            RosterImport { added: 0, updated: 1, unchanged: 1 }
        );
        assert_eq!(store.participants().unwrap().len(), 3);
        assert!(matches!(
            store.add_participant(Some("MZ-001"), BTreeMap::new(), BTreeMap::new()),
            Err(StoreError::Roster { .. })
        ));
    }

    #[test]
    fn a_bad_roster_entry_imports_nothing() {
        let (_d, mut store, _key) = ready_store(&["a"]);
        let bad = r#"[{"id": "A"}, {"id": "B", "display": {"age": 34}}]"#;
        let err = store.import_roster(bad.as_bytes()).unwrap_err();
        assert!(matches!(err, StoreError::Roster { index: 2, .. }), "{err}");
        let dup = r#"[{"id": "A"}, {"id": "A"}]"#;
        assert!(matches!(
            store.import_roster(dup.as_bytes()),
            Err(StoreError::Roster { index: 2, .. })
        ));
        assert!(matches!(store.import_roster(b"not json"), Err(StoreError::RosterJson(_))));
        assert!(store.participants().unwrap().is_empty());
    }

    #[test]
    fn preload_takes_marked_answers_of_the_latest_earlier_round() {
        let (_d, mut store, key) = ready_store(&["role*", "lg*", "score", "m/name*"]);
        let form = store.instrument(&key).unwrap();
        store.import_roster(ROSTER.as_bytes()).unwrap();
        let fill = |store: &mut Store, round: i64, role: &str| {
            let mut new = NewResponse::new(key.clone());
            new.participant_id = Some("MZ-001".into());
            new.round = Some(round);
            let id = store.create_draft(&new).unwrap().instance_id;
            store.set_answer(&id, "/data/role", role).unwrap();
            store.set_answer(&id, "/data/score", "5").unwrap();
            store.set_answer(&id, "/data/m[2]/name", "peer").unwrap();
            id
        };
        let r1 = fill(&mut store, 1, "planner");
        store.finalize(&r1, plain()).unwrap();
        let r2 = fill(&mut store, 2, "manager");
        store.finalize(&r2, plain()).unwrap();
        // A draft of round 2 does not count.
        fill(&mut store, 2, "drafted");

        let got = store.preload("MZ-001", &form, Some(3)).unwrap();
        let refs: Vec<(&str, &str)> =
            got.iter().map(|a| (a.reference.as_str(), a.value.as_str())).collect();
        assert_eq!(refs, [("/data/m[2]/name", "peer"), ("/data/role", "manager")]);
        let got = store.preload("MZ-001", &form, Some(2)).unwrap();
        assert!(got.iter().any(|a| a.value == "planner"));
        assert!(store.preload("MZ-001", &form, Some(1)).unwrap().is_empty());
        assert!(store.preload("MZ-002", &form, None).unwrap().is_empty());
        assert!(matches!(
            store.preload("ghost", &form, None),
            Err(StoreError::UnknownParticipant { .. })
        ));

        // An edit replaces the response it deprecates.
        let e = store.edit(&r2).unwrap().instance_id;
        store.set_answer(&e, "/data/role", "director").unwrap();
        store.finalize(&e, plain()).unwrap();
        let got = store.preload("MZ-001", &form, Some(3)).unwrap();
        assert!(got.iter().any(|a| a.value == "director"), "{got:?}");

        // A form with nothing marked preloads nothing.
        let unmarked = instrument("f", "1", &["role"]);
        assert!(store.preload("MZ-001", &unmarked, Some(3)).unwrap().is_empty());
    }
}
