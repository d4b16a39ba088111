"""Loads the generated Python bindings (scripts/bindings.sh writes them, with
the library beside them, into build/bindings/python) and gives each test a
fresh device database.

The phones' library reads forms as Enumera instruments (JSON), as central
publishes them; the study's XLSForms are converted once with the CLI
(`enumera form convert`), as central does when it publishes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
BINDINGS = Path(os.environ.get("ENUMERA_BINDINGS", REPO / "build" / "bindings")) / "python"
sys.path.insert(0, str(BINDINGS))

import enumera_ffi  # noqa: E402  (the generated module)

INSTRUMENTS = REPO / "instruments" / "p2p-sanitation"
ENUMERA = Path(os.environ.get("ENUMERA_BIN", REPO / "target" / "debug" / "enumera"))
FORMS = BINDINGS.parent / "forms"


def enumera(*args):
    """Runs the `enumera` CLI; its stdout."""
    if not ENUMERA.exists():
        pytest.fail(f"{ENUMERA} is not built (cargo build -p enumera-cli)")
    done = subprocess.run([str(ENUMERA), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def form(name):
    """The study's form `name` (e.g. practice_followup) as instrument JSON."""
    out = FORMS / f"{name}.json"
    xlsx = INSTRUMENTS / f"{name}.xlsx"
    # Converted again when the form or the CLI changed: an instrument
    # written by an older build may hash differently.
    stale = lambda: max(xlsx.stat().st_mtime, ENUMERA.stat().st_mtime) > out.stat().st_mtime
    if not out.exists() or stale():
        FORMS.mkdir(parents=True, exist_ok=True)
        enumera("form", "convert", xlsx, "-o", out)
    return out


@pytest.fixture
def ffi():
    return enumera_ffi


@pytest.fixture
def device(tmp_path):
    store = enumera_ffi.DeviceStore.open(str(tmp_path / "device.db"))
    store.init_device("tablet 7", "enum-7")
    return store


@pytest.fixture
def followup(device):
    """A device with the practice follow-up form (a repeat, constraints)."""
    installed = device.install_form_file(str(form("practice_followup")))
    return device, installed


def steps(name):
    """A scripted interview of the study (instruments/p2p-sanitation/steps)."""
    with open(INSTRUMENTS / "steps" / f"{name}.json") as f:
        script = json.load(f)
    with open(INSTRUMENTS / "steps" / f"{name}.expect.json") as f:
        expect = json.load(f)
    return script, expect


def replay(interview, script):
    """Runs `form run` style steps through the bindings."""
    for step in script:
        if "set_language" in step:
            interview.set_language(step["set_language"])
        elif "set" in step:
            value = step["value"]
            if isinstance(value, list):
                value = " ".join(value)
            interview.answer(step["set"], value)
        elif "add_repeat" in step:
            interview.add_repeat(step["add_repeat"])
        elif "remove_repeat" in step:
            interview.remove_repeat(step["remove_repeat"])
        else:
            raise AssertionError(f"unknown step {step}")
