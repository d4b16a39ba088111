"""A small XLSForm writer: rows as plain data in, a tidy .xlsx out.

The form content lives in the sibling modules as readable Python data; this
module only knows the XLSForm layout (survey, choices, settings sheets, one
column per language) and checks the content before writing it, so a missing
translation or a dangling ${reference} stops the build instead of reaching a
tablet.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

# Language columns, in the order they appear in every sheet.
LANGS = ("English (en)", "Portuguese (pt)", "Bengali (bn)")
DEFAULT_LANGUAGE = LANGS[0]


class T(tuple):
    """A text in every form language: T(english, portuguese, bengali)."""

    def __new__(cls, en: str, pt: str, bn: str):
        return super().__new__(cls, (en, pt, bn))


# Shown when a required question is left blank and the row names no message.
REQUIRED = T(
    "This question requires an answer.",
    "Esta pergunta é de resposta obrigatória.",
    "এই প্রশ্নের উত্তর দেওয়া আবশ্যক।",
)

# Survey columns, in sheet order. Translatable ones get one column per language.
TRANSLATED = ("label", "hint", "required_message", "constraint_message")
SURVEY_COLUMNS = (
    ["type", "name"]
    + [f"label::{l}" for l in LANGS]
    + [f"hint::{l}" for l in LANGS]
    + ["required"]
    + [f"required_message::{l}" for l in LANGS]
    + ["relevant", "constraint"]
    + [f"constraint_message::{l}" for l in LANGS]
    + ["calculation", "choice_filter", "appearance", "default", "read_only", "parameters"]
    # Enumera's own columns (pyxform and ODK ignore them):
    #   pii      yes = personal data, left out of exports unless asked for
    #   preload  yes = prefill from the participant's previous response
    + ["pii", "preload"]
)
# Extra columns on the choices sheet used by choice_filter expressions.
CHOICE_FILTER_COLUMNS = ("country", "province")
CHOICE_COLUMNS = ["list_name", "name"] + [f"label::{l}" for l in LANGS] + list(CHOICE_FILTER_COLUMNS)

DATA_TYPES = {
    "text", "integer", "decimal", "date", "time", "dateTime", "geopoint", "image",
    "audio", "calculate", "hidden", "note", "acknowledge", "start", "end", "today",
    "deviceid", "username", "range",
}
STRUCTURE = {"begin group", "end group", "begin repeat", "end repeat"}


@dataclass
class Row:
    type: str
    name: str = ""
    label: T | None = None
    hint: T | None = None
    required: bool = False
    required_message: T | None = None
    relevant: str = ""
    constraint: str = ""
    constraint_message: T | None = None
    calculation: str = ""
    choice_filter: str = ""
    appearance: str = ""
    default: str = ""
    read_only: bool = False
    parameters: str = ""
    pii: bool = False
    preload: bool = False


def q(type_, name, label, **kw) -> Row:
    return Row(type_, name, label, **kw)


def note(name, label, **kw) -> Row:
    return Row("note", name, label, **kw)


def calc(name, expr, **kw) -> Row:
    return Row("calculate", name, calculation=expr, **kw)


def begin_group(name, label=None, **kw) -> Row:
    return Row("begin group", name, label, **kw)


def end_group(name="") -> Row:
    return Row("end group", name)


def begin_repeat(name, label, **kw) -> Row:
    return Row("begin repeat", name, label, **kw)


def end_repeat(name="") -> Row:
    return Row("end repeat", name)


@dataclass
class Choice:
    name: str
    label: T
    country: str = ""
    province: str = ""


@dataclass
class Form:
    file_name: str  # e.g. "capacity.xlsx"
    form_id: str
    version: str
    title: str
    instance_name: str
    rows: list[Row]
    choices: dict[str, list[Choice]]
    public_key: str = ""
    extra_settings: dict[str, str] = field(default_factory=dict)


class FormError(Exception):
    pass


_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")


def check(form: Form) -> None:
    """Refuses a form with holes: every problem at once, each naming its row."""
    problems: list[str] = []
    names: set[str] = set()
    stack: list[str] = []

    def where(i: int, r: Row) -> str:
        return f"{form.file_name} survey row {i + 2} ({r.type} {r.name})"

    def full(t: T | None) -> bool:
        return t is not None and len(t) == len(LANGS) and all(s.strip() for s in t)

    for i, r in enumerate(form.rows):
        base = r.type.split()[0]
        if r.type in ("end group", "end repeat"):
            if not stack or stack[-1] != r.type.split()[1]:
                problems.append(f"{where(i, r)}: unbalanced {r.type}")
            else:
                stack.pop()
            continue
        if r.type in ("begin group", "begin repeat"):
            stack.append(r.type.split()[1])
        elif base in ("select_one", "select_multiple"):
            lst = r.type.split()[1]
            if lst not in form.choices:
                problems.append(f"{where(i, r)}: no choice list {lst!r}")
        elif r.type not in DATA_TYPES:
            problems.append(f"{where(i, r)}: unknown type")
        if not r.name or r.name in names:
            problems.append(f"{where(i, r)}: missing or duplicate name")
        names.add(r.name)
        for col in TRANSLATED:
            t = getattr(r, col)
            if t is not None and not full(t):
                problems.append(f"{where(i, r)}: {col} lacks a translation")
        needs_label = r.type not in ("calculate", "hidden", "start", "end", "today",
                                     "deviceid", "username", "begin group")
        if needs_label and r.label is None:
            problems.append(f"{where(i, r)}: no label")
        if r.constraint and r.constraint_message is None:
            problems.append(f"{where(i, r)}: constraint without constraint_message")
    if stack:
        problems.append(f"{form.file_name}: unclosed {stack}")
    # Every ${ref} names a field of this form.
    for i, r in enumerate(form.rows):
        for col in ("relevant", "constraint", "calculation", "choice_filter", "default"):
            for ref in _REF.findall(getattr(r, col)):
                if ref not in names:
                    problems.append(f"{where(i, r)}: {col} names unknown ${{{ref}}}")
    for ref in _REF.findall(form.instance_name):
        if ref not in names:
            problems.append(f"{form.file_name} settings: instance_name names unknown ${{{ref}}}")
    used = {r.type.split()[1] for r in form.rows if r.type.split()[0] in ("select_one", "select_multiple")}
    for lst in sorted(set(form.choices) - used):
        problems.append(f"{form.file_name} choices: list {lst!r} is used by no question")
    for lst, items in form.choices.items():
        seen = set()
        for c in items:
            if c.name in seen:
                problems.append(f"{form.file_name} choices {lst}: duplicate {c.name!r}")
            seen.add(c.name)
            if not full(c.label):
                problems.append(f"{form.file_name} choices {lst}/{c.name}: label lacks a translation")
    if problems:
        raise FormError("\n".join(problems))


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list], widths: dict[str, int]):
    ws = wb.create_sheet(title)
    ws.append(header)
    for row in rows:
        ws.append([None if v in ("", None) else v for v in row])
    for cell in ws[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    ws.freeze_panes = "C2" if title != "settings" else "A2"
    for idx, name in enumerate(header, start=1):
        letter = ws.cell(row=1, column=idx).column_letter
        base = name.split("::")[0]
        ws.column_dimensions[letter].width = widths.get(base, 14)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    return ws


def write(form: Form, path: str) -> None:
    check(form)
    wb = Workbook()
    wb.remove(wb.active)

    survey_rows = []
    for r in form.rows:
        out = {"type": r.type, "name": r.name}
        for col in TRANSLATED:
            t = getattr(r, col)
            if col == "required_message" and r.required and t is None:
                t = REQUIRED
            for lang, text in zip(LANGS, t or ("",) * len(LANGS)):
                out[f"{col}::{lang}"] = text
        out["required"] = "yes" if r.required else ""
        out["read_only"] = "yes" if r.read_only else ""
        out["pii"] = "yes" if r.pii else ""
        out["preload"] = "yes" if r.preload else ""
        for col in ("relevant", "constraint", "calculation", "choice_filter",
                    "appearance", "default", "parameters"):
            out[col] = getattr(r, col)
        survey_rows.append([out.get(c, "") for c in SURVEY_COLUMNS])
    _sheet(wb, "survey", SURVEY_COLUMNS, survey_rows,
           {"type": 24, "name": 24, "label": 48, "hint": 36, "relevant": 30,
            "constraint": 30, "constraint_message": 30, "calculation": 40,
            "choice_filter": 30, "required_message": 20})

    choice_rows = []
    for lst, items in form.choices.items():
        for c in items:
            choice_rows.append([lst, c.name, *c.label, c.country, c.province])
    _sheet(wb, "choices", CHOICE_COLUMNS, choice_rows,
           {"list_name": 18, "name": 18, "label": 40})

    settings = {
        "form_id": form.form_id,
        "version": form.version,
        "form_title": form.title,
        "default_language": DEFAULT_LANGUAGE,
        "instance_name": form.instance_name,
    }
    if form.public_key:
        settings["public_key"] = form.public_key
    settings.update(form.extra_settings)
    _sheet(wb, "settings", list(settings), [list(settings.values())],
           {"form_title": 40, "instance_name": 50, "public_key": 66, "default_language": 16})
    # Fixed document dates and zip timestamps: rebuilding unchanged content
    # gives byte-identical files, so git shows only real edits.
    import datetime as _dt
    fixed = _dt.datetime(2026, 11, 29, 0, 0, 0)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "instruments/tools/build_p2p.py"
    buf = io.BytesIO()
    wb.save(buf)
    _normalize_zip(buf.getvalue(), path)


def _normalize_zip(data: bytes, path: str) -> None:
    src = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 29, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps `modified` with the wall clock on save.
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-11-29T00:00:00Z", data)
            dst.writestr(fixed, data)
