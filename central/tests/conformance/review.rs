//! Review (issue 17) on every store: roles, signed and appended actions,
//! returns to the device, the correction, and review in the export.

use enumera_central::export::{ExportOptions, Format, export};
use enumera_central::{
    AnyStore, Central, CentralError, ReviewFilter, Revoke, Role, Scope, TokenGrant,
};
use enumera_core::bundle::finalize_response;
use enumera_core::review::{Comment, ReviewKind, apply_returns};

use super::stores::Backend;
use crate::common::{self, Device, instrument};

/// The scenario is stateful on the device's side (it applies a return and
/// corrects), so each store runs it with a device of its own and the
/// answers, free of ids and times, are compared with what is expected
/// rather than dump against dump.
pub fn review_returns_and_corrections_agree(b: &Backend) {
    let seen = scenario(&mut b.fresh());
    let expected = [
        "rejected",
        "1 events, 1 comments",
        "1 returned",
        "received after return: true",
        "approved",
        "1 listed",
        "review.csv: 2 rows",
        "review_status.csv: 1 rows",
        "device,supervisor,supervisor",
    ];
    assert_eq!(seen, expected);
}

fn scenario(c: &mut Central<AnyStore>) -> Vec<String> {
    {
        let mut a = Device::new("tablet A");
        let other = Device::new("tablet B");
        let x = a.finalize("12", false, None);
        c.publish(&instrument("plain", &[])).unwrap();
        c.ingest(&a.bundle(false)).unwrap();
        let scope = Scope { districts: Default::default(), devices: [a.device_id()].into() };
        let sup = c
            .create_role_token(&TokenGrant { role: Role::Supervisor, subject: "Ana".into(), scope })
            .unwrap();
        let elsewhere =
            Scope { districts: Default::default(), devices: [other.device_id()].into() };
        let outsider = c
            .create_role_token(&TokenGrant {
                role: Role::Supervisor,
                subject: "Bea".into(),
                scope: elsewhere,
            })
            .unwrap();
        let device = c.create_token(&a.device_id()).unwrap();
        let mut seen = Vec::new();

        // Least privilege, the same on every store.
        let e = c.review_with_token(&device, &x, ReviewKind::Approve, vec![]).unwrap_err();
        assert!(matches!(e, CentralError::Forbidden { .. }), "{e}");
        let e = c.review_with_token(&outsider, &x, ReviewKind::Approve, vec![]).unwrap_err();
        assert!(matches!(e, CentralError::OutOfScope { .. }), "{e}");

        // Returned with a comment at a question; a second move from
        // rejected to approved is refused until it is corrected.
        let at = vec![Comment::at("/data/a", "check the ID card")];
        let out = c.review_with_token(&sup, &x, ReviewKind::Reject, at).unwrap();
        seen.push(out.state.to_string());
        let e = c.review_with_token(&sup, &x, ReviewKind::Approve, vec![]).unwrap_err();
        assert!(matches!(e, CentralError::BadReview { .. }), "{e}");
        let ana = c.principal(&sup).unwrap().unwrap();
        let shown = c.review_show(&ana, &x).unwrap();
        seen.push(format!("{} events, {} comments", shown.events.len(), shown.item.comments));

        // The return reaches the device, which corrects; central takes the
        // correction back to received, flagged.
        a.store.pin_central_key(&c.public_key().unwrap()).unwrap();
        let returns = c.returns_for(&a.device_id()).unwrap();
        seen.push(format!("{} returned", returns.statement.returns.len()));
        apply_returns(&mut a.store, &returns.file).unwrap();
        let draft = a.store.reopen(&x).unwrap().instance_id;
        a.store.set_answer(&draft, "/data/a", "21").unwrap();
        let xml = format!("<data><a>21</a><meta><instanceID>{draft}</instanceID></meta></data>");
        let json = serde_json::json!({"a": "21", "meta": {"instanceID": draft}}).to_string();
        finalize_response(&mut a.store, &draft, xml, json).unwrap();
        c.ingest(&a.bundle(true)).unwrap();
        let item = c.review_show(&ana, &draft).unwrap().item;
        seen.push(format!("{} after return: {}", item.state, item.edited_after_return));
        assert!(c.returns_for(&a.device_id()).unwrap().statement.returns.is_empty());
        let out = c.review_with_token(&sup, &draft, ReviewKind::Approve, vec![]).unwrap();
        seen.push(out.state.to_string());
        let listed = c.review_list(&ana, &ReviewFilter::default()).unwrap();
        seen.push(format!("{} listed", listed.len()));

        // The export's review files.
        let dir = common::tempdir();
        let opts = ExportOptions { format: Some(Format::Csv), ..Default::default() };
        export(c.store(), &opts, dir.path(), &mut |_, _| {}).unwrap();
        for name in ["review.csv", "review_status.csv"] {
            let rows = csv::Reader::from_path(dir.path().join(name)).unwrap().records().count();
            seen.push(format!("{name}: {rows} rows"));
        }

        // A revoked reviewer's token reviews no more.
        assert_eq!(c.revoke(&Revoke::Subject("Ana".into())).unwrap(), 1);
        assert!(c.principal(&sup).unwrap().is_none());
        // Listed oldest first; within one second by name, so sorted here.
        let mut roles: Vec<String> =
            c.tokens().unwrap().iter().map(|t| t.role.to_string()).collect();
        roles.sort();
        seen.push(roles.join(","));
        seen
    }
}
