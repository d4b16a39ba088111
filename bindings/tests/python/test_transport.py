"""The HTTP transport implemented in Python, as the apps implement it in
Kotlin and Swift: requests Rust asks for, answers it gets back, and errors
thrown by the app arriving typed."""

import enumera_ffi
import pytest

from conftest import INSTRUMENTS

ROSTER = b'{"participants": [{"id": "MZ-0042"}, {"id": "BD-0113"}]}'


class FakeCentral(enumera_ffi.HttpTransport):
    """Answers like central would; records what it was asked."""

    def __init__(self, ffi, routes):
        self.ffi = ffi
        self.routes = routes
        self.seen = []

    def send(self, request):
        self.seen.append(request)
        answer = self.routes.get((request.method, request.path))
        if answer is None:
            return self.ffi.HttpResponse(status=404, headers={}, body=b"")
        if isinstance(answer, BaseException):
            raise answer
        return self.ffi.HttpResponse(status=200, headers={}, body=answer)


def client(ffi, device, routes, token="tok-123"):
    central = FakeCentral(ffi, routes)
    return ffi.SyncClient(device, central, token), central


def test_roster_comes_down_with_the_device_token(device, ffi):
    sync, central = client(ffi, device, {("GET", "/v1/roster"): ROSTER})
    summary = sync.fetch_roster()
    assert (summary.added, summary.updated, summary.unchanged) == (2, 0, 0)
    assert [p.id for p in device.participants()] == ["BD-0113", "MZ-0042"]
    (request,) = central.seen
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert request.body == b""


def test_a_published_form_is_installed(device, ffi):
    xlsx = (INSTRUMENTS / "registration.xlsx").read_bytes()
    sync, central = client(ffi, device, {("GET", "/v1/forms/p2p_registration"): xlsx})
    form = sync.fetch_form("p2p_registration")
    assert form.form_id == "p2p_registration"
    assert [f.form_id for f in device.forms()] == ["p2p_registration"]


def test_network_errors_thrown_by_the_app_come_back_typed(device, ffi):
    offline = ffi.EnumeraError.Network("no route to host")
    sync, _ = client(ffi, device, {("GET", "/v1/roster"): offline})
    with pytest.raises(ffi.EnumeraError.Network) as e:
        sync.fetch_roster()
    assert e.value.detail == "no route to host"


def test_any_other_exception_from_the_app_is_a_network_error(device, ffi):
    sync, _ = client(ffi, device, {("GET", "/v1/roster"): ValueError("socket closed")})
    with pytest.raises(ffi.EnumeraError.Network) as e:
        sync.fetch_roster()
    assert "socket closed" in e.value.detail


def test_an_error_status_is_refused_without_touching_the_device(device, ffi):
    sync, _ = client(ffi, device, {})
    with pytest.raises(ffi.EnumeraError.Network) as e:
        sync.fetch_roster()
    assert e.value.detail == "the server answered 404 to /v1/roster"
    assert device.participants() == []
