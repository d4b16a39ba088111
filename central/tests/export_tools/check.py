"""Run by central/tests/export_tools.rs: reads every file of an export with
pandas, pyreadstat and openpyxl, as a researcher would, and compares each
value with what was collected (expected.json). Prints `ok N`, N the number
of values compared; fails on the first difference."""

import datetime as dt
import json
import math
import re
import sys

import pandas as pd
import pyreadstat

out = sys.argv[1]
expected = json.load(open(f"{out}/expected.json", encoding="utf-8"))
by_key = {e["KEY"]: e for e in expected}
checked = 0


def same(what, got, want):
    global checked
    if got != want:
        g, w = repr(got), repr(want)
        raise AssertionError(f"{what}: got {g[:300]}, want {w[:300]}")
    checked += 1


def utc(iso):
    """An ISO date-time with offset as naive UTC, as the typed files hold it."""
    return dt.datetime.fromisoformat(iso).astimezone(dt.timezone.utc).replace(tzinfo=None)


def clock(iso_time):
    """A time of day as the clock showed it (offset left off)."""
    t = re.split(r"[+Z]|(?<=\d)-", iso_time)[0]
    return dt.time.fromisoformat(t)


NUMBER = re.compile(r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")


def unneutralise(cell):
    """What a CSV cell stood for: the export prefixes formula-like cells with '."""
    if cell.startswith("'"):
        rest = cell[1:]
        bare = rest.lstrip("'")
        if bare[:1] in ("=", "+", "-", "@", "\t", "\r") and not NUMBER.match(bare):
            return rest
    return cell


def is_missing(v):
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT


# Codes: Stata and SPSS the same for valid choices; missing-style ones are
# Stata's .n / .d and SPSS's -914 / -904, declared user-missing.
SCORE_STATA = {"1": 1, "2": 2, "3": 3, "na": "n", "dk": "d"}
SCORE_SPSS = {"1": 1, "2": 2, "3": 3, "na": -914, "dk": -904}
AGREE = {"yes": 1, "no": 2}

# ---- CSV: every text exactly as collected (a BOM first, for Excel) ----
raw = open(f"{out}/tools.csv", "rb").read()
same("csv starts with a UTF-8 BOM", raw[:3], b"\xef\xbb\xbf")
csv = pd.read_csv(f"{out}/tools.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
same("csv rows", len(csv), len(expected))
for _, row in csv.iterrows():
    e = by_key[row["KEY"]]
    same("csv name", unneutralise(row["name"]), e["name"])
    for col in ["age", "weight", "score", "agree", "channels", "visit_date", "visit_time", "seen_at", "mean", "flag_calc"]:
        same(f"csv {col}", row[col], e[col])
    same("csv started", row["meta-started"], e["start"])
reps = pd.read_csv(f"{out}/tools-changes.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
same("repeat rows", len(reps), sum(len(e["changes"]) for e in expected))
for _, row in reps.iterrows():
    e = by_key[row["PARENT_KEY"]]
    n = int(row["KEY"].rsplit("[", 1)[1].rstrip("]"))
    desc, when, kind = e["changes"][n - 1]
    same("repeat desc", row["desc"], desc)
    same("repeat when", row["when"], when)

# ---- Stata .dta through pyreadstat (and pandas for extended missing values:
# pyreadstat's user_missing mode garbles a system missing beside them) ----
dta, meta = pyreadstat.read_dta(f"{out}/tools.dta")
tags = pd.read_stata(f"{out}/tools.dta", convert_missing=True, convert_categoricals=False, convert_dates=False)
same("dta rows", len(dta), len(expected))
same("dta label of age (Portuguese, the chosen language)", meta.column_names_to_labels["age"], "Idade")
same("dta label of a calculate without one: its name", meta.column_names_to_labels["mean"], "mean")
labels = meta.variable_value_labels["score"]
same("dta value labels", (labels[1], labels["n"], labels["d"]), ("Baixa", "Não se aplica", "Não sabe"))
for _, row in dta.iterrows():
    e = by_key[row["KEY"]]
    same("dta name", row["name"], e["name"])
    same("dta age is a number", float(row["age"]), float(e["age"]))
    if e["weight"]:
        same("dta weight", float(row["weight"]), float(e["weight"]))
    else:
        same("dta empty weight is missing", is_missing(row["weight"]), True)
    tag = tags.loc[tags["KEY"] == row["KEY"], "score"].iloc[0]
    if e["score"] in ("na", "dk"):
        same("dta missing-style score", tag.string, "." + SCORE_STATA[e["score"]])
        same("dta missing-style score is missing", is_missing(row["score"]), True)
    elif e["score"]:
        same("dta score code", row["score"], SCORE_STATA[e["score"]])
    else:
        same("dta empty score is system missing", tag.string, ".")
    same("dta agree code", row["agree"] if e["agree"] else None, AGREE.get(e["agree"]))
    if e["channels"]:
        same("dta channels/call", row["channels_call"], float("call" in e["channels"].split()))
    if e["visit_date"]:
        same("dta visit_date is a date", pd.Timestamp(row["visit_date"]).date(), dt.date.fromisoformat(e["visit_date"]))
    else:
        same("dta empty date", is_missing(row["visit_date"]), True)
    same("dta seen_at in UTC", pd.Timestamp(row["seen_at"]).to_pydatetime(), utc(e["seen_at"]))
    same("dta started (the form's start)", pd.Timestamp(row["started"]).to_pydatetime(), utc(e["start"]))
    t = row["visit_time"]
    same("dta visit_time", t if isinstance(t, dt.time) else pd.Timestamp(t).time(), clock(e["visit_time"]))
    if e["mean"]:
        same("dta mean is a number", round(float(row["mean"]), 2), float(e["mean"]))
    same("dta n_channels is a number", float(row["n_channels"]), float(e["n_channels"]))
    same("dta flag_calc (typed by its values)", float(row["flag_calc"]), float(e["flag_calc"]))
    same("dta label_calc is text", row["label_calc"], e["label_calc"])
same("dta age holds integers", str(dta["age"].dtype).startswith(("int", "float")), True)

# ---- SPSS .sav through pyreadstat ----
sav, smeta = pyreadstat.read_sav(f"{out}/tools.sav", user_missing=True)
same("sav rows", len(sav), len(expected))
same("sav label", smeta.column_names_to_labels["age"], "Idade")
slabels = smeta.variable_value_labels["score"]
same("sav value labels", (slabels[1.0], slabels[-914.0], slabels[-904.0]), ("Baixa", "Não se aplica", "Não sabe"))
missing = {v for r in smeta.missing_ranges["score"] for v in (r["lo"], r["hi"])}
same("sav user-missing codes", missing, {-914.0, -904.0})
types = smeta.original_variable_types
same("sav formats", (types["visit_date"], types["seen_at"], types["visit_time"], types["age"][0]), ("DATE11", "DATETIME20", "TIME8", "F"))
same("sav measure of a 1-3 scale", smeta.variable_measure["score"], "ordinal")
for _, row in sav.iterrows():
    e = by_key[row["KEY"]]
    # SPSS pads strings with spaces: trailing spaces are not kept.
    same("sav name", row["name"].rstrip(" "), e["name"].rstrip(" "))
    same("sav age", float(row["age"]), float(e["age"]))
    if e["score"]:
        same("sav score code (as Stata's, missing-style as user-missing)", row["score"], SCORE_SPSS[e["score"]])
    if e["visit_date"]:
        same("sav visit_date", pd.Timestamp(row["visit_date"]).date(), dt.date.fromisoformat(e["visit_date"]))
    same("sav seen_at in UTC", pd.Timestamp(row["seen_at"]).to_pydatetime(), utc(e["seen_at"]))
    t = row["visit_time"]
    got = t if isinstance(t, dt.time) else pd.Timestamp(t).time()
    same("sav visit_time", got, clock(e["visit_time"]))
    if e["mean"]:
        same("sav mean", round(float(row["mean"]), 2), float(e["mean"]))
    same("sav flag_calc", float(row["flag_calc"]), float(e["flag_calc"]))

# ---- XLSX through pandas and openpyxl: typed cells ----
xl = pd.read_excel(f"{out}/tools.xlsx", sheet_name="tools", dtype=object)
same("xlsx rows", len(xl), len(expected))
for _, row in xl.iterrows():
    e = by_key[row["KEY"]]
    # XLSX escapes a carriage return as _x000D_; Excel and readxl read it
    # back, openpyxl leaves it to the caller.
    name = re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), row["name"])
    same("xlsx name", name, e["name"])
    same("xlsx age is a number", isinstance(row["age"], (int, float)) and float(row["age"]) == float(e["age"]), True)
    if e["visit_date"]:
        same("xlsx visit_date is a date cell", pd.Timestamp(row["visit_date"]).date(), dt.date.fromisoformat(e["visit_date"]))
    got = pd.Timestamp(row["seen_at"]).to_pydatetime()
    same("xlsx seen_at in UTC", abs((got - utc(e["seen_at"])).total_seconds()) < 0.01, True)
    if e["mean"]:
        same("xlsx mean is a number", isinstance(row["mean"], (int, float)), True)
    same("xlsx flag_calc is a number", isinstance(row["flag_calc"], (int, float)), True)
    same("xlsx label_calc is text", row["label_calc"] if e["label_calc"] else "", e["label_calc"])

# ---- JSON Lines: numbers as numbers ----
docs = [json.loads(l) for l in open(f"{out}/tools.jsonl", encoding="utf-8")]
same("json documents", len(docs), len(expected))
for d in docs:
    e = by_key[d["KEY"]]
    data = d["data"]
    same("json name", data["name"], e["name"])
    same("json age is an integer", data["age"], int(e["age"]))
    if e["weight"]:
        same("json weight is a number", data["weight"], float(e["weight"]))
    same("json flag_calc (typed by its values) is a number", data["flag_calc"], int(e["flag_calc"]))
    same("json n_channels is a number", data["n_channels"], int(e["n_channels"]))
    same("json visit_date is ISO text", data["visit_date"], e["visit_date"])
    same("json repeat", [c["desc"] for c in data.get("changes", [])], [c[0] for c in e["changes"]])

# ---- The panel: one row per participant and round ----
panel, pmeta = pyreadstat.read_dta(f"{out}/panel.dta", user_missing=True)
pairs = {(e["participant"], e["round"]) for e in expected}
same("panel rows", len(panel), len(pairs))
for _, row in panel.iterrows():
    e = next(x for x in expected if x["participant"] == row["participant"] and x["round"] == row["round"])
    same("panel key", row["tools_key"] if "tools_key" in panel.columns else row["key"], e["KEY"])
    same("panel age", float(row["age"]), float(e["age"]))
    same("panel name", row["name"], e["name"])
psav, _ = pyreadstat.read_sav(f"{out}/panel.sav", user_missing=True)
same("panel.sav rows", len(psav), len(pairs))
same("panel names agree", list(psav.columns), list(panel.columns))

print("ok", checked)
