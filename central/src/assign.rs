//! Assignments (issue 17, item 5): who interviews whom. An admin or a
//! supervisor (within its scope) gives a device, or an enumerator, one
//! participant's interview in a form and round, or a quantity of
//! interviews in a form without a roster (Survey Solutions' assignments
//! with a size; SurveyCTO's case assignment to users). An assignment is
//! never changed: it is revoked, or reassigned (ended, and a new one made
//! naming it), so the record of who had what stays.
//!
//! Devices receive only their assignments (and those given to the
//! enumerator they say carries them) and only those participants' roster
//! rows, in central's signed assignments file
//! ([`enumera_core::review::AssignmentsStatement`]); once central assigns
//! participants, the whole rosters are no longer served to devices
//! ([`Central::rosters_for_devices`]). The request for the file carries
//! what the device has started and finalized of each assignment, which
//! `central progress` counts.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use enumera_core::review::{
    AssignedWork, AssignmentProgress, AssignmentsFile, AssignmentsRequest, AssignmentsStatement,
    RosterRow,
};

use crate::roles::{Permission, Principal, Role};
use crate::{Central, CentralError, CentralStore};

/// One assignment as central keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub assignment_id: String,
    pub form_id: String,
    pub round: Option<i64>,
    /// The participant to interview; `None` for a form without a roster.
    pub participant_id: Option<String>,
    /// How many interviews, for a form without a roster (`None`: open).
    pub quantity: Option<u32>,
    /// The participant's `display.district` on the roster when assigned,
    /// or the district given for a quantity.
    pub district: Option<String>,
    /// Given to a device, or to an enumerator (exactly one).
    pub device_id: Option<String>,
    pub enumerator: Option<String>,
    /// Who assigned (a token's person and role, or `operator` at the database).
    pub created_by: String,
    pub created_at: String,
    /// The assignment this one replaced (a reassignment).
    pub replaces: Option<String>,
    /// Set once when revoked or reassigned.
    pub ended_at: Option<String>,
    pub ended_by: Option<String>,
}

impl Assignment {
    pub fn is_live(&self) -> bool {
        self.ended_at.is_none()
    }

    /// How many interviews it stands for in progress: one for a
    /// participant, its quantity (or one when open) otherwise.
    pub fn units(&self) -> u64 {
        if self.participant_id.is_some() { 1 } else { u64::from(self.quantity.unwrap_or(1)) }
    }

    fn work(&self) -> AssignedWork {
        AssignedWork {
            assignment_id: self.assignment_id.clone(),
            form_id: self.form_id.clone(),
            round: self.round,
            participant_id: self.participant_id.clone(),
            quantity: self.quantity,
            district: self.district.clone(),
            device_id: self.device_id.clone(),
            enumerator: self.enumerator.clone(),
            assigned_at: self.created_at.clone(),
        }
    }
}

/// Whom work is given to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Device(String),
    /// Every device that says this enumerator carries it gets it.
    Enumerator(String),
}

impl Target {
    fn problem(&self) -> Option<String> {
        let (what, name) = match self {
            Target::Device(d) => ("device id", d),
            Target::Enumerator(e) => ("enumerator", e),
        };
        let ok =
            !name.trim().is_empty() && name.len() <= 200 && !name.chars().any(char::is_control);
        (!ok).then(|| format!("the {what} must be 1 to 200 printable characters"))
    }
}

/// What to assign: one assignment per participant, or (no participants)
/// one assignment of `quantity` interviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAssignment {
    pub form_id: String,
    #[serde(default)]
    pub round: Option<i64>,
    #[serde(default)]
    pub participants: Vec<String>,
    #[serde(default)]
    pub quantity: Option<u32>,
    /// For a quantity: the district it is for (a district supervisor's
    /// scope, and progress). A participant's district comes from the roster.
    #[serde(default)]
    pub district: Option<String>,
    pub target: Target,
}

/// Which assignments to list; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignmentFilter {
    pub form_id: Option<String>,
    pub round: Option<i64>,
    pub district: Option<String>,
    pub device: Option<String>,
    pub enumerator: Option<String>,
    pub participant: Option<String>,
    /// Revoked and reassigned ones too.
    pub include_ended: bool,
}

impl AssignmentFilter {
    pub fn matches(&self, a: &Assignment) -> bool {
        self.form_id.as_ref().is_none_or(|f| *f == a.form_id)
            && self.round.is_none_or(|r| Some(r) == a.round)
            && self.district.as_ref().is_none_or(|d| Some(d) == a.district.as_ref())
            && self.device.as_ref().is_none_or(|d| Some(d) == a.device_id.as_ref())
            && self.enumerator.as_ref().is_none_or(|e| Some(e) == a.enumerator.as_ref())
            && self.participant.as_ref().is_none_or(|p| Some(p) == a.participant_id.as_ref())
            && (self.include_ended || a.is_live())
    }
}

