"""Sync end to end: responses filled through the bindings go to a real
central (the `enumera` CLI's central, driven by a transport written in
Python), and the receipt central answers with marks them sent."""

import json
import os
import subprocess
from pathlib import Path

import enumera_ffi
import pytest

from conftest import INSTRUMENTS, REPO, replay, steps

ENUMERA = Path(os.environ.get("ENUMERA_BIN", REPO / "target" / "debug" / "enumera"))

pytestmark = pytest.mark.skipif(
    not ENUMERA.exists(), reason=f"{ENUMERA} not built (cargo build -p enumera-cli)"
)


def enumera(*args):
    done = subprocess.run([str(ENUMERA), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


class CliCentral(enumera_ffi.HttpTransport):
    """Central over HTTP as the app sees it, backed by `enumera central`."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.db = tmp / "central.db"
        self.posts = 0
        enumera("central", "--db", self.db, "init")

    def send(self, request):
        if (request.method, request.path) != ("POST", "/v1/bundles"):
            return enumera_ffi.HttpResponse(status=404, headers={}, body=b"")
        assert request.headers["Authorization"] == "Bearer device-token"
        self.posts += 1
        bundle = self.tmp / f"upload-{self.posts}.bundle"
        bundle.write_bytes(request.body)
        receipts = self.tmp / f"receipts-{self.posts}"
        receipts.mkdir()
        enumera("central", "--db", self.db, "ingest", bundle, "--receipts", receipts)
        (receipt,) = receipts.iterdir()
        return enumera_ffi.HttpResponse(status=200, headers={}, body=receipt.read_bytes())

    def status(self):
        return json.loads(enumera("central", "--db", self.db, "status", "--json"))


def finalized(device, form_file, script_name):
    device.install_form_file(str(INSTRUMENTS / form_file))
    script, _ = steps(script_name)
    form_id = device.forms()[-1].form_id
    interview = device.start_interview(form_id, None, None, False)
    replay(interview, script)
    interview.finalize()
    return interview.instance_id()


def test_finalized_responses_sync_and_the_receipt_marks_them_sent(device, tmp_path):
    instance_id = finalized(
        device, "practice_followup.xlsx", "practice_followup.quelimane_round3"
    )
    central = CliCentral(tmp_path)
    sync = enumera_ffi.SyncClient(device, central, "device-token")

    report = sync.sync()
    assert (report.sent, report.receipt.marked) == (1, [1])
    assert report.receipt.central_key_pinned
    (row,) = device.list_responses()
    assert (row.instance_id, row.state) == (instance_id, enumera_ffi.ResponseState.SENT)
    assert device.outbox(True) == []
    assert central.status()["responses"] == 1

    # Nothing new: nothing is posted.
    again = sync.sync()
    assert (again.sent, again.receipt, central.posts) == (0, None, 1)


def test_a_sealed_form_reaches_central_unread(device, tmp_path):
    finalized(device, "capacity_sealed.xlsx", "capacity_sealed.baseline_pt")
    central = CliCentral(tmp_path)
    report = enumera_ffi.SyncClient(device, central, "device-token").sync()
    assert report.receipt.marked == [1]
    status = central.status()
    assert (status["responses"], status["sealed"]) == (1, 1)


def test_a_bundle_carried_by_hand_and_its_receipt(device, tmp_path):
    finalized(device, "practice_followup.xlsx", "practice_followup.quelimane_round3")
    bundle = tmp_path / "by-hand.bundle"
    info = device.export_bundle(str(bundle), False)
    assert (info.responses, info.first_seq, info.last_seq) == (1, 1, 1)
    assert info.bytes == bundle.stat().st_size

    central_db = tmp_path / "central.db"
    enumera("central", "--db", central_db, "init")
    receipts = tmp_path / "receipts"
    receipts.mkdir()
    enumera("central", "--db", central_db, "ingest", bundle, "--receipts", receipts)
    (receipt,) = receipts.iterdir()
    data = receipt.read_bytes()

    forged = bytearray(data)
    forged[len(forged) // 2] ^= 1
    with pytest.raises(enumera_ffi.EnumeraError.BadReceipt):
        device.apply_receipt(bytes(forged))
    assert device.outbox(True) != []

    report = device.apply_receipt(data)
    assert report.marked == [1] and report.not_matching == 0
    assert device.apply_receipt(data).already_sent == [1]
