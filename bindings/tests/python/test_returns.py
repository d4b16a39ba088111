"""Returns through the bindings (issue 17), as a phone sees them: a
supervisor sends a response back from central with comments at its
questions; the next sync brings them, signed by central; the app shows
them, reopens the response as a correction, finalizes it and syncs; central
has it back at `received`, flagged as edited after return."""

import json

import enumera_ffi
import pytest

from conftest import enumera
from test_sync import UrllibTransport, central, fill  # noqa: F401  (central: a fixture)


def test_a_returned_response_comes_down_with_its_comments_and_is_corrected(device, central):
    sync = enumera_ffi.SyncClient(device, UrllibTransport(central.url), central.token(device))
    sync.sync()
    instance_id = fill(device, "p2p_practice_followup", "practice_followup.quelimane_round3")
    assert sync.sync().uploaded == 1
    assert device.returned_responses() == []

    device_id = device.device().device_id
    ana = enumera(
        "central", "--db", central.db, "token", "create", "--role", "supervisor",
        "--name", "Ana", "--device", device_id,
    ).strip()
    enumera(
        "central", "--db", central.db, "review", "reject", instance_id, "--token", ana,
        "--at", "/data/consent=consent was not recorded on paper",
        "--comment", "call me before you go back",
    )

    report = sync.sync()
    assert report.returns.new == [instance_id]
    (returned,) = device.returned_responses()
    assert (returned.instance_id, returned.status) == (
        instance_id,
        enumera_ffi.ReturnStatus.RETURNED,
    )
    assert returned.reviewer == "Ana"
    assert enumera_ffi.ReviewComment(
        reference="/data/consent", text="consent was not recorded on paper"
    ) in returned.comments
    assert enumera_ffi.ReviewComment(
        reference=None, text="call me before you go back"
    ) in returned.comments
    # A file that is not central's signed returns is refused whole.
    with pytest.raises(enumera_ffi.EnumeraError.BadReturn):
        device.apply_returns(b'{"format": "enumera-returns/1"}')

    interview = device.reopen_returned(instance_id)
    correction = interview.instance_id()
    assert correction != instance_id
    assert device.return_corrected_by(correction).instance_id == instance_id
    interview.answer("/data/consent", "yes")
    interview.finalize()
    assert device.returned_responses()[0].status == enumera_ffi.ReturnStatus.CORRECTED

    assert sync.sync().uploaded == 1
    listed = json.loads(
        enumera("central", "--db", central.db, "review", "list", "--token", ana, "--json")
    )
    (item,) = listed
    assert (item["instance_id"], item["state"]) == (correction, "received")
    assert (item["deprecated_id"], item["edited_after_return"]) == (instance_id, True)
