"""Assignments through the bindings (issue 17, item 5), as a phone sees
them: central assigns one of the roster's officials to this tablet; the
next sync brings the signed assignments file with only that official's
roster row; the app lists its work, starts the interview from the
assignment, finalizes it and syncs; the assignment shows as done and
central's progress counts it."""

import json

import enumera_ffi
import pytest

from conftest import enumera, steps, replay
from test_sync import UrllibTransport, central  # noqa: F401  (central: a fixture)


def test_a_tablet_gets_only_its_assigned_participant_and_fills_that_interview(device, central):
    device_id = device.device().device_id
    enumera(
        "central", "--db", central.db, "assign", "--form", "p2p_practice_followup",
        "--round", "3", "--participant", "MZ-0042", "--device", device_id,
    )
    sync = enumera_ffi.SyncClient(device, UrllibTransport(central.url), central.token(device))
    first = sync.sync()
    # Whole rosters are no longer served once participants are assigned:
    # the tablet holds its own official's row, not the other one's.
    assert first.rosters == []
    assert first.assignments.assignments == 1
    assert first.assignments.central_key_learned
    assert [p.id for p in device.participants()] == ["MZ-0042"]
    (work,) = device.assignments()
    assert (work.form_id, work.participant_id, work.round) == (
        "p2p_practice_followup", "MZ-0042", 3,
    )
    assert (work.started, work.finalized, work.done) == (0, 0, False)

    interview = device.start_assigned_interview(work.assignment_id)
    script, _ = steps("practice_followup.quelimane_round3")
    replay(interview, script)
    assert device.assignments()[0].started == 1
    interview.finalize()
    assert device.assignments()[0].done

    assert sync.sync().uploaded == 1
    sync.fetch_assignments()
    progress = json.loads(enumera("central", "--db", central.db, "progress", "--json"))
    row = next(r for r in progress if r["assigned"])
    assert (row["assigned"], row["started"], row["finalized"], row["received"]) == (1, 1, 1, 1)

    # Another file than central's signed one is refused whole.
    with pytest.raises(enumera_ffi.EnumeraError.BadAssignments):
        device.apply_assignments(b'{"format": "enumera-assignments/1"}')
    with pytest.raises(enumera_ffi.EnumeraError.BadAssignments):
        device.start_assigned_interview("asg-none")
