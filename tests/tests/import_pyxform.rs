//! Agreement with pyxform on what is a valid XLSForm: the valid fixtures
//! must convert with pyxform and import here without errors; forms that
//! pyxform refuses must be refused here too. (pyxform is installed from
//! PyPI into the cache on first run; the test skips, saying so, only when
//! the machine has no python3.)

use std::path::{Path, PathBuf};
use std::process::Command;

use enumera_core::instrument::{Node, NodeKind, QuestionType, Text, import_xlsform};
use enumera_tests::{XlsForm, fixtures, pyxform_python};
use serde_json::{Map, Value, json};

/// pyxform's verdict on each file: `Ok(())` or its first error line.
fn pyxform_verdicts(python: &Path, files: &[PathBuf]) -> Vec<Result<(), String>> {
    let script = r#"
import sys
from pyxform.xls2xform import convert
for p in sys.argv[1:]:
    try:
        convert(xlsform=p, validate=False)
        print("OK")
    except Exception as e:
        msg = " ".join(str(e).split()) or type(e).__name__
        print("ERR " + msg)
"#;
    let out = Command::new(python).arg("-c").arg(script).args(files).output().expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| match l.strip_prefix("ERR ") {
            Some(msg) => Err(msg.to_string()),
            None => Ok(()),
        })
        .collect()
}

fn invalid_forms() -> Vec<(&'static str, XlsForm)> {
    let s = |rows: &[&[&str]]| XlsForm::new().survey(rows);
    let yn = [&["list_name", "name", "label"][..], &["yn", "y", "Y"]];
    vec![
        ("unknown_type", s(&[&["type", "name", "label"], &["intger", "a", "A"]])),
        (
            "duplicate_name",
            s(&[&["type", "name", "label"], &["text", "a", "A"], &["text", "a", "A"]]),
        ),
        (
            "missing_list",
            s(&[&["type", "name", "label"], &["select_one nope", "a", "A"]]).choices(&yn),
        ),
        (
            "unclosed_group",
            s(&[&["type", "name", "label"], &["begin group", "g", "G"], &["text", "a", "A"]]),
        ),
        (
            "end_without_begin",
            s(&[&["type", "name", "label"], &["text", "a", "A"], &["end group", "", ""]]),
        ),
        (
            "unknown_reference",
            s(&[&["type", "name", "label", "relevant"], &["text", "a", "A", "${b} = 1"]]),
        ),
        ("invalid_name", s(&[&["type", "name", "label"], &["text", "1a", "A"]])),
        ("no_name", s(&[&["type", "name", "label"], &["text", "", "A"]])),
        (
            "duplicate_choice",
            s(&[&["type", "name", "label"], &["select_one yn", "a", "A"]]).choices(&[
                &["list_name", "name", "label"],
                &["yn", "y", "Y"],
                &["yn", "y", "Y"],
            ]),
        ),
        (
            "calculate_without_calculation",
            s(&[&["type", "name", "label"], &["calculate", "c", ""]]),
        ),
        ("no_label", s(&[&["type", "name", "label"], &["text", "a", ""]])),
        (
            "range_step_zero",
            s(&[
                &["type", "name", "label", "parameters"],
                &["range", "r", "R", "start=1 end=5 step=0"],
            ]),
        ),
        (
            "range_not_a_number",
            s(&[&["type", "name", "label", "parameters"], &["range", "r", "R", "start=x"]]),
        ),
        (
            "or_other_with_choice_filter",
            s(&[
                &["type", "name", "label", "choice_filter"],
                &["select_one yn or_other", "a", "A", "name = 'y'"],
            ])
            .choices(&yn),
        ),
        (
            "mismatched_end",
            s(&[
                &["type", "name", "label"],
                &["begin group", "g", "G"],
                &["text", "a", "A"],
                &["end repeat", "", ""],
            ]),
        ),
        ("no_type_column", s(&[&["kind", "name", "label"], &["text", "a", "A"]])),
    ]
}