/// What a device last reported when it fetched its assignments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceReport {
    pub device_id: String,
    pub enumerator: Option<String>,
    pub reported_at: String,
    pub progress: Vec<AssignmentProgress>,
}

/// Who acts: a token's principal, or the operator at the database (`None`).
fn actor(who: Option<&Principal>) -> String {
    who.map_or_else(|| "operator".to_string(), |p| format!("{} {}", p.role, p.subject))
}

/// Whether `who` reaches assignment `a` (or a new one like it): a
/// supervisor through the device it goes to or its district.
fn reaches(who: Option<&Principal>, device: Option<&str>, district: Option<&str>) -> bool {
    who.is_none_or(|p| match p.role {
        Role::Supervisor => {
            device.is_some_and(|d| p.scope.devices.contains(d))
                || district.is_some_and(|d| p.scope.districts.contains(d))
        }
        _ => true,
    })
}

/// A participant's roster rows by id, from every published roster (the
/// latest published wins).
fn roster_rows<S: CentralStore>(store: &S) -> Result<BTreeMap<String, RosterRow>, CentralError> {
    let mut listed = store.rosters()?;
    listed.sort_by(|a, b| (&a.published_at, &a.name).cmp(&(&b.published_at, &b.name)));
    let mut rows = BTreeMap::new();
    for listing in listed {
        let Some(json) = store.roster_json(&listing.name)? else { continue };
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&json) else { continue };
        let list = match value {
            serde_json::Value::Array(list) => list,
            serde_json::Value::Object(mut map) => match map.remove("participants") {
                Some(serde_json::Value::Array(list)) => list,
                _ => continue,
            },
            _ => continue,
        };
        for entry in list {
            if let Ok(row) = serde_json::from_value::<RosterRow>(entry) {
                rows.insert(row.id.clone(), row);
            }
        }
    }
    Ok(rows)
}

impl<S: CentralStore> Central<S> {
    fn assigner(&self, who: Option<&Principal>) -> Result<(), CentralError> {
        match who {
            Some(p) if !p.can(Permission::Assign) => Err(CentralError::Forbidden {
                role: p.role,
                action: Permission::Assign.describe(),
                allowed: Role::allowed(Permission::Assign),
            }),
            _ => Ok(()),
        }
    }

    /// Makes assignments, all or none: one per participant (each on a
    /// published roster, not assigned already in that form and round), or
    /// one for a quantity. `who` must be an admin or a supervisor reaching
    /// each (its devices, or its districts); `None` is the operator.
    pub fn assign(
        &mut self,
        who: Option<&Principal>,
        new: &NewAssignment,
    ) -> Result<Vec<Assignment>, CentralError> {
        self.assigner(who)?;
        let bad = |reason: String| CentralError::BadAssignment { reason };
        if new.form_id.trim().is_empty() {
            return Err(bad("name the form (its form id)".into()));
        }
        if let Some(problem) = new.target.problem() {
            return Err(bad(problem));
        }
        if !new.participants.is_empty() && new.quantity.is_some() {
            return Err(bad(
                "a quantity is for a form without a roster: give participants or a quantity, \
                 not both"
                    .into(),
            ));
        }
        if new.quantity == Some(0) {
            return Err(bad("a quantity is at least 1".into()));
        }
        if !new.participants.is_empty() && new.district.is_some() {
            return Err(bad(
                "a participant's district comes from the roster; --district is for a quantity"
                    .into(),
            ));
        }
        let (device, enumerator) = match &new.target {
            Target::Device(d) => (Some(d.trim().to_string()), None),
            Target::Enumerator(e) => (None, Some(e.trim().to_string())),
        };
        let at = crate::now();
        let created_by = actor(who);
        let mut made = Vec::new();
        let base = Assignment {
            assignment_id: String::new(),
            form_id: new.form_id.trim().to_string(),
            round: new.round,
            participant_id: None,
            quantity: new.quantity,
            district: new.district.clone(),
            device_id: device,
            enumerator,
            created_by,
            created_at: at,
            replaces: None,
            ended_at: None,
            ended_by: None,
        };
        let fresh_id = || format!("asg-{}", uuid::Uuid::new_v4().simple());
        if new.participants.is_empty() {
            made.push(Assignment { assignment_id: fresh_id(), ..base.clone() });
        } else {
            let rows = roster_rows(self.store())?;
            let live: BTreeSet<(String, Option<i64>, String)> = self
                .store()
                .assignments()?
                .into_iter()
                .filter(|a| a.is_live())
                .filter_map(|a| Some((a.form_id, a.round, a.participant_id?)))
                .collect();
            let mut seen = BTreeSet::new();
            for p in &new.participants {
                let p = p.trim();
                let Some(row) = rows.get(p) else {
                    return Err(bad(format!(
                        "participant {p:?} is on no published roster (`central roster publish`)"
                    )));
                };
                if !seen.insert(p.to_string()) {
                    return Err(bad(format!("participant {p:?} is named twice")));
                }
                if live.contains(&(base.form_id.clone(), base.round, p.to_string())) {
                    return Err(bad(format!(
                        "participant {p:?} is already assigned in form {} round {}; reassign \
                         that assignment instead (`central assignments reassign ID`)",
                        base.form_id,
                        base.round.map_or("(none)".into(), |r| r.to_string())
                    )));
                }
                made.push(Assignment {
                    assignment_id: fresh_id(),
                    participant_id: Some(p.to_string()),
                    district: row.display.get("district").cloned(),
                    ..base.clone()
                });
            }
        }
        for a in &made {
            if !reaches(who, a.device_id.as_deref(), a.district.as_deref()) {
                return Err(CentralError::AssignOutOfScope {
                    who: actor(who),
                    what: a.participant_id.as_ref().map_or_else(
                        || format!("a quantity in district {:?}", a.district),
                        |p| format!("participant {p} (district {:?})", a.district),
                    ),
                });
            }
        }
        self.store_mut().add_assignments(&made)?;
        Ok(made)
    }

