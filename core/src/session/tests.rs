//! Session behaviour on small forms written as instrument JSON.

use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use crate::expr::FixedEnv;
use crate::instrument::Instrument;

pub(super) fn instrument(children: Value, choices: Value, extra: Value) -> Instrument {
    let mut v = json!({
        "model_version": 1,
        "form_id": "t",
        "version": "1",
        "title": "T",
        "root_name": "data",
        "settings": {},
        "children": children,
        "choices": choices,
    });
    if let (Value::Object(base), Value::Object(more)) = (&mut v, extra) {
        base.extend(more);
    }
    Instrument::from_json(v.to_string().as_bytes()).unwrap()
}

pub(super) fn session(children: Value, choices: Value) -> Session {
    session_with(children, choices, json!({}))
}

pub(super) fn session_with(children: Value, choices: Value, extra: Value) -> Session {
    let form = Arc::new(Form::compile(instrument(children, choices, extra)).unwrap());
    Session::with_env(form, SessionOptions::default(), Box::new(FixedEnv::default()))
}

pub(super) fn q(name: &str, ty: &str) -> Value {
    json!({"name": name, "kind": {"kind": "question", "type": ty}, "row": 2})
}

pub(super) fn with(mut v: Value, key: &str, val: Value) -> Value {
    v[key] = val;
    v
}

pub(super) fn list(mut v: Value, name: &str) -> Value {
    v["kind"]["list"] = json!(name);
    v
}

pub(super) fn bind(v: Value, b: Value) -> Value {
    with(v, "bind", b)
}

pub(super) fn leaf<'a>(s: &'a [LeafState], r: &str) -> &'a LeafState {
    s.iter().find(|l| l.reference == r).unwrap_or_else(|| panic!("no leaf {r}"))
}

#[test]
fn relevance_hides_keeps_and_restores_values() {
    let mut s = session(
        json!([
            q("consent", "text"),
            bind(q("name", "text"), json!({"relevant": "${consent} = 'yes'"})),
            bind(q("echo", "calculate"), json!({"calculation": "concat('[', ${name}, ']')"})),
        ]),
        json!({}),
    );
    s.set("/data/consent", "yes").unwrap();
    s.set("/data/name", "Ana").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/echo").value, "[Ana]");
    s.set("/data/consent", "no").unwrap();
    let l = s.leaves();
    assert!(!leaf(&l, "/data/name").relevant);
    assert_eq!(leaf(&l, "/data/name").value, "", "non-relevant reads as empty");
    assert_eq!(leaf(&l, "/data/echo").value, "[]", "dependents see it empty");
    assert!(!s.submission_xml().contains("<name>"), "left out of the submission");
    s.set("/data/consent", "yes").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/name").value, "Ana", "value comes back");
    assert_eq!(leaf(&s.leaves(), "/data/echo").value, "[Ana]");
}

#[test]
fn group_relevance_applies_to_children() {
    let mut s = session(
        json!([
            q("go", "integer"),
            with(
                bind(
                    json!({"name": "g", "kind": {"kind": "group"}, "row": 3}),
                    json!({"relevant": "${go} > 0"})
                ),
                "children",
                json!([q("inner", "text")]),
            ),
        ]),
        json!({}),
    );
    assert!(!leaf(&s.leaves(), "/data/g/inner").relevant);
    s.set("/data/go", "1").unwrap();
    assert!(leaf(&s.leaves(), "/data/g/inner").relevant);
    s.set("/data/go", "0").unwrap();
    assert!(!leaf(&s.leaves(), "/data/g/inner").relevant);
}

#[test]
fn calculation_chain_updates_in_order() {
    let mut s = session(
        json!([
            q("a", "integer"),
            bind(q("b", "calculate"), json!({"calculation": "${a} * 2"})),
            bind(q("c", "calculate"), json!({"calculation": "${b} + 1"})),
            bind(q("d", "calculate"), json!({"calculation": "${c} + ${b}"})),
        ]),
        json!({}),
    );
    assert_eq!(leaf(&s.leaves(), "/data/b").value, "", "NaN shows as empty");
    s.set("/data/a", "5").unwrap();
    let l = s.leaves();
    assert_eq!(leaf(&l, "/data/b").value, "10");
    assert_eq!(leaf(&l, "/data/c").value, "11");
    assert_eq!(leaf(&l, "/data/d").value, "21");
}

