#!/usr/bin/env python3
"""Builds the P2P sanitation study's XLSForms from the content in p2p/.

    python3 -m venv /tmp/p2p-venv && /tmp/p2p-venv/bin/pip install -r instruments/tools/requirements.txt
    /tmp/p2p-venv/bin/python instruments/tools/build_p2p.py [OUT_DIR]

OUT_DIR defaults to instruments/p2p-sanitation/. The committed .xlsx files are
the product researchers edit; this script is how they were first made, kept
so the forms can be rebuilt and reviewed as text. The build is byte-stable:
rebuilding unchanged content gives identical files.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from p2p import capacity, event_feedback, kii, practice_followup, registration  # noqa: E402
from p2p.xlsform import FormError, write  # noqa: E402

KEY_FILE = os.path.join("test-keys", "researcher.agekey")


def recipient(out_dir: str) -> str:
    """The age recipient (public key) from the test identity's comment line,
    as written by age-keygen: `# public key: age1...`."""
    path = os.path.join(out_dir, KEY_FILE)
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# public key: "):
                return line.split(":", 1)[1].strip()
    raise SystemExit(f"{path}: no '# public key:' line")


def main() -> int:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "p2p-sanitation")
    out_dir = os.path.normpath(out_dir)
    forms = [
        registration.form(),
        capacity.form(),
        capacity.form(public_key=recipient(os.path.join(HERE, "..", "p2p-sanitation"))),
        event_feedback.form(),
        practice_followup.form(),
        kii.form(),
    ]
    try:
        for f in forms:
            path = os.path.join(out_dir, f.file_name)
            write(f, path)
            print(f"wrote {path}", file=sys.stderr)
    except FormError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
