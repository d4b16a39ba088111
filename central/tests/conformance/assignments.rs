//! Assignments and progress (issue 17, item 5) on every store: who may
//! assign what, one live assignment per participant, revoke and reassign,
//! the device's signed file with only its participants' roster rows, and
//! progress from what devices report.

use enumera_central::{
    AnyStore, AssignmentFilter, Central, CentralError, NewAssignment, Role, Scope, Target,
    TokenGrant,
};
use enumera_core::review::{AssignmentProgress, AssignmentsRequest, apply_assignments};
use enumera_core::store::NewResponse;

use super::stores::Backend;
use crate::common::{Device, instrument};

/// Each store runs the scenario with devices of its own; the answers, free
/// of ids and times, are compared with what is expected.
pub fn assignments_reach_only_their_devices_and_count_progress(b: &Backend) {
    let seen = scenario(&mut b.fresh());
    let expected = [
        "supervisor outside scope: refused",
        "device token: refused",
        "twice: refused",
        "not on a roster: refused",
        "A gets 1 assignment(s), rows [\"P1\"], limited true",
        "B gets 2 assignment(s), rows [\"P3\"]",
        "rosters served to devices: 0",
        "A holds [\"P1\"]",
        "-/enum-b: assigned 4 started 0 finalized 0",
        "Beira/enum-a: assigned 1 started 1 finalized 0",
        "Khulna/enum-b: assigned 1 started 0 finalized 0",
        "reassigned: replaces true, district Some(\"Beira\")",
        "A after reassign: 0 assignment(s), kept [\"P1\"]",
        "live 3, all 4",
        "revoked: true",
        "supervisor sees 0",
    ];
    assert_eq!(seen, expected);
}

fn token(c: &mut Central<AnyStore>, role: Role, subject: &str, scope: Scope) -> String {
    c.create_role_token(&TokenGrant { role, subject: subject.into(), scope }).unwrap()
}