    /// The assignments `who` reaches, narrowed by `filter`, oldest first.
    pub fn assignments(
        &self,
        who: Option<&Principal>,
        filter: &AssignmentFilter,
    ) -> Result<Vec<Assignment>, CentralError> {
        self.assigner(who)?;
        Ok(self
            .store()
            .assignments()?
            .into_iter()
            .filter(|a| reaches(who, a.device_id.as_deref(), a.district.as_deref()))
            .filter(|a| filter.matches(a))
            .collect())
    }

    fn live_assignment(
        &self,
        who: Option<&Principal>,
        id: &str,
    ) -> Result<Assignment, CentralError> {
        self.assigner(who)?;
        let a = self
            .store()
            .assignments()?
            .into_iter()
            .find(|a| a.assignment_id == id)
            .ok_or_else(|| CentralError::NoSuchAssignment { id: id.into() })?;
        if !reaches(who, a.device_id.as_deref(), a.district.as_deref()) {
            return Err(CentralError::AssignOutOfScope {
                who: actor(who),
                what: format!("assignment {id}"),
            });
        }
        if !a.is_live() {
            return Err(CentralError::BadAssignment {
                reason: format!(
                    "assignment {id} already ended ({})",
                    a.ended_by.unwrap_or_default()
                ),
            });
        }
        Ok(a)
    }

    /// Ends an assignment: it leaves its device at the device's next sync.
    pub fn revoke_assignment(
        &mut self,
        who: Option<&Principal>,
        id: &str,
    ) -> Result<Assignment, CentralError> {
        let mut a = self.live_assignment(who, id)?;
        let at = crate::now();
        let by = format!("revoked by {}", actor(who));
        if !self.store_mut().end_assignment(id, &at, &by, None)? {
            return Err(CentralError::BadAssignment {
                reason: format!("assignment {id} already ended"),
            });
        }
        a.ended_at = Some(at);
        a.ended_by = Some(by);
        Ok(a)
    }

    /// Ends an assignment and gives the same work to another device or
    /// enumerator, in one transaction; returns the new assignment.
    pub fn reassign(
        &mut self,
        who: Option<&Principal>,
        id: &str,
        target: &Target,
    ) -> Result<Assignment, CentralError> {
        if let Some(problem) = target.problem() {
            return Err(CentralError::BadAssignment { reason: problem });
        }
        let old = self.live_assignment(who, id)?;
        let (device_id, enumerator) = match target {
            Target::Device(d) => (Some(d.trim().to_string()), None),
            Target::Enumerator(e) => (None, Some(e.trim().to_string())),
        };
        if (&device_id, &enumerator) == (&old.device_id, &old.enumerator) {
            return Err(CentralError::BadAssignment {
                reason: format!("assignment {id} is already given to that device or enumerator"),
            });
        }
        let at = crate::now();
        let new = Assignment {
            assignment_id: format!("asg-{}", uuid::Uuid::new_v4().simple()),
            device_id,
            enumerator,
            created_by: actor(who),
            created_at: at.clone(),
            replaces: Some(id.to_string()),
            ended_at: None,
            ended_by: None,
            ..old
        };
        if !reaches(who, new.device_id.as_deref(), new.district.as_deref()) {
            return Err(CentralError::AssignOutOfScope {
                who: actor(who),
                what: format!("the new holder of assignment {id}"),
            });
        }
        let by = format!("reassigned by {} as {}", actor(who), new.assignment_id);
        if !self.store_mut().end_assignment(id, &at, &by, Some(&new))? {
            return Err(CentralError::BadAssignment {
                reason: format!("assignment {id} already ended"),
            });
        }
        Ok(new)
    }

