"""Form media over HTTP (issue 18, item 2): central publishes a form whose
label names an image (per language) and an audio file, from the
FORM-media/ folder beside it; the app syncs with a real
`enumera central serve`, the question names the files in the current
language, and the store gives them back byte-identical."""

import hashlib
import json
import subprocess

import enumera_ffi

from conftest import ENUMERA, enumera
from test_sync import UrllibTransport

FORM = {
    "model_version": 1,
    "form_id": "kii_show_card",
    "version": "1",
    "title": "Show card",
    "root_name": "data",
    "settings": {},
    "languages": ["English (en)", "Português (pt)"],
    "children": [
        {"name": "facility", "kind": {"kind": "question", "type": "text"}, "row": 2,
         "label": {"English (en)": "Which facility is this?", "Português (pt)": "Que instalação é esta?"},
         "media": {"image": {"English (en)": "card-en.png", "Português (pt)": "card-pt.png"},
                   "audio": {"": "ask.mp3"}}},
    ],
}


def test_label_media_arrive_with_the_form_and_read_back_byte_identical(device, tmp_path):
    media = tmp_path / "kii_show_card-media"
    media.mkdir()
    files = {
        "card-en.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40,
        "card-pt.png": b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1)) * 40,
        "ask.mp3": b"ID3\x04\x00" + bytes((i * 7) % 256 for i in range(30_000)),
    }
    for name, data in files.items():
        (media / name).write_bytes(data)
    form = tmp_path / "kii_show_card.json"
    form.write_text(json.dumps(FORM))
    db = tmp_path / "central.db"
    enumera("central", "--db", db, "init")
    enumera("central", "--db", db, "publish", form)
    server = subprocess.Popen(
        [str(ENUMERA), "central", "--db", str(db), "serve", "--listen", "127.0.0.1:0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stderr.readline()
        assert "listening on http://" in line, line
        url = line.strip().rsplit(" ", 1)[-1]
        token = enumera(
            "central", "--db", db, "token", "create", "--device", device.device().device_id
        ).strip()
        sync = enumera_ffi.SyncClient(device, UrllibTransport(url), token)
        report = sync.sync()
        assert [f.form_id for f in report.forms_installed] == ["kii_show_card"]
        assert report.media_fetched == 3 and report.media_missing == []
        again = sync.sync()
        assert again.media_fetched == 0 and again.media_missing == []
    finally:
        server.terminate()
        server.wait(timeout=10)

    interview = device.start_interview("kii_show_card", None, None, False)
    form_hash = interview.form_hash()
    listed = {m.name: m for m in device.form_media_list(form_hash)}
    assert sorted(listed) == sorted(files)
    assert all(m.present and m.sha256 == hashlib.sha256(files[n]).hexdigest() for n, m in listed.items())

    interview.set_language("English (en)")
    q = interview.question("/data/facility")
    assert (q.image, q.audio, q.big_image, q.video) == ("card-en.png", "ask.mp3", None, None)
    assert device.form_media(form_hash, q.image) == files["card-en.png"]
    assert device.form_media(form_hash, q.audio) == files["ask.mp3"]
    interview.set_language("Português (pt)")
    q = interview.question("/data/facility")
    assert q.image == "card-pt.png"
    out = tmp_path / "played.png"
    assert device.copy_form_media(form_hash, q.image, str(out)) == len(files["card-pt.png"])
    assert out.read_bytes() == files["card-pt.png"]
    assert device.form_media(form_hash, "nope.png") is None