fn scenario(c: &mut Central<AnyStore>) -> Vec<String> {
    let mut seen = Vec::new();
    let mut a = Device::new("tablet A");
    let mut b = Device::new("tablet B");
    c.publish(&instrument("plain", &[])).unwrap();
    let roster = br#"{"participants":[
        {"id":"P1","display":{"district":"Beira"},"personal":{"name":"Ana"}},
        {"id":"P2","display":{"district":"Beira"},"personal":{"name":"Bia"}},
        {"id":"P3","display":{"district":"Khulna"},"personal":{"name":"Caio"}}]}"#;
    c.publish_roster("officials", roster).unwrap();
    // Central knows the devices by their first bundles.
    a.finalize("1", false, None);
    b.finalize("1", false, None);
    c.ingest(&a.bundle(false)).unwrap();
    c.ingest(&b.bundle(false)).unwrap();
    let beira = Scope { districts: ["Beira".to_string()].into(), devices: Default::default() };
    let sup = token(c, Role::Supervisor, "Ana", beira);
    let sup = c.principal(&sup).unwrap().unwrap();
    let admin = token(c, Role::Admin, "Root", Scope::default());
    let admin = c.principal(&admin).unwrap().unwrap();
    let device = c.create_token(&a.device_id()).unwrap();
    let device = c.principal(&device).unwrap().unwrap();
    let one = |p: &str, target: Target| NewAssignment {
        form_id: "plain".into(),
        round: Some(1),
        participants: vec![p.into()],
        quantity: None,
        district: None,
        target,
    };
    let to_a = Target::Device(a.device_id());
    let to_b = Target::Device(b.device_id());

    c.assign(Some(&sup), &one("P1", to_a.clone())).unwrap();
    let e = c.assign(Some(&sup), &one("P3", to_b.clone())).unwrap_err();
    assert!(matches!(e, CentralError::AssignOutOfScope { .. }), "{e}");
    seen.push("supervisor outside scope: refused".to_string());
    let e = c.assign(Some(&device), &one("P2", to_a.clone())).unwrap_err();
    assert!(matches!(e, CentralError::Forbidden { .. }), "{e}");
    seen.push("device token: refused".to_string());
    let e = c.assign(Some(&admin), &one("P1", to_b.clone())).unwrap_err();
    assert!(matches!(e, CentralError::BadAssignment { .. }), "{e}");
    seen.push("twice: refused".to_string());
    let e = c.assign(None, &one("P9", to_b.clone())).unwrap_err();
    assert!(matches!(e, CentralError::BadAssignment { .. }), "{e}");
    seen.push("not on a roster: refused".to_string());
    c.assign(Some(&admin), &one("P3", to_b.clone())).unwrap();
    // A quantity for a form without a roster, to the enumerator of B.
    let quantity = NewAssignment {
        participants: vec![],
        quantity: Some(4),
        ..one("", Target::Enumerator("enum-b".into()))
    };
    c.assign(Some(&admin), &quantity).unwrap();

    // Each device's file: its own work, its participants' rows only.
    let request = |enumerator: &str, progress| AssignmentsRequest {
        enumerator: Some(enumerator.into()),
        progress,
    };
    let file_a = c.assignments_for(&a.device_id(), &request("enum-a", vec![])).unwrap();
    let rows = |f: &enumera_core::review::AssignmentsFile| {
        f.statement.participants.iter().map(|p| p.id.clone()).collect::<Vec<_>>()
    };
    seen.push(format!(
        "A gets {} assignment(s), rows {:?}, limited {}",
        file_a.statement.assignments.len(),
        rows(&file_a),
        file_a.statement.participants_limited
    ));
    let file_b = c.assignments_for(&b.device_id(), &request("enum-b", vec![])).unwrap();
    seen.push(format!(
        "B gets {} assignment(s), rows {:?}",
        file_b.statement.assignments.len(),
        rows(&file_b)
    ));
    seen.push(format!("rosters served to devices: {}", c.rosters_for_devices().unwrap().len()));

    // A applies its file and starts P1's interview; its next request
    // reports it (and a made-up progress for B's assignment, ignored).
    a.store.pin_central_key(&c.public_key().unwrap()).unwrap();
    apply_assignments(&mut a.store, &file_a.file).unwrap();
    let held: Vec<String> = a.store.participants().unwrap().into_iter().map(|p| p.id).collect();
    seen.push(format!("A holds {held:?}"));
    let mut new = NewResponse::new(a.plain.clone());
    new.participant_id = Some("P1".into());
    new.round = Some(1);
    a.store.create_draft(&new).unwrap();
    let mut progress = a.store.assignment_progress().unwrap();
    let b_work = &file_b.statement.assignments[0].assignment_id;
    progress.push(AssignmentProgress { assignment_id: b_work.clone(), started: 9, finalized: 9 });
    c.assignments_for(&a.device_id(), &request("enum-a", progress)).unwrap();
    let mut rows: Vec<String> = c
        .progress(None)
        .unwrap()
        .into_iter()
        .filter(|r| r.assigned > 0)
        .map(|r| {
            format!(
                "{}/{}: assigned {} started {} finalized {}",
                r.district.as_deref().unwrap_or("-"),
                r.enumerator.as_deref().unwrap_or("-"),
                r.assigned,
                r.started,
                r.finalized
            )
        })
        .collect();
    rows.sort();
    seen.extend(rows);

    // The supervisor moves P1 to B (Beira is in its scope): A's next file
    // no longer has it, but A keeps P1's row while its draft is unsent.
    let p1 = c
        .assignments(
            Some(&sup),
            &AssignmentFilter { participant: Some("P1".into()), ..Default::default() },
        )
        .unwrap()
        .remove(0);
    let moved = c.reassign(Some(&sup), &p1.assignment_id, &to_b).unwrap();
    seen.push(format!(
        "reassigned: replaces {}, district {:?}",
        moved.replaces.as_deref() == Some(p1.assignment_id.as_str()),
        moved.district
    ));
    let file_a = c.assignments_for(&a.device_id(), &request("enum-a", vec![])).unwrap();
    let report = apply_assignments(&mut a.store, &file_a.file).unwrap();
    seen.push(format!(
        "A after reassign: {} assignment(s), kept {:?}",
        report.assignments, report.participants_kept
    ));
    let live = c.assignments(None, &AssignmentFilter::default()).unwrap().len();
    let all = c
        .assignments(None, &AssignmentFilter { include_ended: true, ..Default::default() })
        .unwrap()
        .len();
    seen.push(format!("live {live}, all {all}"));
    let revoked = c.revoke_assignment(Some(&admin), &moved.assignment_id).unwrap();
    seen.push(format!("revoked: {}", revoked.ended_at.is_some()));
    let e = c.revoke_assignment(Some(&admin), &moved.assignment_id).unwrap_err();
    assert!(matches!(e, CentralError::BadAssignment { .. }), "{e}");
    let sees = c.assignments(Some(&sup), &AssignmentFilter::default()).unwrap().len();
    seen.push(format!("supervisor sees {sees}"));
    seen
}
