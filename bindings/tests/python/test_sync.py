"""Sync end to end, as a phone does it: the bindings' SyncClient speaks
core's protocol through an HTTP transport written in Python (urllib) to a
real `enumera central serve` on 127.0.0.1. Forms and the roster come down,
finalized responses go up, and the receipt marks them sent."""

import json
import os
import subprocess
import urllib.error
import urllib.request

import enumera_ffi
import pytest

from conftest import ENUMERA, INSTRUMENTS, enumera, form, replay, steps

ROSTER = {
    "participants": [
        {"id": "MZ-0042", "display": {"local_gov": "Quelimane"}, "personal": {"name": "A"}},
        {"id": "BD-0113", "display": {"local_gov": "Faridpur"}},
    ]
}


class UrllibTransport(enumera_ffi.HttpTransport):
    """What OkHttp and URLSession do in the apps: send, return any status."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.paths = []
        # Requests whose body came as a file (`body_path`): bundles.
        self.file_bodies = []

    def send(self, request):
        self.paths.append((request.method, request.path))
        headers = dict(request.headers)
        body = None
        if request.body_path is not None:
            # Streamed from the file, as OkHttp and URLSession do.
            assert request.body == b"", "body is empty when body_path is set"
            size = os.path.getsize(request.body_path)
            self.file_bodies.append((request.method, request.path, size))
            body = open(request.body_path, "rb")
            headers["Content-Length"] = str(size)
        elif request.method != "GET":
            body = request.body
        req = urllib.request.Request(
            self.base_url + request.path, data=body, headers=headers, method=request.method
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as reply:
                return enumera_ffi.HttpResponse(
                    status=reply.status, headers=dict(reply.headers), body=reply.read()
                )
        except urllib.error.HTTPError as e:
            return enumera_ffi.HttpResponse(status=e.code, headers=dict(e.headers), body=e.read())
        except OSError as e:
            raise enumera_ffi.EnumeraError.Network(f"{self.base_url}: {e}") from e
        finally:
            if hasattr(body, "close"):
                body.close()


class Central:
    """`enumera central serve` on a free port, with the study's forms and a
    roster published."""

    def __init__(self, tmp):
        self.db = tmp / "central.db"
        self.key = enumera("central", "--db", self.db, "init").strip()
        for name in ["practice_followup", "capacity_sealed"]:
            enumera("central", "--db", self.db, "publish", INSTRUMENTS / f"{name}.xlsx")
        roster = tmp / "lgas.json"
        roster.write_text(json.dumps(ROSTER))
        enumera("central", "--db", self.db, "roster", "publish", roster)
        self.server = subprocess.Popen(
            [str(ENUMERA), "central", "--db", str(self.db), "serve", "--listen", "127.0.0.1:0"],
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.server.stderr.readline()
        assert "listening on http://" in line, line
        self.url = line.strip().rsplit(" ", 1)[-1]

    def token(self, device):
        return enumera(
            "central", "--db", self.db, "token", "create", "--device", device.device().device_id
        ).strip()

    def status(self):
        return json.loads(enumera("central", "--db", self.db, "status", "--json"))

    def stop(self):
        self.server.terminate()
        self.server.wait(timeout=10)


@pytest.fixture
def central(tmp_path):
    c = Central(tmp_path)
    yield c
    c.stop()


def fill(device, form_id, script_name):
    script, _ = steps(script_name)
    interview = device.start_interview(form_id, None, None, False)
    replay(interview, script)
    interview.finalize()
    return interview.instance_id()


def test_a_new_tablet_gets_its_forms_and_roster_then_sends_what_it_filled(device, central):
    transport = UrllibTransport(central.url)
    sync = enumera_ffi.SyncClient(device, transport, central.token(device))

    first = sync.sync()
    assert (first.uploaded, first.receipt) == (0, None)
    assert sorted(f.form_id for f in first.forms_installed) == [
        "p2p_capacity_sealed",
        "p2p_practice_followup",
    ]
    ((roster),) = first.rosters
    assert (roster.name, roster.summary.added) == ("lgas", 2)
    assert [p.id for p in device.participants()] == ["BD-0113", "MZ-0042"]

    instance_id = fill(device, "p2p_practice_followup", "practice_followup.quelimane_round3")
    report = sync.sync()
    assert (report.uploaded, report.receipt.marked) == (1, [1])
    assert report.receipt.central_key_learned
    assert (report.forms_installed, report.forms_present) == ([], 2)
    assert report.rosters[0].summary.unchanged == 2
    (row,) = device.list_responses()
    assert (row.instance_id, row.state) == (instance_id, enumera_ffi.ResponseState.SENT)
    assert device.outbox(True) == []
    assert central.status()["responses"] == 1
    # The paths are the ones central serves: nothing was a 404.
    assert ("POST", "/v1/bundles") in transport.paths

    # Nothing new: nothing is posted, and central still holds one.
    posts = transport.paths.count(("POST", "/v1/bundles"))
    again = sync.upload()
    assert (again.uploaded, again.receipt) == (0, None)
    assert transport.paths.count(("POST", "/v1/bundles")) == posts
    assert central.status()["responses"] == 1


def test_trust_a_pinned_key_refuses_a_throwaway_centrals_receipt(device, central, tmp_path):
    """Issue 15, finding 9: the app pins central's key at set-up; a receipt
    from another central (a throwaway one that ingested the same bundle) is
    refused and marks nothing; the real central's receipt marks it."""
    assert device.central_trust() is None
    report = device.trust_central(central.key)
    assert (report.replaced_hex, report.reopened) == (None, [])
    assert device.central_trust() == enumera_ffi.CentralTrust(
        central_key_hex=central.key, pinned=True
    )
    sync = enumera_ffi.SyncClient(device, UrllibTransport(central.url), central.token(device))
    sync.fetch_updates()
    fill(device, "p2p_practice_followup", "practice_followup.quelimane_round3")

    bundle = tmp_path / "carried.bundle"
    device.export_bundle(str(bundle), True)
    rogue = tmp_path / "rogue.db"
    enumera("central", "--db", rogue, "init")
    enumera("central", "--db", rogue, "ingest", bundle, "--receipts", tmp_path / "receipts")
    receipt = (tmp_path / "receipts" / f"{device.device().device_id}.receipt").read_bytes()
    with pytest.raises(enumera_ffi.EnumeraError.BadReceipt):
        device.apply_receipt(receipt)
    assert len(device.outbox(True)) == 1

    report = sync.upload()
    assert report.receipt.marked == [1]
    assert not report.receipt.central_key_learned
    with pytest.raises(enumera_ffi.EnumeraError.BadReceipt):
        device.trust_central("not a key")


