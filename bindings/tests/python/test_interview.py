"""A whole interview through the generated Python bindings and the real
library: install the study's follow-up form, fill it, break a constraint and
read its message, add repeats, finalize, and list the outbox."""

import json

import pytest

from conftest import INSTRUMENTS, form, replay, steps


def test_install_is_idempotent_and_lists_the_form(followup):
    device, installed = followup
    assert installed.form_id == "p2p_practice_followup"
    assert len(installed.hash) == 64
    again = device.install_form_file(str(form("practice_followup")))
    assert again.hash == installed.hash
    assert [f.form_id for f in device.forms()] == ["p2p_practice_followup"]


def test_device_identity(device, ffi):
    info = device.device()
    assert info.name == "tablet 7" and info.enumerator_id == "enum-7"
    assert len(info.public_key) == 64
    with pytest.raises(ffi.EnumeraError.Internal):
        # A key is never replaced silently.
        device.init_device("again", None)


def test_a_scripted_round3_interview_finalizes(followup, ffi):
    device, _ = followup
    script, expect = steps("practice_followup.quelimane_round3")
    interview = device.start_interview("p2p_practice_followup", None, None, False)
    replay(interview, script)

    for ref, value in expect["values"].items():
        assert interview.question(ref).value == value, ref
    for ref, relevant in expect["relevant"].items():
        if ref.endswith("changes"):
            continue  # a repeat range, not a question
        assert interview.question(ref).relevant == relevant, ref
    assert interview.blockers() == []
    assert interview.language() == "English (en)"

    entry = interview.finalize()
    assert entry.seq == 1 and entry.instance_id == interview.instance_id()
    assert interview.is_finalized()
    rows = device.list_responses()
    assert [(r.instance_id, r.state) for r in rows] == [
        (interview.instance_id(), ffi.ResponseState.FINALIZED)
    ]
    assert [o.seq for o in device.outbox(True)] == [1]
    counts = device.state_counts()
    assert (counts.draft, counts.finalized) == (0, 1)
    with pytest.raises(ffi.EnumeraError.NotEditable):
        interview.answer("/data/interview/peers/peer_topics", "more")


def test_a_broken_constraint_shows_its_message_and_blocks_finalizing(followup, ffi):
    device, _ = followup
    interview = device.start_interview("p2p_practice_followup", None, None, False)
    q = interview.answer("/data/participant_id", "Maria Silva")
    assert q.issue is not None
    assert q.issue.kind == ffi.IssueKind.CONSTRAINT
    assert "MZ-0042" in q.issue.text or "ID" in q.issue.text, q.issue.text
    with pytest.raises(ffi.EnumeraError.Blocked) as blocked:
        interview.finalize()
    issues = {i.reference: i for i in blocked.value.issues}
    assert issues["/data/participant_id"].kind == ffi.IssueKind.CONSTRAINT
    assert any(i.kind == ffi.IssueKind.REQUIRED for i in issues.values())
    # Nothing was lost: the interview goes on and the fix clears the issue.
    assert interview.answer("/data/participant_id", "MZ-0042").issue is None
    assert not interview.is_finalized()


def test_the_study_invalid_script_is_blocked_on_the_expected_question(followup, ffi):
    device, _ = followup
    script, expect = steps("practice_followup.no_changes_invalid")
    interview = device.start_interview("p2p_practice_followup", None, None, False)
    replay(interview, script)
    with pytest.raises(ffi.EnumeraError.Blocked) as blocked:
        interview.finalize()
    refs = [i.reference for i in blocked.value.issues if i.kind == ffi.IssueKind.CONSTRAINT]
    assert refs == expect["violations"]


def test_repeats_add_and_remove(followup):
    device, _ = followup
    interview = device.start_interview("p2p_practice_followup", None, None, False)
    interview.answer("/data/consent", "yes")  # the interview group needs consent
    interview.answer("/data/interview/practice/any_changes", "yes")
    changes = "/data/interview/practice/changes"
    assert interview.add_repeat(changes) == f"{changes}[2]"
    assert interview.add_repeat(changes) == f"{changes}[3]"
    interview.answer(f"{changes}[3]/change_type", "budget")
    interview.remove_repeat(f"{changes}[2]")
    assert interview.question(f"{changes}[2]/change_type").value == "budget"
    adds = [s for s in interview.screens() if s.is_add_repeat()]
    assert [(s.reference, s.count) for s in adds] == [(changes, 2)]
    assert interview.question("/data/interview/practice/n_changes").value == "2"
    kinds = {h.reference: h.kind for h in interview.hierarchy()}
    assert kinds[f"{changes}[2]"] == "repeat"