#[test]
fn calculation_cycle_is_named() {
    let inst = instrument(
        json!([
            bind(q("a", "calculate"), json!({"calculation": "${b} + 1"})),
            bind(q("b", "calculate"), json!({"calculation": "${a} + 1"})),
        ]),
        json!({}),
        json!({}),
    );
    let err = Form::compile(inst).unwrap_err().to_string();
    assert!(err.contains("calculation cycle"), "{err}");
    assert!(err.contains("${a}") && err.contains("${b}"), "{err}");
}

fn members_form() -> Session {
    session(
        json!([
            with(
                json!({"name": "members", "kind": {"kind": "repeat"}, "row": 2}),
                "children",
                json!([
                    q("mname", "text"),
                    bind(q("age", "integer"), json!({"constraint": ". >= 0"})),
                    bind(
                        q("adult", "calculate"),
                        json!({"calculation": "if(${age} >= 18, 'yes', 'no')"})
                    ),
                    bind(q("pos", "calculate"), json!({"calculation": "position(..)"})),
                ]),
            ),
            bind(q("n", "calculate"), json!({"calculation": "count(${members})"})),
            bind(q("total", "calculate"), json!({"calculation": "sum(${age})"})),
        ]),
        json!({}),
    )
}

#[test]
fn repeats_add_remove_and_aggregate() {
    let mut s = members_form();
    assert_eq!(leaf(&s.leaves(), "/data/n").value, "1", "one instance to start, as pyxform");
    s.set("/data/members/age", "40").unwrap();
    s.add_repeat("/data/members").unwrap();
    s.set("/data/members[2]/age", "10").unwrap();
    let l = s.leaves();
    assert_eq!(leaf(&l, "/data/n").value, "2");
    assert_eq!(leaf(&l, "/data/total").value, "50");
    assert_eq!(leaf(&l, "/data/members[1]/adult").value, "yes");
    assert_eq!(
        leaf(&l, "/data/members[2]/adult").value,
        "no",
        "relative refs stay in their instance"
    );
    assert_eq!(leaf(&l, "/data/members[2]/pos").value, "2");
    s.set("/data/members[2]/age", "-1").unwrap();
    assert!(!leaf(&s.leaves(), "/data/members[2]/age").constraint_valid);
    s.remove_repeat("/data/members[1]").unwrap();
    let l = s.leaves();
    assert_eq!(leaf(&l, "/data/n").value, "1");
    assert_eq!(leaf(&l, "/data/total").value, "-1");
    assert_eq!(leaf(&l, "/data/members[1]/pos").value, "1", "positions renumber");
    assert!(s.resolve("/data/members[2]/age").is_err());
}

#[test]
fn repeat_count_follows_an_answer_up_and_down() {
    let mut s = session(
        json!([
            q("k", "integer"),
            with(
                json!({"name": "r", "kind": {"kind": "repeat", "count": "${k}"}, "row": 3}),
                "children",
                json!([
                    q("x", "text"),
                    bind(q("p", "calculate"), json!({"calculation": "position(..)"}))
                ]),
            ),
            bind(q("n", "calculate"), json!({"calculation": "count(${r})"})),
        ]),
        json!({}),
    );
    assert_eq!(leaf(&s.leaves(), "/data/n").value, "0");
    s.set("/data/k", "3").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/n").value, "3");
    s.set("/data/r[2]/x", "kept").unwrap();
    s.set("/data/k", "2").unwrap();
    let l = s.leaves();
    assert_eq!(leaf(&l, "/data/n").value, "2");
    assert_eq!(leaf(&l, "/data/r[2]/x").value, "kept");
    assert_eq!(leaf(&l, "/data/r[2]/p").value, "2");
    assert!(matches!(s.add_repeat("/data/r"), Err(SessionError::CountControlled { .. })));
    // A blank count keeps the instances there are (Web Forms defers the
    // update until a number comes); zero removes them.
    s.set("/data/k", "").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/n").value, "2");
    s.set("/data/k", "0").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/n").value, "0");
}