    /// Whether central assigns participants: then devices get roster rows
    /// only in their assignments file, never whole rosters.
    pub fn participants_limited(&self) -> Result<bool, CentralError> {
        Ok(self.store().assignments()?.iter().any(|a| a.is_live() && a.participant_id.is_some()))
    }

    /// The rosters a device is served (`GET /v1/rosters`): none once
    /// central assigns participants (the rows come in the assignments file).
    pub fn rosters_for_devices(
        &self,
    ) -> Result<Vec<enumera_core::remote::api::RosterListing>, CentralError> {
        if self.participants_limited()? { Ok(Vec::new()) } else { self.rosters() }
    }

    /// Records what a device reports of its assignments and returns its
    /// signed assignments file (`POST /v1/assignments`). Progress for
    /// assignments that are not the device's is ignored.
    pub fn assignments_for(
        &mut self,
        device_id: &str,
        request: &AssignmentsRequest,
    ) -> Result<AssignmentsFile, CentralError> {
        let enumerator = request
            .enumerator
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty() && e.len() <= 200)
            .map(str::to_string);
        let file = self.assignments_file(device_id, enumerator.as_deref())?;
        let mine: BTreeSet<&str> =
            file.statement.assignments.iter().map(|a| a.assignment_id.as_str()).collect();
        let report = DeviceReport {
            device_id: device_id.into(),
            enumerator,
            reported_at: crate::now(),
            progress: request
                .progress
                .iter()
                .filter(|p| mine.contains(p.assignment_id.as_str()))
                .map(|p| AssignmentProgress { finalized: p.finalized.min(p.started), ..p.clone() })
                .collect(),
        };
        self.store_mut().record_device_report(&report)?;
        Ok(file)
    }

    /// The signed assignments file of a device: the live assignments given
    /// to it, or to `enumerator` (when the device says it carries them;
    /// `None`: the enumerator it last reported), with those participants'
    /// roster rows. For the file transport too (`central assignments file`).
    pub fn assignments_file(
        &self,
        device_id: &str,
        enumerator: Option<&str>,
    ) -> Result<AssignmentsFile, CentralError> {
        // A device central has had nothing from yet (a new tablet, not
        // enrolled) is named by its id only; its token vouched for the id.
        let device_public_key = match self.store().holdings(device_id) {
            Ok(h) => enumera_core::bundle::hex(&h.public_key),
            Err(CentralError::UnknownDevice { .. }) => String::new(),
            Err(e) => return Err(e),
        };
        let reported = match enumerator {
            Some(e) => Some(e.to_string()),
            None => self
                .store()
                .device_reports()?
                .into_iter()
                .find(|r| r.device_id == device_id)
                .and_then(|r| r.enumerator),
        };
        let all = self.store().assignments()?;
        let limited = all.iter().any(|a| a.is_live() && a.participant_id.is_some());
        let mine: Vec<&Assignment> = all
            .iter()
            .filter(|a| a.is_live())
            .filter(|a| {
                a.device_id.as_deref() == Some(device_id)
                    || (a.enumerator.is_some() && a.enumerator == reported)
            })
            .collect();
        let rows = roster_rows(self.store())?;
        let wanted: BTreeSet<&str> =
            mine.iter().filter_map(|a| a.participant_id.as_deref()).collect();
        let statement = AssignmentsStatement {
            format: enumera_core::review::assignments::ASSIGNMENTS_FORMAT.into(),
            central_public_key: String::new(),
            device_id: device_id.to_string(),
            device_public_key,
            enumerator: reported,
            issued_at: crate::now(),
            participants_limited: limited,
            assignments: mine.iter().map(|a| a.work()).collect(),
            participants: wanted.iter().filter_map(|p| rows.get(*p).cloned()).collect(),
        };
        Ok(statement.sign(&self.store().signing_seed()?))
    }
}