def test_a_sealed_response_reaches_central_unread(device, central):
    sync = enumera_ffi.SyncClient(device, UrllibTransport(central.url), central.token(device))
    sync.fetch_updates()
    fill(device, "p2p_capacity_sealed", "capacity_sealed.baseline_pt")
    assert sync.upload().receipt.marked == [1]
    status = central.status()
    assert (status["responses"], status["sealed"]) == (1, 1)


def test_a_lost_reply_is_recovered_with_the_receipt(device, central):
    """The upload reached central but its reply never came back: the device
    still holds the response as unsent; fetching the receipt settles it."""
    device.install_form_file(str(form("practice_followup")))
    fill(device, "p2p_practice_followup", "practice_followup.quelimane_round3")
    token = central.token(device)

    class LosesTheReply(UrllibTransport):
        def send(self, request):
            reply = super().send(request)
            if request.path == "/v1/bundles":
                raise enumera_ffi.EnumeraError.Network("connection reset")
            return reply

    with pytest.raises(enumera_ffi.EnumeraError.Network) as e:
        enumera_ffi.SyncClient(device, LosesTheReply(central.url), token).upload()
    assert e.value.detail == "connection reset"
    assert len(device.outbox(True)) == 1
    assert central.status()["responses"] == 1

    sync = enumera_ffi.SyncClient(device, UrllibTransport(central.url), token)
    assert sync.fetch_receipt().marked == [1]
    assert device.outbox(True) == []
    # Sending again anyway is harmless: central keeps it once.
    assert central.status()["responses"] == 1


def test_a_wrong_token_is_refused_and_nothing_changes(device, central):
    device.install_form_file(str(form("practice_followup")))
    fill(device, "p2p_practice_followup", "practice_followup.quelimane_round3")
    sync = enumera_ffi.SyncClient(device, UrllibTransport(central.url), "not-a-token")
    with pytest.raises(enumera_ffi.EnumeraError.Refused) as e:
        sync.sync()
    assert e.value.status == 401
    assert len(device.outbox(True)) == 1
    assert central.status()["responses"] == 0


def test_an_unreachable_central_is_a_network_error(device, central):
    url = central.url
    central.stop()
    device.install_form_file(str(form("practice_followup")))
    fill(device, "p2p_practice_followup", "practice_followup.quelimane_round3")
    with pytest.raises(enumera_ffi.EnumeraError.Network) as e:
        enumera_ffi.SyncClient(device, UrllibTransport(url), "t").sync()
    assert url in e.value.detail
    assert len(device.outbox(True)) == 1


def test_a_bundle_carried_by_hand_and_its_receipt(device, tmp_path):
    device.install_form_file(str(form("practice_followup")))
    fill(device, "p2p_practice_followup", "practice_followup.quelimane_round3")
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