#[test]
fn pyxform_and_enumera_agree_on_validity() {
    let Some(python) = pyxform_python() else {
        eprintln!("SKIP pyxform_and_enumera_agree_on_validity: no python3 on this machine");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let valid = [
        ("all_question_types", fixtures::all_question_types()),
        ("every_column", fixtures::every_column()),
        ("nested_repeats", fixtures::nested_repeats()),
        ("tricky_valid", fixtures::tricky_valid()),
    ];
    let invalid = invalid_forms();
    let mut files = Vec::new();
    for (name, form) in valid.iter().chain(invalid.iter()) {
        let sub = dir.path().join(name);
        files.push(form.write_to(sub.join(format!("{name}.xlsx"))));
    }
    let verdicts = pyxform_verdicts(&python, &files);
    assert_eq!(verdicts.len(), files.len());
    for (i, (name, _)) in valid.iter().chain(invalid.iter()).enumerate() {
        let ours = import_xlsform(&files[i]).expect("readable");
        let our_errors: Vec<String> = ours.errors().map(|d| d.to_string()).collect();
        if i < valid.len() {
            assert_eq!(verdicts[i], Ok(()), "pyxform refuses valid fixture {name}");
            assert!(our_errors.is_empty(), "{name}: {our_errors:#?}");
        } else {
            assert!(verdicts[i].is_err(), "pyxform accepts invalid fixture {name}");
            // Where pyxform names a row, we must name the same one.
            let theirs = verdicts[i].as_ref().err().and_then(|m| {
                m.strip_prefix("[row : ")?.split(']').next()?.trim().parse::<u32>().ok()
            });
            if let Some(row) = theirs {
                assert!(
                    ours.errors().any(|d| d.location.row == Some(row)),
                    "{name}: pyxform names row {row}: {our_errors:?}"
                );
            }
            assert!(
                !our_errors.is_empty(),
                "{name}: pyxform says {:?} but we accept it",
                verdicts[i]
            );
        }
    }
}

/// pyxform's reading of each file (its JSON form), reduced to what the
/// instrument model holds, in the shape [`ours`] gives.
const NORMALIZE: &str = r#"
import sys, json
from pyxform.xls2json import parse_file_to_json
from pyxform.aliases import BINDING_CONVERSIONS

TYPES = {"select one": "select_one", "select all that apply": "select_multiple", "photo": "image"}

def text(v):
    if v is None:
        return {}
    if isinstance(v, dict):
        return {("" if k == "default" else k): t for k, t in v.items()}
    return {"": v}

def nodes(children):
    out = []
    skip = set()
    for i, c in enumerate(children):
        if c["type"] == "group" and c["name"] == "meta":
            continue
        if c["name"] in skip and c.get("label") == "Specify other.":
            continue  # generated by pyxform for or_other
        n = {"name": c["name"], "type": TYPES.get(c["type"], c["type"])}
        for k in ("label", "hint", "guidance_hint"):
            t = text(c.get(k))
            if t:
                n[k] = t
        if c.get("media"):
            n["media"] = {k: text(v) for k, v in c["media"].items()}
        b = c.get("bind", {})
        bind = {}
        for k in ("relevant", "required", "constraint", "calculate", "readonly"):
            if k in b:
                bind[k] = BINDING_CONVERSIONS.get(b[k], b[k])
        if bind:
            n["bind"] = bind
        for k, nk in (("jr:constraintMsg", "constraint_message"), ("jr:requiredMsg", "required_message")):
            if k in b:
                n[nk] = text(b[k])
        ctl = c.get("control", {})
        if "appearance" in ctl:
            n["appearance"] = ctl["appearance"]
        count = ctl.get("jr:count")
        if count:
            # pyxform moves a computed count into a generated NAME_count node.
            gen = next((g for g in out if "${%s}" % g["name"] == count and g["name"] == c["name"] + "_count"), None)
            if gen is not None:
                out.remove(gen)
                count = gen["bind"]["calculate"]
            n["count"] = count
        if "itemset" in c:
            n["list"] = c["itemset"]
            if c["type"] in ("select one", "select all that apply", "rank"):
                skip.add(c["name"] + "_other")
        for k in ("choice_filter", "default"):
            if k in c:
                n[k] = c[k]
        if c["type"] in ("group", "repeat"):
            n["children"] = nodes(c.get("children", []))
        out.append(n)
    return out

def choices(d):
    out = {}
    for name, items in d.get("choices", {}).items():
        out[name] = []
        for c in items:
            n = {"name": c["name"]}
            if "label" in c:
                n["label"] = text(c["label"])
            if c.get("media"):
                n["media"] = {k: text(v) for k, v in c["media"].items()}
            extra = {k: v for k, v in c.items() if k not in ("name", "label", "media")}
            if extra:
                n["extra"] = extra
            out[name].append(n)
    return out

result = []
for p in sys.argv[1:]:
    d = parse_file_to_json(p)
    settings = {
        "form_id": d["id_string"],
        "title": d["title"],
        "version": str(d.get("version", "")),
        "root": d["name"],
        "default_language": d.get("default_language", "default"),
    }
    result.append({"survey": nodes(d["children"]), "choices": choices(d), "settings": settings})
print(json.dumps(result, ensure_ascii=False))
"#;

fn media_json(m: &std::collections::BTreeMap<String, Text>) -> Value {
    Value::Object(m.iter().map(|(k, t)| (k.clone(), text_json(t))).collect())
}

fn choices_json(i: &enumera_core::instrument::Instrument) -> Value {
    let mut out = Map::new();
    for (name, list) in &i.choices {
        let items = list
            .choices
            .iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("name".into(), json!(c.name));
                if !c.label.is_empty() {
                    m.insert("label".into(), text_json(&c.label));
                }
                if !c.media.is_empty() {
                    m.insert("media".into(), media_json(&c.media));
                }
                if !c.extra.is_empty() {
                    m.insert("extra".into(), json!(c.extra));
                }
                Value::Object(m)
            })
            .collect();
        out.insert(name.clone(), Value::Array(items));
    }
    Value::Object(out)
}