#[test]
fn nested_repeats_with_relevance_inside() {
    let mut s = session(
        json!([with(
            json!({"name": "hh", "kind": {"kind": "repeat"}, "row": 2}),
            "children",
            json!([
                q("size", "integer"),
                with(
                    json!({"name": "kids", "kind": {"kind": "repeat"}, "row": 4}),
                    "children",
                    json!([
                        q("kname", "text"),
                        bind(q("school", "text"), json!({"relevant": "${size} > 2"})),
                    ]),
                ),
            ]),
        )]),
        json!({}),
    );
    s.add_repeat("/data/hh").unwrap();
    // As in ODK Web Forms, a new household starts with no kids instance.
    assert!(!s.leaves().iter().any(|l| l.reference.starts_with("/data/hh[2]/kids")));
    s.add_repeat("/data/hh[2]/kids").unwrap();
    s.set("/data/hh[1]/size", "5").unwrap();
    s.set("/data/hh[2]/size", "1").unwrap();
    s.add_repeat("/data/hh[1]/kids").unwrap();
    let l = s.leaves();
    assert!(leaf(&l, "/data/hh[1]/kids[1]/school").relevant);
    assert!(leaf(&l, "/data/hh[1]/kids[2]/school").relevant);
    assert!(!leaf(&l, "/data/hh[2]/kids[1]/school").relevant);
    s.set("/data/hh[1]/size", "2").unwrap();
    assert!(!leaf(&s.leaves(), "/data/hh[1]/kids[2]/school").relevant);
}

fn places() -> Value {
    json!({
        "country": {"choices": [
            {"name": "mz", "label": {"": "Mozambique"}, "row": 2},
            {"name": "bd", "label": {"": "Bangladesh"}, "row": 3}
        ]},
        "city": {"choices": [
            {"name": "maputo", "label": {"": "Maputo"}, "extra": {"country": "mz"}, "row": 4},
            {"name": "beira", "label": {"": "Beira"}, "extra": {"country": "mz"}, "row": 5},
            {"name": "khulna", "label": {"": "Khulna"}, "extra": {"country": "bd"}, "row": 6}
        ]}
    })
}

#[test]
fn cascading_selects_filter_choices() {
    let mut s = session(
        json!([
            list(q("country", "select_one"), "country"),
            bind(
                list(q("city", "select_one"), "city"),
                json!({"choice_filter": "country = ${country}"}),
            ),
        ]),
        places(),
    );
    assert_eq!(leaf(&s.leaves(), "/data/city").options.as_ref().unwrap().len(), 0);
    s.set("/data/country", "mz").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/city").options.clone().unwrap(), vec!["maputo", "beira"]);
    assert!(matches!(s.set("/data/city", "khulna"), Err(SessionError::NotAChoice { .. })));
    s.set("/data/city", "beira").unwrap();
    s.set("/data/country", "bd").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/city").options.clone().unwrap(), vec!["khulna"]);
}

#[test]
fn constraint_and_required_messages_follow_the_language() {
    let mut s = session_with(
        json!([bind(
            q("age", "integer"),
            json!({
                "required": "true()",
                "required_message": {"English (en)": "Age is needed", "Portuguese (pt)": "A idade é necessária"},
                "constraint": ". < 120",
                "constraint_message": {"English (en)": "Too old", "Portuguese (pt)": "Demasiado velho"}
            }),
        )]),
        json!({}),
        json!({"languages": ["English (en)", "Portuguese (pt)"], "default_language": "English (en)"}),
    );
    assert_eq!(
        s.blockers(),
        vec![Blocker::Required { reference: "/data/age".into(), message: "Age is needed".into() }]
    );
    s.set("/data/age", "150").unwrap();
    s.set_language("pt").unwrap();
    assert_eq!(
        s.blockers(),
        vec![Blocker::Constraint {
            reference: "/data/age".into(),
            message: "Demasiado velho".into()
        }]
    );
    s.set("/data/age", "30").unwrap();
    assert!(s.blockers().is_empty());
    assert!(matches!(s.set_language("fr"), Err(SessionError::UnknownLanguage { .. })));
}