def test_wrong_values_are_refused_without_echoing_them(followup, ffi):
    device, _ = followup
    interview = device.start_interview("p2p_practice_followup", None, None, False)
    with pytest.raises(ffi.EnumeraError.InvalidAnswer) as e:
        interview.answer("/data/round", "Maria Silva")
    assert e.value.reference == "/data/round"
    assert "Maria" not in str(e.value) and "round2" in e.value.reason
    with pytest.raises(ffi.EnumeraError.UnknownReference):
        interview.answer("/data/nope", "1")
    with pytest.raises(ffi.EnumeraError.NotFound):
        interview.set_language("Klingon")


def test_a_draft_resumes_where_it_was_left(followup):
    device, _ = followup
    interview = device.start_interview("p2p_practice_followup", None, None, False)
    interview.answer("/data/consent", "yes")  # the interview group needs consent
    interview.answer("/data/interview/practice/any_changes", "yes")
    interview.add_repeat("/data/interview/practice/changes")
    interview.answer("/data/interview/practice/changes[2]/change_type", "plan")
    instance_id = interview.instance_id()
    del interview  # the app is killed
    again = device.resume_interview(instance_id)
    assert again.question("/data/interview/practice/changes[2]/change_type").value == "plan"


def test_languages_switch_labels(followup):
    device, _ = followup
    interview = device.start_interview("p2p_practice_followup", None, None, False)
    assert "Portuguese (pt)" in interview.languages()
    interview.set_language("en")
    english = interview.question("/data/consent").label
    interview.set_language("pt")
    assert interview.question("/data/consent").label != english
    choices = interview.question("/data/round").choices
    assert [c.value for c in choices] == ["round2", "round3"]


def test_forms_with_errors_are_refused_with_every_problem(device, ffi):
    with pytest.raises(ffi.EnumeraError.InvalidForm) as e:
        device.install_form_bytes(b'{"form_id": 3}', "broken.json")
    assert "broken.json" in e.value.problems[0]
    broken = json.loads(form("practice_followup").read_text())
    broken["children"][0]["name"] = "not a name"
    broken["children"][1]["name"] = broken["children"][2]["name"]
    with pytest.raises(ffi.EnumeraError.InvalidForm) as e:
        device.install_form_bytes(json.dumps(broken).encode(), "broken.json")
    assert len(e.value.problems) >= 2, e.value.problems
    with pytest.raises(ffi.EnumeraError.NotFound) as e:
        device.start_interview("missing", None, None, False)
    assert e.value.id == "missing"


def test_the_phone_library_asks_for_instruments_not_workbooks(device, ffi):
    """The mobile build leaves the XLSForm reader out (its size); it says
    what to do instead."""
    with pytest.raises(ffi.EnumeraError.InvalidForm) as e:
        device.install_form_file(str(INSTRUMENTS / "practice_followup.xlsx"))
    (problem,) = e.value.problems
    assert "enumera form convert" in problem and "practice_followup.xlsx" in problem
    assert device.forms() == []


def test_roster_and_participants(device, ffi):
    roster = b'{"participants": [{"id": "MZ-0042", "display": {"local_gov": "Quelimane"}, "personal": {"name": "A"}}]}'
    summary = device.import_roster(roster)
    assert (summary.added, summary.updated) == (1, 0)
    assert device.import_roster(roster).unchanged == 1
    p = device.participant("MZ-0042")
    assert p.display == {"local_gov": "Quelimane"}
    with pytest.raises(ffi.EnumeraError.NotFound):
        device.participant("MZ-9999")
    with pytest.raises(ffi.EnumeraError.InvalidForm):
        device.import_roster(b"[{]")


def test_an_interview_for_a_participant_is_linked(followup, ffi):
    device, _ = followup
    device.import_roster(b'[{"id": "MZ-0042"}]')
    interview = device.start_interview("p2p_practice_followup", "MZ-0042", 3, False)
    assert interview.question("/data/participant_id").value == "MZ-0042"
    assert interview.question("/data/round").value == "round3"
    (row,) = device.list_responses()
    assert (row.participant_id, row.round, row.state) == ("MZ-0042", 3, ffi.ResponseState.DRAFT)
