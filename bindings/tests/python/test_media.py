"""Media through the bindings (issue 18): an app answers file questions
with a photo file and a signature drawn as bytes; the device store keeps
each file with its answer; the bundle carries them to central, whose export
writes them into media/ byte for byte."""

import csv
import hashlib
import json

import pytest

from conftest import enumera

FORM = {
    "model_version": 1,
    "form_id": "kii_media",
    "version": "1",
    "title": "KII media",
    "root_name": "data",
    "settings": {},
    "children": [
        {"name": "informant", "kind": {"kind": "question", "type": "text"}, "row": 2,
         "label": {"": "Informant"}},
        {"name": "site", "kind": {"kind": "question", "type": "image"}, "row": 3,
         "label": {"": "Photo of the site"}},
        {"name": "consent", "kind": {"kind": "question", "type": "image"}, "row": 4,
         "label": {"": "Signature"}, "appearance": "signature"},
    ],
}


def jpeg(seed):
    """A JPEG-shaped file made by the test: start and end markers."""
    return b"\xff\xd8\xff\xe0" + bytes((i * 31 + seed) % 256 for i in range(50_000)) + b"\xff\xd9"


def test_attached_files_reach_the_export(device, ffi, tmp_path):
    form = tmp_path / "kii_media.json"
    form.write_text(json.dumps(FORM))
    device.install_form_file(str(form))
    interview = device.start_interview("kii_media", None, None, False)
    interview.answer("/data/informant", "Dona Rosa")

    first, photo, signature = jpeg(1), jpeg(2), b"\x89PNG\r\n\x1a\n a signature"
    (tmp_path / "first.jpg").write_bytes(first)
    (tmp_path / "site.jpg").write_bytes(photo)
    interview.attach_file("/data/site", str(tmp_path / "first.jpg"))
    site = interview.attach_file("/data/site", str(tmp_path / "site.jpg"))
    assert site.size == len(photo) and site.sha256 == hashlib.sha256(photo).hexdigest()
    assert site.name.endswith(".jpg") and site.name[:-4].isdigit()
    assert interview.question("/data/site").value == site.name
    consent = interview.attach_bytes("/data/consent", signature, "signature.png")
    assert consent.name.endswith(".png") and consent.name != site.name

    with pytest.raises(ffi.EnumeraError.InvalidAnswer):
        interview.attach_file("/data/informant", str(tmp_path / "site.jpg"))
    with pytest.raises(ffi.EnumeraError):
        interview.attach_file("/data/site", str(tmp_path / "missing.jpg"))
    assert interview.question("/data/site").value == site.name

    interview.finalize()
    bundle = tmp_path / "b.bundle"
    device.export_bundle(str(bundle), False)

    central, out = tmp_path / "c.db", tmp_path / "out"
    enumera("central", "--db", central, "init")
    enumera("central", "--db", central, "ingest", bundle)
    enumera("central", "--db", central, "publish", form)
    enumera("central", "--db", central, "export", "--out", out)
    media = out / "media"
    assert sorted(p.name for p in media.iterdir()) == sorted([site.name, consent.name])
    assert (media / site.name).read_bytes() == photo
    assert (media / consent.name).read_bytes() == signature
    with open(out / "kii_media.csv", encoding="utf-8-sig") as f:
        row = next(csv.DictReader(f))
    assert site.name in row.values() and consent.name in row.values()


BACKGROUND = {
    "model_version": 1,
    "form_id": "kii_recorded",
    "version": "1",
    "title": "KII recorded",
    "root_name": "data",
    "settings": {},
    "children": [
        {"name": "informant", "kind": {"kind": "question", "type": "text"}, "row": 2,
         "label": {"": "Informant"}},
        {"name": "background_audio", "kind": {"kind": "question", "type": "background_audio"},
         "row": 3, "parameters": {"quality": "normal"}},
    ],
}


def test_background_audio_is_asked_for_and_stored_as_its_answer(device, ffi, tmp_path):
    """background-audio (issue 18): the form tells the app to record the
    whole interview, at which quality and into which question; the app's
    file is attached there like any other and reaches the export."""
    form = tmp_path / "kii_recorded.json"
    form.write_text(json.dumps(BACKGROUND))
    device.install_form_file(str(form))
    plain = tmp_path / "kii_media.json"
    plain.write_text(json.dumps(FORM))
    device.install_form_file(str(plain))
    assert device.start_interview("kii_media", None, None, False).background_audio() is None

    interview = device.start_interview("kii_recorded", None, None, False)
    asked = interview.background_audio()
    assert asked == ffi.RecordingRequest(reference="/data/background_audio", quality="normal")
    interview.answer("/data/informant", "Dona Rosa")
    # The app's recorder wrote this file while the interview went on.
    audio = b"RIFF" + bytes((i * 7) % 256 for i in range(30_000))
    (tmp_path / "rec.wav").write_bytes(audio)
    kept = interview.attach_file(asked.reference, str(tmp_path / "rec.wav"))
    assert kept.name.endswith(".wav") and kept.sha256 == hashlib.sha256(audio).hexdigest()
    # Metadata no one types into: only the attach path names a file.
    with pytest.raises(ffi.EnumeraError):
        interview.answer(asked.reference, "typed.wav")
    interview.finalize()

    bundle = tmp_path / "b.bundle"
    device.export_bundle(str(bundle), False)
    central, out = tmp_path / "c.db", tmp_path / "out"
    enumera("central", "--db", central, "init")
    enumera("central", "--db", central, "ingest", bundle)
    enumera("central", "--db", central, "publish", form)
    enumera("central", "--db", central, "export", "--out", out)
    assert (out / "media" / kept.name).read_bytes() == audio
    with open(out / "kii_recorded.csv", encoding="utf-8-sig") as f:
        row = next(csv.DictReader(f))
    assert row["background_audio"] == kept.name