#[test]
fn bad_steps_fail_cleanly_and_change_nothing() {
    let mut s = members_form();
    s.set("/data/members/age", "7").unwrap();
    let before = s.submission_xml();
    assert!(matches!(s.set("/data/nope", "1"), Err(SessionError::UnknownRef { .. })));
    assert!(matches!(s.set("/data/members/age", "seven"), Err(SessionError::BadValue { .. })));
    assert!(matches!(s.set("/data/n", "3"), Err(SessionError::NotAnswerable { .. })));
    assert!(matches!(s.remove_repeat("/data/n"), Err(SessionError::NotARepeat { .. })));
    assert!(matches!(s.add_repeat("/data/total"), Err(SessionError::NotARepeat { .. })));
    // An index far past the instances there are is unknown, at once (it
    // once walked 2^64 steps: found by fuzzing session_steps).
    for huge in ["/data/members[18446744073709551615]/age", "/data/members[2]/age"] {
        assert!(matches!(s.set(huge, "1"), Err(SessionError::UnknownRef { .. })), "{huge}");
    }
    assert_eq!(s.submission_xml(), before);
}

#[test]
fn submission_xml_is_what_odk_sends() {
    let mut s = session(
        json!([
            q("name", "text"),
            bind(q("hidden", "text"), json!({"relevant": "false()"})),
            with(
                json!({"name": "g", "kind": {"kind": "group"}, "row": 4}),
                "children",
                json!([q("note", "text")])
            ),
        ]),
        json!({}),
    );
    s.set("/data/name", "Ana & <Bo>").unwrap();
    assert_eq!(
        s.submission_xml(),
        "<data id=\"t\" version=\"1\"><name>Ana &amp; &lt;Bo&gt;</name><g><note/></g>\
         <meta><instanceID>uuid:00000000-0000-4000-8000-000000000001</instanceID></meta></data>"
    );
    assert_eq!(s.submission_json()["name"], "Ana & <Bo>");
    assert!(s.submission_json().get("hidden").is_none());
}

#[test]
fn metadata_and_defaults_at_start() {
    let mut s = session(
        json!([
            q("start", "start"),
            q("today", "today"),
            with(q("city", "text"), "bind", json!({"default": "Beira"})),
            bind(q("stamp", "text"), json!({"default": "concat('at ', today())"})),
            bind(q("first", "calculate"), json!({"calculation": "once(${city})"})),
        ]),
        json!({}),
    );
    let l = s.leaves();
    assert_eq!(leaf(&l, "/data/start").value, "2024-01-15T10:30:00.000+00:00");
    assert_eq!(leaf(&l, "/data/today").value, "2024-01-15");
    assert_eq!(leaf(&l, "/data/city").value, "Beira");
    assert_eq!(leaf(&l, "/data/stamp").value, "at 2024-01-15");
    assert_eq!(leaf(&l, "/data/first").value, "Beira");
    s.set("/data/city", "Quelimane").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/first").value, "Beira", "once() keeps its first value");
}

#[test]
fn labels_fill_in_answers_and_screens_follow_relevance() {
    let mut s = session(
        json!([
            with(q("name", "text"), "label", json!({"": "Name?"})),
            bind(
                with(q("greet", "note"), "label", json!({"": "Hello ${name}!"})),
                json!({"relevant": "${name} != ''"})
            ),
            bind(q("calc", "calculate"), json!({"calculation": "1"})),
        ]),
        json!({}),
    );
    assert_eq!(s.screens().len(), 1);
    s.set("/data/name", "Ana").unwrap();
    assert_eq!(s.screens().len(), 2);
    assert_eq!(leaf(&s.leaves(), "/data/greet").label.as_deref(), Some("Hello Ana!"));
}