fn text_json(t: &Text) -> Value {
    Value::Object(t.0.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// Our instrument tree in the shape NORMALIZE gives pyxform's.
fn ours(nodes: &[Node]) -> Value {
    let mut out = Vec::new();
    for n in nodes {
        let qtype = n.question_type();
        if qtype == Some(QuestionType::Audit) {
            continue; // pyxform moves it into its meta group
        }
        let mut m = Map::new();
        m.insert("name".into(), json!(n.name));
        let t = match &n.kind {
            NodeKind::Group => "group".to_string(),
            NodeKind::Repeat { .. } => "repeat".to_string(),
            NodeKind::Question(q) => pyxform_type(q.qtype).to_string(),
        };
        m.insert("type".into(), json!(t));
        for (k, text) in
            [("label", &n.label), ("hint", &n.hint), ("guidance_hint", &n.guidance_hint)]
        {
            if !text.is_empty() {
                m.insert(k.into(), text_json(text));
            }
        }
        if !n.media.is_empty() {
            m.insert("media".into(), media_json(&n.media));
        }
        let b = &n.bind;
        let mut bind = Map::new();
        for (k, v) in [
            ("relevant", &b.relevant),
            ("required", &b.required),
            ("constraint", &b.constraint),
            ("calculate", &b.calculation),
            ("readonly", &b.readonly),
        ] {
            if let Some(v) = v {
                bind.insert(k.into(), json!(v));
            }
        }
        if !bind.is_empty() {
            m.insert("bind".into(), Value::Object(bind));
        }
        if !b.constraint_message.is_empty() {
            m.insert("constraint_message".into(), text_json(&b.constraint_message));
        }
        if !b.required_message.is_empty() {
            m.insert("required_message".into(), text_json(&b.required_message));
        }
        if let Some(a) = &n.appearance {
            m.insert("appearance".into(), json!(a));
        }
        if let NodeKind::Repeat { count: Some(c) } = &n.kind {
            m.insert("count".into(), json!(c));
        }
        if let NodeKind::Question(q) = &n.kind
            && let Some(list) = q.list.as_ref().or(q.file.as_ref())
        {
            m.insert("list".into(), json!(list));
        }
        if let Some(f) = &b.choice_filter {
            m.insert("choice_filter".into(), json!(f));
        }
        if let Some(d) = &b.default {
            m.insert("default".into(), json!(d));
        }
        if n.is_container() {
            m.insert("children".into(), ours(&n.children));
        }
        out.push(Value::Object(m));
    }
    Value::Array(out)
}

fn pyxform_type(t: QuestionType) -> &'static str {
    use QuestionType::*;
    match t {
        Text => "text",
        Integer => "integer",
        Decimal => "decimal",
        Range => "range",
        SelectOne | SelectOneFromFile => "select_one",
        SelectMultiple | SelectMultipleFromFile => "select_multiple",
        Rank => "rank",
        Note => "note",
        Acknowledge => "acknowledge",
        Date => "date",
        Time => "time",
        DateTime => "dateTime",
        Geopoint => "geopoint",
        Geotrace => "geotrace",
        Geoshape => "geoshape",
        Image => "image",
        Audio => "audio",
        Video => "video",
        File => "file",
        Barcode => "barcode",
        Calculate => "calculate",
        Hidden => "hidden",
        Start => "start",
        End => "end",
        Today => "today",
        DeviceId => "deviceid",
        Username => "username",
        Email => "email",
        PhoneNumber => "phonenumber",
        SimSerial => "simserial",
        SubscriberId => "subscriberid",
        Audit => "audit",
        Osm => "osm",
        StartGeopoint => "start-geopoint",
        BackgroundGeopoint => "background-geopoint",
        BackgroundAudio => "background-audio",
    }
}

/// The same tree, types, texts in every language, and bind expressions as
/// pyxform reads from the same workbook.
#[test]
fn import_means_what_pyxform_reads() {
    let Some(python) = pyxform_python() else {
        eprintln!("SKIP import_means_what_pyxform_reads: no python3 on this machine");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let forms = [
        ("all_question_types", fixtures::all_question_types()),
        ("every_column", fixtures::every_column()),
        ("nested_repeats", fixtures::nested_repeats()),
        ("tricky_valid", fixtures::tricky_valid()),
    ];
    let mut files: Vec<PathBuf> = forms
        .iter()
        .map(|(name, form)| form.write_to(dir.path().join(name).join(format!("{name}.xlsx"))))
        .collect();
    let mut names: Vec<String> = forms.iter().map(|(n, _)| n.to_string()).collect();
    // The study's instruments too, where this tree has them.
    let shipped = enumera_tests::repo_root().join("instruments/p2p-sanitation");
    if let Ok(entries) = std::fs::read_dir(&shipped) {
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "xlsx"))
            .collect();
        found.sort();
        for f in found {
            names.push(f.file_name().unwrap_or_default().to_string_lossy().into_owned());
            files.push(f);
        }
    }
    let out =
        Command::new(&python).arg("-c").arg(NORMALIZE).args(&files).output().expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs: Vec<Value> = serde_json::from_slice(&out.stdout).expect("pyxform JSON");
    assert_eq!(theirs.len(), files.len());
    for (name, (file, theirs)) in names.iter().zip(files.iter().zip(theirs)) {
        let imported = import_xlsform(file).expect("readable");
        let mine = json!({
            "survey": ours(&imported.instrument.children),
            "choices": choices_json(&imported.instrument),
            "settings": {
                "form_id": imported.instrument.form_id,
                "title": imported.instrument.title,
                "version": imported.instrument.version,
                "root": imported.instrument.root_name,
                "default_language": imported.instrument.default_language.as_deref().unwrap_or("default"),
            },
        });
        assert_eq!(
            mine,
            theirs,
            "{name}: ours\n{}\npyxform\n{}",
            serde_json::to_string_pretty(&mine).unwrap_or_default(),
            serde_json::to_string_pretty(&theirs).unwrap_or_default()
        );
    }
}
