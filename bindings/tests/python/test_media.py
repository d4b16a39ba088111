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