#[test]
fn choice_name_follows_the_language() {
    let mut s = session_with(
        json!([
            list(q("c", "select_one"), "yn"),
            bind(
                q("label", "calculate"),
                json!({"calculation": "jr:choice-name(${c}, '/data/c')"})
            ),
        ]),
        json!({"yn": {"choices": [
            {"name": "y", "label": {"English (en)": "Yes", "Portuguese (pt)": "Sim"}, "row": 2}
        ]}}),
        json!({"languages": ["English (en)", "Portuguese (pt)"], "default_language": "English (en)"}),
    );
    s.set("/data/c", "y").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/label").value, "Yes");
    s.set_language("Portuguese (pt)").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/label").value, "Sim");
}

#[test]
fn select_multiple_keeps_the_lists_order() {
    // ODK Web Forms stores the picked values in the choice list's order.
    let mut s = session(json!([list(q("crops", "select_multiple"), "country")]), places());
    s.set("/data/crops", "bd mz bd").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/crops").value, "mz bd");
}

#[test]
fn group_read_only_is_inherited_when_it_changes() {
    // ODK: a question in a read-only group is read-only too.
    let mut s = session(
        json!([
            q("lock", "integer"),
            with(
                bind(
                    json!({"name": "g", "kind": {"kind": "group"}, "row": 3}),
                    json!({"readonly": "${lock} = 1"})
                ),
                "children",
                json!([q("inner", "text")]),
            ),
        ]),
        json!({}),
    );
    assert!(!leaf(&s.leaves(), "/data/g/inner").readonly);
    s.set("/data/lock", "1").unwrap();
    assert!(leaf(&s.leaves(), "/data/g/inner").readonly);
    s.set("/data/lock", "0").unwrap();
    assert!(!leaf(&s.leaves(), "/data/g/inner").readonly);
}

#[test]
fn a_calculate_reading_another_instance_follows_it() {
    // `prev` reads the previous instance's `v` through `../../r[...]`: an
    // answer in instance 1 must update instance 2 (ODK does).
    let mut s = session(
        json!([with(
            json!({"name": "r", "kind": {"kind": "repeat"}, "row": 2}),
            "children",
            json!([
                q("v", "integer"),
                bind(q("pos", "calculate"), json!({"calculation": "position(..)"})),
                bind(
                    q("prev", "calculate"),
                    json!({"calculation": "../../r[position() = current()/../pos - 1]/v"})
                ),
            ]),
        )]),
        json!({}),
    );
    s.add_repeat("/data/r").unwrap();
    s.set("/data/r[1]/v", "5").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/r[2]/prev").value, "5");
    s.set("/data/r[1]/v", "7").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/r[2]/prev").value, "7");
}

#[test]
fn range_values_follow_the_ranges_type() {
    // A fractional step makes a decimal range, stored as ODK stores decimals.
    let mut s = session(
        json!([
            with(
                q("half", "range"),
                "parameters",
                json!({"start": "0", "end": "5", "step": "0.5"})
            ),
            with(q("whole", "range"), "parameters", json!({"start": "0", "end": "5", "step": "1"})),
        ]),
        json!({}),
    );
    s.set("/data/half", "3").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/half").value, "3.0");
    s.set("/data/whole", "3").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/whole").value, "3");
    assert!(s.set("/data/whole", "2.5").is_err());
}

