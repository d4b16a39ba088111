"""The HTTP transport implemented in Python, as the apps implement it in
Kotlin and Swift: the requests Rust asks for, what it does with the
answers, and errors thrown by the app arriving typed. A scripted central
here; test_sync.py talks to the real one."""

import hashlib
import json
import tempfile
from pathlib import Path

import enumera_ffi
import pytest

from conftest import enumera, form

ROSTER = b'{"participants": [{"id": "MZ-0042"}, {"id": "BD-0113"}]}'


class FakeCentral(enumera_ffi.HttpTransport):
    """Answers from a table of routes; records what it was asked."""

    def __init__(self, routes):
        self.routes = routes
        self.seen = []

    def send(self, request):
        self.seen.append(request)
        answer = self.routes.get((request.method, request.path))
        if answer is None:
            body = json.dumps({"error": "not_found", "message": "no such path"}).encode()
            return enumera_ffi.HttpResponse(status=404, headers={}, body=body)
        if isinstance(answer, BaseException):
            raise answer
        status, body = answer if isinstance(answer, tuple) else (200, answer)
        return enumera_ffi.HttpResponse(status=status, headers={}, body=body)


def instrument_hash(instrument):
    """The hash central lists an instrument under: its content hash, as
    `enumera form check --json` reports it (not the file's SHA-256: where
    each question came from in the workbook is left out of it)."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "instrument.json"
        path.write_bytes(instrument)
        return json.loads(enumera("form", "check", path, "--json"))["hash"]


def listing(roster=ROSTER, instrument=None):
    """Routes publishing one roster and, when given, one instrument."""
    routes = {
        ("GET", "/v1/rosters"): json.dumps(
            [
                {
                    "name": "lgas",
                    "sha256": hashlib.sha256(roster).hexdigest(),
                    "participants": 2,
                    "published_at": "2026-11-29T10:00:00Z",
                }
            ]
        ).encode(),
        ("GET", "/v1/rosters/lgas"): roster,
        ("GET", "/v1/instruments"): b"[]",
    }
    if instrument is not None:
        data = json.loads(instrument)
        digest = instrument_hash(instrument)
        routes[("GET", "/v1/instruments")] = json.dumps(
            [
                {
                    "form_id": data["form_id"],
                    "version": data["version"],
                    "hash": digest,
                    "title": data["title"],
                    "published_at": "2026-11-29T10:00:00Z",
                }
            ]
        ).encode()
        routes[("GET", f"/v1/instruments/{digest}")] = instrument
    return routes


def test_updates_come_down_with_the_device_token(device):
    central = FakeCentral(listing())
    sync = enumera_ffi.SyncClient(device, central, "tok-123")
    report = sync.fetch_updates()
    ((roster),) = report.rosters
    assert (roster.name, roster.summary.added) == ("lgas", 2)
    assert [p.id for p in device.participants()] == ["BD-0113", "MZ-0042"]
    assert [(r.method, r.path) for r in central.seen] == [
        ("GET", "/v1/instruments"),
        ("GET", "/v1/rosters"),
        ("GET", "/v1/rosters/lgas"),
    ]
    assert all(r.headers["Authorization"] == "Bearer tok-123" for r in central.seen)
    assert all(r.body == b"" for r in central.seen)


def test_a_published_form_is_installed_and_checked_against_its_hash(device):
    instrument = form("registration").read_bytes()
    sync = enumera_ffi.SyncClient(device, FakeCentral(listing(instrument=instrument)), "t")
    (installed,) = sync.fetch_updates().forms_installed
    assert installed.form_id == "p2p_registration"
    assert [f.form_id for f in device.forms()] == ["p2p_registration"]
    # Already there: not fetched again.
    assert sync.fetch_updates().forms_present == 1


def test_a_form_that_does_not_match_its_listing_is_refused(device):
    """Left out and reported, with why; it stops nothing else (issue 15)."""
    instrument = form("registration").read_bytes()
    routes = listing(instrument=instrument)
    (path,) = [p for (m, p) in routes if p.startswith("/v1/instruments/")]
    tampered = json.loads(instrument)
    tampered["title"] = "Something else"
    routes[("GET", path)] = json.dumps(tampered).encode()
    sync = enumera_ffi.SyncClient(device, FakeCentral(routes), "t")
    report = sync.fetch_updates()
    (refused,) = report.forms_refused
    assert "hash" in refused.reason
    assert refused.form.hash == path.rsplit("/", 1)[-1]
    assert report.forms_installed == []
    assert device.forms() == []


def test_network_errors_thrown_by_the_app_come_back_as_thrown(device, ffi):
    offline = ffi.EnumeraError.Network("no route to host")
    sync = ffi.SyncClient(device, FakeCentral({("GET", "/v1/instruments"): offline}), "t")
    with pytest.raises(ffi.EnumeraError.Network) as e:
        sync.fetch_updates()
    assert e.value.detail == "no route to host"


def test_any_other_exception_from_the_app_is_a_network_error(device, ffi):
    broken = ValueError("socket closed")
    sync = ffi.SyncClient(device, FakeCentral({("GET", "/v1/instruments"): broken}), "t")
    with pytest.raises(ffi.EnumeraError.Network) as e:
        sync.fetch_updates()
    assert "socket closed" in e.value.detail


def test_statuses_become_network_or_refused(device, ffi):
    busy = {("GET", "/v1/instruments"): (503, b'{"error": "busy", "message": "later"}')}
    with pytest.raises(ffi.EnumeraError.Network) as e:
        ffi.SyncClient(device, FakeCentral(busy), "t").fetch_updates()
    assert "503" in e.value.detail

    with pytest.raises(ffi.EnumeraError.Refused) as e:
        ffi.SyncClient(device, FakeCentral({}), "t").fetch_updates()
    assert (e.value.status, e.value.code) == (404, "")
    assert device.participants() == []


def test_interviews_keep_saving_while_a_sync_waits_on_the_network(followup):
    """The transport runs while the sync holds no lock on the device store:
    an answer given meanwhile (another screen, another thread) is saved."""
    import threading

    device, _ = followup
    interview = device.start_interview("p2p_practice_followup", None, None, False)
    answered = []

    class SlowCentral(FakeCentral):
        def send(self, request):
            # The enumerator answers while the request is on the wire.
            worker = threading.Thread(target=lambda: answered.append(
                interview.answer("/data/consent", "yes").value))
            worker.start()
            worker.join(timeout=10)
            return super().send(request)

    sync = enumera_ffi.SyncClient(device, SlowCentral(listing()), "t")
    done = threading.Thread(target=sync.fetch_updates)
    done.start()
    done.join(timeout=30)
    assert not done.is_alive(), "sync and the interview deadlocked"
    assert answered and set(answered) == {"yes"}, answered
    resumed = device.resume_interview(interview.instance_id())
    assert resumed.question("/data/consent").value == "yes"
