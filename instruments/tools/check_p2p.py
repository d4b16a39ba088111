#!/usr/bin/env python3
"""Checks the P2P study's XLSForms.

    PYTHON/bin/python instruments/tools/check_p2p.py [--oracle DIR]

1. Every .xlsx in instruments/p2p-sanitation/ converts with pyxform (the
   `xls2xform` next to this Python) with code 100: no errors, no warnings.
   pyxform exits 0 even when it fails and writes its JSON status to stderr,
   so the status code is what is checked.
2. With --oracle (a runnable copy of an ODK engine harness whose
   `run_peer.sh FORM STEPS` prints the engine's JSON), each form loads with no
   answers, and each steps/FORM.NAME.json runs with every step accepted and
   the final state matching steps/FORM.NAME.expect.json:
     relevant            {ref: bool}   leaves and containers
     values              {ref: str}
     options             {ref: [choice names in order]}
     non_relevant_under  ref: every leaf below it is non-relevant
     violations          [ref]: exactly these leaves are invalid
     submission          ready | pending
     language            the active language
The clock is frozen at ODK_NOW (default 2026-11-29T10:30:00Z) so "not in the
future" constraints are checked against a known date.
"""

import argparse
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FORMS = os.path.normpath(os.path.join(HERE, "..", "p2p-sanitation"))
NOW = "2026-11-29T10:30:00Z"


def pyxform(path: str, out: str) -> list[str]:
    xls2xform = os.path.join(os.path.dirname(sys.executable), "xls2xform")
    proc = subprocess.run([xls2xform, "--skip_validate", "--json", path, out],
                          capture_output=True, text=True)
    lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
    try:
        status = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return [f"unparseable pyxform output: {proc.stdout}{proc.stderr}"]
    if status.get("code") != 100 or status.get("warnings"):
        return [f"pyxform code {status.get('code')}: {status.get('message')} {status.get('warnings')}"]
    return []


def run_oracle(oracle: str, form: str, steps: str) -> tuple[int, dict]:
    env = dict(os.environ, ODK_NOW=os.environ.get("ODK_NOW", NOW))
    proc = subprocess.run([os.path.join(oracle, "run_peer.sh"), form, steps, "--no-labels"],
                          capture_output=True, text=True, env=env)
    try:
        return proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        return proc.returncode, {"error": proc.stderr}


def compare(out: dict, expect: dict) -> list[str]:
    problems = []
    leaves = {l["ref"]: l for l in out.get("leaves", [])}
    nodes = dict(leaves)
    nodes.update({c["ref"]: c for c in out.get("containers", [])})
    for i, s in enumerate(out.get("steps", [])):
        if not s.get("ok"):
            problems.append(f"step {i} {s.get('step')} failed: {s.get('error')}")
    for ref, want in expect.get("relevant", {}).items():
        got = nodes.get(ref, {}).get("relevant")
        if got is not want:
            problems.append(f"{ref}: relevant {got}, expected {want}")
    for ref, want in expect.get("values", {}).items():
        got = leaves.get(ref, {}).get("value")
        if got != want:
            problems.append(f"{ref}: value {got!r}, expected {want!r}")
    for ref, want in expect.get("options", {}).items():
        got = leaves.get(ref, {}).get("options")
        if got != want:
            problems.append(f"{ref}: options {got}, expected {want}")
    under = expect.get("non_relevant_under")
    if under:
        inside = [l for r, l in leaves.items() if r.startswith(under + "/")]
        if not inside:
            problems.append(f"{under}: no leaves found below it")
        for l in inside:
            if l["relevant"]:
                problems.append(f"{l['ref']}: relevant, but everything under {under} should not be")
    if "violations" in expect:
        got = sorted(l["ref"] for l in leaves.values() if l.get("violation"))
        if got != sorted(expect["violations"]):
            problems.append(f"violations {got}, expected {sorted(expect['violations'])}")
    if "submission" in expect:
        got = out.get("submission", {}).get("status")
        if got != expect["submission"]:
            problems.append(f"submission {got}, expected {expect['submission']}")
    if "language" in expect and out.get("active_language") != expect["language"]:
        problems.append(f"language {out.get('active_language')}, expected {expect['language']}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", help="directory with run_peer.sh (ODK engine harness)")
    args = ap.parse_args()
    failed = 0
    tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), "p2p-check")
    os.makedirs(tmp, exist_ok=True)
    empty = os.path.join(tmp, "empty.json")
    with open(empty, "w") as f:
        f.write("[]")
    for form in sorted(glob.glob(os.path.join(FORMS, "*.xlsx"))):
        name = os.path.basename(form)[:-5]
        problems = pyxform(form, os.path.join(tmp, name + ".xml"))
        print(f"{'ok  ' if not problems else 'FAIL'} pyxform {name}")
        for p in problems:
            print(f"     {p}")
        failed += bool(problems)
        if not args.oracle:
            continue
        rc, out = run_oracle(args.oracle, form, empty)
        ok = rc == 0 and out.get("load", {}).get("status") == "success"
        print(f"{'ok  ' if ok else 'FAIL'} oracle load {name} (exit {rc}, {len(out.get('leaves', []))} leaves)")
        failed += not ok
        for steps in sorted(glob.glob(os.path.join(FORMS, "steps", f"{name}.*.json"))):
            if steps.endswith(".expect.json"):
                continue
            with open(steps[:-5] + ".expect.json", encoding="utf-8") as f:
                expect = json.load(f)
            rc, out = run_oracle(args.oracle, form, steps)
            problems = [f"exit {rc}"] if rc != 0 else compare(out, expect)
            print(f"{'ok  ' if not problems else 'FAIL'} oracle steps {os.path.basename(steps)}")
            for p in problems:
                print(f"     {p}")
            failed += bool(problems)
    print(f"{failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