#[test]
fn a_pick_the_filter_no_longer_offers_reads_empty_and_comes_back() {
    // ODK Web Forms: a select's value is its stored picks that the current
    // choices still offer; the stored pick returns with its choice.
    let mut s = session(
        json!([
            list(q("country", "select_one"), "country"),
            bind(
                list(q("city", "select_one"), "city"),
                json!({"choice_filter": "country = ${country}"}),
            ),
            bind(q("echo", "calculate"), json!({"calculation": "concat('[', ${city}, ']')"})),
        ]),
        places(),
    );
    s.set("/data/country", "mz").unwrap();
    s.set("/data/city", "beira").unwrap();
    s.set("/data/country", "bd").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/city").value, "");
    assert_eq!(leaf(&s.leaves(), "/data/echo").value, "[]");
    assert!(!s.submission_xml().contains("beira"));
    s.set("/data/country", "mz").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/city").value, "beira");
    assert_eq!(leaf(&s.leaves(), "/data/echo").value, "[beira]");
}

#[test]
fn choices_from_a_repeats_answers() {
    let mut s = session(
        json!([
            with(
                json!({"name": "people", "kind": {"kind": "repeat"}, "row": 2}),
                "children",
                json!([q("pname", "text")]),
            ),
            list(q("head", "select_one"), "${pname}"),
        ]),
        json!({}),
    );
    s.set("/data/people[1]/pname", "Ana").unwrap();
    s.add_repeat("/data/people").unwrap();
    s.set("/data/people[2]/pname", "Rui").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/head").options.clone().unwrap(), vec!["Ana", "Rui"]);
    s.set("/data/head", "Rui").unwrap();
    s.set("/data/people[2]/pname", "Rui Jr").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/head").value, "");
}

#[test]
fn a_count_controlled_repeat_inside_a_user_repeat_counts_per_instance() {
    let mut s = session(
        json!([with(
            json!({"name": "trips", "kind": {"kind": "repeat"}, "row": 2}),
            "children",
            json!([
                q("nights", "integer"),
                with(
                    json!({"name": "night", "kind": {"kind": "repeat", "count": "${nights}"}, "row": 4}),
                    "children",
                    json!([q("hotel", "text")]),
                ),
            ]),
        )]),
        json!({}),
    );
    s.add_repeat("/data/trips").unwrap();
    s.set("/data/trips[1]/nights", "3").unwrap();
    s.set("/data/trips[2]/nights", "1").unwrap();
    let count = |s: &Session, p: &str| {
        s.leaves()
            .iter()
            .filter(|l| l.reference.starts_with(p) && l.reference.ends_with("/hotel"))
            .count()
    };
    assert_eq!(count(&s, "/data/trips[1]/"), 3);
    assert_eq!(count(&s, "/data/trips[2]/"), 1);
    s.set("/data/trips[1]/nights", "2").unwrap();
    assert_eq!(count(&s, "/data/trips[1]/"), 2);
}

#[test]
fn a_hidden_repeat_keeps_its_counted_instances() {
    // ODK Web Forms keeps a count-controlled repeat's instances while their
    // parent is hidden, and their answers come back with it.
    let mut s = session(
        json!([
            q("go", "integer"),
            with(
                bind(
                    json!({"name": "g", "kind": {"kind": "group"}, "row": 3}),
                    json!({"relevant": "${go} = 1"})
                ),
                "children",
                json!([
                    q("n", "integer"),
                    with(
                        json!({"name": "r", "kind": {"kind": "repeat", "count": "${n}"}, "row": 5}),
                        "children",
                        json!([q("x", "text")]),
                    ),
                ]),
            ),
        ]),
        json!({}),
    );
    s.set("/data/go", "1").unwrap();
    s.set("/data/g/n", "2").unwrap();
    s.set("/data/g/r[2]/x", "kept").unwrap();
    s.set("/data/go", "0").unwrap();
    assert!(s.leaves().iter().any(|l| l.reference == "/data/g/r[2]/x"));
    s.set("/data/go", "1").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/g/r[2]/x").value, "kept");
}

