"""The audit log through the bindings (issue 17, item 4), as a phone uses
it: the form's `audit` asks who fills it and for a reason on edits; the app
names the user, reports the screens it shows, and cannot finalize an edit of
a finalized response until the enumerator gives the reason."""

import json

import pytest


def audited_form(tmp_path):
    form = {
        "model_version": 1, "form_id": "au", "version": "1", "title": "Audited",
        "root_name": "data", "settings": {},
        "children": [
            {"name": "name", "kind": {"kind": "question", "type": "text"}, "row": 2,
             "label": {"": "Name"}},
            {"name": "age", "kind": {"kind": "question", "type": "integer"}, "row": 3,
             "label": {"": "Age"}},
            {"name": "audit", "kind": {"kind": "question", "type": "audit"}, "row": 4,
             "parameters": {"track-changes": "true", "identify-user": "true",
                            "track-changes-reasons": "on-form-edit"}},
        ],
    }
    path = tmp_path / "au.json"
    path.write_text(json.dumps(form))
    return str(path)


def test_an_edit_needs_its_reason_and_the_user_is_named(device, ffi, tmp_path):
    device.install_form_file(audited_form(tmp_path))
    interview = device.start_interview("au", None, None, False)
    assert interview.audited()
    assert interview.user_needed()
    interview.set_user("enum-7")
    assert not interview.user_needed()
    assert not interview.change_reason_needed(), "a new response needs no reason"
    interview.show("/data/name")
    interview.answer("/data/name", "Ana")
    interview.show("/data/age")
    interview.answer("/data/age", "13")
    first = interview.instance_id()
    interview.finalize()

    edit = device.edit_response(first)
    assert edit.instance_id() != first
    assert edit.change_reason_needed()
    edit.answer("/data/age", "31")
    with pytest.raises(ffi.EnumeraError.ChangeReasonRequired):
        edit.finalize()
    assert not edit.is_finalized()
    with pytest.raises(ffi.EnumeraError.InvalidAnswer):
        edit.set_change_reason("   ")
    edit.set_change_reason("age misheard")
    assert not edit.change_reason_needed()
    edit.finalize()
    assert edit.is_finalized()
    # Both versions went to the outbox, each with its audit.csv.
    assert len(device.outbox(False)) == 2
