"""Media end to end over HTTP (issue 18, items 4 and 6): an app attaches a
photo (a JPEG made by the test), an audio recording and a signature to a
plain form and a photo to a sealed form, syncs with a real
`enumera central serve`, and the researcher exports with and without the
identity: every file byte-identical (SHA-256), every CSV cell a path that
resolves, and a sealed form's file never readable at central."""

import csv
import hashlib
import json
import subprocess

import enumera_ffi

from conftest import ENUMERA, REPO, enumera
from test_sync import UrllibTransport

IDENTITY = REPO / "instruments" / "p2p-sanitation" / "test-keys" / "researcher.agekey"
RESEARCHER_KEY = "age1gp4hnhu3kv6zpux60qq8cqcfvkvz54yt6pz4m7kcxapa7qnv9yaqm70asn"


def instrument(form_id, settings, children):
    return {
        "model_version": 1,
        "form_id": form_id,
        "version": "1",
        "title": form_id,
        "root_name": "data",
        "settings": settings,
        "children": [
            {"name": name, "kind": {"kind": "question", "type": kind}, "row": i + 2,
             "label": {"": name}, **extra}
            for i, (name, kind, extra) in enumerate(children)
        ],
    }


PLAIN = instrument("kii_media_http", {}, [
    ("informant", "text", {}),
    ("site", "image", {}),
    ("recording", "audio", {}),
    ("consent", "image", {"appearance": "signature"}),
])
SEALED = instrument("kii_media_sealed", {"public_keys": [RESEARCHER_KEY]}, [
    ("document", "image", {}),
])


def jpeg(seed, size=60_000):
    """A JPEG-shaped file made by the test: SOI/APP0 markers, bytes of every
    value, EOI."""
    body = bytes((i * 31 + seed) % 256 for i in range(size))
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + body + b"\xff\xd9"


def sha(b):
    return hashlib.sha256(b).hexdigest()


class MediaCentral:
    """`enumera central serve` on a free port with both media forms."""

    def __init__(self, tmp):
        self.db = tmp / "central.db"
        enumera("central", "--db", self.db, "init")
        for form in (PLAIN, SEALED):
            path = tmp / f"{form['form_id']}.json"
            path.write_text(json.dumps(form))
            enumera("central", "--db", self.db, "publish", path)
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

    def stop(self):
        self.server.terminate()
        self.server.wait(timeout=10)


def rows(path):
    with open(path, encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_media_travel_over_http_and_sealed_media_open_only_with_the_identity(device, tmp_path):
    central = MediaCentral(tmp_path)
    try:
        transport = UrllibTransport(central.url)
        sync = enumera_ffi.SyncClient(device, transport, central.token(device))
        installed = sorted(f.form_id for f in sync.sync().forms_installed)
        assert installed == ["kii_media_http", "kii_media_sealed"]

        photo, audio = jpeg(1), b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 200
        signature = b"\x89PNG\r\n\x1a\n" + bytes(range(255, 0, -1)) * 10
        document = jpeg(7)
        (tmp_path / "site.jpg").write_bytes(photo)
        (tmp_path / "interview.m4a").write_bytes(audio)

        plain = device.start_interview("kii_media_http", None, None, False)
        plain.answer("/data/informant", "Dona Rosa")
        site = plain.attach_file("/data/site", str(tmp_path / "site.jpg"))
        recording = plain.attach_file("/data/recording", str(tmp_path / "interview.m4a"))
        consent = plain.attach_bytes("/data/consent", signature, "signature.png")
        plain.finalize()
        sealed = device.start_interview("kii_media_sealed", None, None, False)
        doc = sealed.attach_bytes("/data/document", document, "document.jpg")
        sealed.finalize()
        sent = {site.name: photo, recording.name: audio, consent.name: signature}
        assert all(a.sha256 == sha(sent[a.name]) for a in (site, recording, consent))

        report = sync.upload()
        assert report.uploaded == 2 and sorted(report.receipt.marked) == [1, 2]
        # The bundle went as a file the transport streamed (`body_path`).
        assert [(m, p) for m, p, _ in transport.file_bodies] == [("POST", "/v1/bundles")]
        assert transport.file_bodies[0][2] == report.bundle_bytes
    finally:
        central.stop()

    # Central never holds the sealed photo's plaintext.
    marker = document[1000:1064]
    assert marker not in central.db.read_bytes()

    closed = tmp_path / "closed"
    enumera("central", "--db", central.db, "export", "--out", closed)
    assert sorted(p.name for p in (closed / "media").iterdir()) == sorted(sent)
    report = (closed / "report.csv").read_text()
    assert "sealed_not_opened" in report and "attachments" in report, report

    opened = tmp_path / "opened"
    enumera("central", "--db", central.db, "export", "--out", opened, "--identity", IDENTITY)
    media = opened / "media"
    expected = dict(sent, **{doc.name: document})
    assert sorted(p.name for p in media.iterdir()) == sorted(expected)
    for name, data in expected.items():
        assert sha((media / name).read_bytes()) == sha(data), name
    # Every CSV cell naming a file resolves to it under media/.
    (row,) = rows(opened / "kii_media_http.csv")
    for column, name in [("site", site.name), ("recording", recording.name), ("consent", consent.name)]:
        assert row[column] == name and (media / row[column]).is_file(), row
    (row,) = rows(opened / "kii_media_sealed.csv")
    assert row["document"] == doc.name and (media / row["document"]).read_bytes() == document