#[test]
fn seeded_randomize_orders_choices_as_odk() {
    let fruit: Vec<Value> = ["apple", "banana", "cherry", "date", "elder"]
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"name": n, "label": {"": n}, "row": i + 2}))
        .collect();
    let s = session(
        json!([with(
            list(q("f", "select_one"), "fruit"),
            "parameters",
            json!({"randomize": "true", "seed": "42"})
        )]),
        json!({"fruit": {"choices": fruit}}),
    );
    // The order ODK Web Forms 0.22 shows for seed 42.
    assert_eq!(
        leaf(&s.leaves(), "/data/f").options.clone().unwrap(),
        vec!["apple", "elder", "cherry", "banana", "date"]
    );
}

#[test]
fn literal_defaults_are_stored_as_answers_are() {
    // ODK reads `1.50` on a decimal as 1.5 and `007` on an integer as 7.
    let s = session(
        json!([
            bind(q("d", "decimal"), json!({"default": "1.50"})),
            bind(q("i", "integer"), json!({"default": "007"})),
            bind(q("t", "text"), json!({"default": " keep "})),
        ]),
        json!({}),
    );
    let l = s.leaves();
    assert_eq!(leaf(&l, "/data/d").value, "1.5");
    assert_eq!(leaf(&l, "/data/i").value, "7");
    assert_eq!(leaf(&l, "/data/t").value, " keep ");
}

#[test]
fn a_trigger_in_a_repeat_fires_in_its_own_instance() {
    let mut s = session(
        json!([with(
            json!({"name": "r", "kind": {"kind": "repeat"}, "row": 2}),
            "children",
            json!([
                q("n", "integer"),
                bind(
                    q("stamp", "text"),
                    json!({"calculation": "concat('n=', ${n})", "trigger": "${n}"})
                ),
            ]),
        )]),
        json!({}),
    );
    s.add_repeat("/data/r").unwrap();
    s.set("/data/r[1]/n", "5").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/r[1]/stamp").value, "n=5");
    assert_eq!(leaf(&s.leaves(), "/data/r[2]/stamp").value, "");
}

#[test]
fn a_group_reading_its_own_descendant_starts_relevant_as_javarosa_does() {
    // docs/EXPRESSIONS.md: JavaRosa evaluates relevance once at start with
    // every node relevant (TreeElement's flags), so the default is read;
    // once hidden, the descendant reads empty and the group stays hidden.
    let mut s = session(
        json!([with(
            bind(
                json!({"name": "g", "kind": {"kind": "group"}, "row": 2}),
                json!({"relevant": "${inner} = 'yes'"})
            ),
            "children",
            json!([bind(q("inner", "text"), json!({"default": "yes"}))]),
        )]),
        json!({}),
    );
    assert!(leaf(&s.leaves(), "/data/g/inner").relevant);
    s.set("/data/g/inner", "no").unwrap();
    assert!(!leaf(&s.leaves(), "/data/g/inner").relevant);
    s.set("/data/g/inner", "yes").unwrap();
    assert!(!leaf(&s.leaves(), "/data/g/inner").relevant, "reads empty while hidden");
}

#[test]
fn audit_lives_in_meta_and_rank_keeps_its_order() {
    let mut s = session(
        json!([
            list(q("prio", "rank"), "p"),
            with(
                json!({"name": "g", "kind": {"kind": "group"}, "row": 2}),
                "children",
                json!([q("audit", "audit")])
            ),
        ]),
        json!({"p": {"choices": [{"name": "a", "row": 2}, {"name": "b", "row": 3}, {"name": "c", "row": 4}]}}),
    );
    assert!(s.leaves().iter().any(|l| l.reference == "/data/meta/audit"));
    assert!(s.submission_xml().contains("<meta><audit/><instanceID>"));
    s.set("/data/prio", "c a b").unwrap();
    assert_eq!(leaf(&s.leaves(), "/data/prio").value, "c a b", "the order ranked");
    assert!(s.set("/data/prio", "a b").is_err(), "a partial ranking, as in ODK");
    assert!(s.set("/data/prio", "a a b c").is_err());
    assert_eq!(leaf(&s.leaves(), "/data/prio").value, "c a b");
}
