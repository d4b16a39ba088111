"""Converts many XLSForms with pyxform in one process (pyxform's start-up
costs about a second, per form when run as xls2xform).

    python xls2xform_batch.py JOBS.json   JOBS: [[FORM.xlsx, OUT.xml], ...]

Prints a JSON list with one {"ok": bool, "error": str|null} per job, as
`xls2xform --skip_validate` would convert it (no external validators).
"""

import json
import sys

from pyxform.xls2xform import xls2xform_convert


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    results = []
    for xlsx, xml in jobs:
        try:
            xls2xform_convert(xlsx, xml, validate=False, pretty_print=False)
            results.append({"ok": True, "error": None})
        except Exception as e:  # pyxform raises several types; report them all
            results.append({"ok": False, "error": f"{type(e).__name__}: {e}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
