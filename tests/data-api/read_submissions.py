"""Reads central's data API from Python (requests + pandas), as a researcher
would: every form's submissions into a data frame, page by page, one
submission, and the export zip. Run by scripts/test-data-api.sh against a
live server; fails (non-zero exit) on any mismatch.

    python read_submissions.py http://127.0.0.1:PORT TOKEN
"""

import io
import sys
import zipfile

import pandas as pd
import requests


def main(base: str, token: str) -> None:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"

    forms = s.get(f"{base}/v1/data/forms", timeout=60)
    forms.raise_for_status()
    forms = forms.json()
    assert forms, "no forms"
    with_data = [f for f in forms if f["submissions"] > 0]
    assert with_data, "no form has submissions"

    for form in with_data:
        rows, cursor = [], None
        while True:
            params = {"limit": 7}
            if cursor:
                params["cursor"] = cursor
            r = s.get(f"{base}/v1/data/forms/{form['form_id']}/submissions",
                      params=params, timeout=60)
            r.raise_for_status()
            page = r.json()
            rows.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        df = pd.DataFrame(rows)
        assert len(df) == form["submissions"], (form["form_id"], len(df))
        assert df["instance_id"].is_unique
        assert set(df["form_version"]) <= {v["version"] for v in form["versions"]}

        # One submission: its answers as the export's JSON writes them.
        first = df.iloc[0]
        one = s.get(f"{base}/v1/data/submissions/{first['instance_id']}", timeout=60)
        one.raise_for_status()
        one = one.json()
        assert one["submission"]["instance_id"] == first["instance_id"]
        if not first["sealed"]:
            assert one["answers"]["KEY"] == first["instance_id"]
            answers = pd.json_normalize(one["answers"])
            assert len(answers) == 1

        # The zip: the form's CSV has one row per submission central can read.
        z = s.get(f"{base}/v1/data/forms/{form['form_id']}/export.zip", timeout=300)
        z.raise_for_status()
        files = zipfile.ZipFile(io.BytesIO(z.content))
        assert "report.csv" in files.namelist(), files.namelist()
        table = pd.read_csv(files.open(f"{form['form_id']}.csv"), encoding="utf-8-sig")
        # Sealed submissions stay sealed (report.csv lists them); the rest
        # are the CSV's rows.
        readable = int((~df["sealed"]).sum())
        assert len(table) == readable, (form["form_id"], len(table), readable)
        # The zip with `central export`'s choices as query parameters.
        z = s.get(f"{base}/v1/data/forms/{form['form_id']}/export.zip",
                  params={"format": "csv,json", "layout": "odk", "no_media": "true"},
                  timeout=300)
        z.raise_for_status()
        names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
        assert f"{form['form_id']}.jsonl" in names, names

        # The feed: every table's rows into data frames, page by page; the
        # main table holds the CSV's rows, repeats join by PARENT_KEY.
        def feed(table: str) -> tuple[pd.DataFrame, list]:
            frames, tables, cursor = [], [], None
            while True:
                params = {"limit": 7, "table": table}
                if cursor:
                    params["cursor"] = cursor
                r = s.get(f"{base}/v1/data/forms/{form['form_id']}/rows",
                          params=params, timeout=60)
                r.raise_for_status()
                page = r.json()
                tables = page["tables"]
                frames.append(pd.DataFrame(page["rows"], columns=page["columns"]))
                cursor = page["next_cursor"]
                if cursor is None:
                    return pd.concat(frames, ignore_index=True), tables
        main, tables = feed(form["form_id"])
        assert len(main) == readable, (form["form_id"], len(main), readable)
        assert list(main.columns) == list(table.columns), (list(main.columns), list(table.columns))
        assert set(main["KEY"]) == set(table["KEY"])
        repeats = 0
        for t in tables[1:]:
            rows, _ = feed(t["name"])
            parent = main if t["parent"] == form["form_id"] else feed(t["parent"])[0]
            assert set(rows["PARENT_KEY"]) <= set(parent["KEY"]), t["name"]
            repeats += len(rows)
        print(f"python: {form['form_id']}: {len(df)} submissions, "
              f"{len(table)} rows in the export zip and the feed, "
              f"{len(tables) - 1} repeat tables ({repeats} rows)")

    # A device or unknown token is refused with the error shape.
    bad = requests.get(f"{base}/v1/data/forms",
                       headers={"Authorization": "Bearer enm_nobody"}, timeout=60)
    assert bad.status_code == 401 and "error" in bad.json()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
