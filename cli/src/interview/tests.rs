//! The interview driven with scripted input and captured output.

use std::sync::Arc;

use enumera_core::expr::FixedEnv;
use enumera_core::instrument::Instrument;
use enumera_core::session::{Form, Session, SessionOptions};
use serde_json::{Value, json};

use super::*;

fn q(name: &str, ty: &str, label: &str) -> Value {
    json!({"name": name, "kind": {"kind": "question", "type": ty}, "row": 2,
           "label": {"English (en)": label, "Português (pt)": format!("pt {label}")}})
}

fn session_of(children: Value) -> Session {
    let v = json!({
        "model_version": 1, "form_id": "t", "version": "7", "title": "Test form",
        "root_name": "data", "settings": {},
        "languages": ["English (en)", "Português (pt)"],
        "children": children,
        "choices": {"yn": {"choices": [
            {"name": "yes", "label": {"English (en)": "Yes", "Português (pt)": "Sim"}, "row": 2},
            {"name": "no", "label": {"English (en)": "No", "Português (pt)": "Não"}, "row": 3}
        ]}},
    });
    let i = Instrument::from_json(v.to_string().as_bytes()).unwrap();
    Session::with_env(
        Arc::new(Form::compile(i).unwrap()),
        SessionOptions::default(),
        Box::new(FixedEnv::default()),
    )
}

/// age (integer, 18..119 with a message), school (select_one), grade
/// (relevant when school = yes), name (required text).
fn basic() -> Session {
    let mut age = q("age", "integer", "How old?");
    age["bind"] = json!({"constraint": ". >= 18 and . < 120",
        "constraint_message": {"English (en)": "18 to 119 please", "Português (pt)": "18 a 119"}});
    let mut school = q("school", "select_one", "School?");
    school["kind"]["list"] = json!("yn");
    let mut grade = q("grade", "integer", "Grade?");
    grade["bind"] = json!({"relevant": "${school} = 'yes'"});
    let mut name = q("name", "text", "Name?");
    name["bind"] = json!({"required": "true()"});
    session_of(json!([age, school, grade, name]))
}

fn household() -> Session {
    let mut members = json!({"name": "members", "kind": {"kind": "repeat"}, "row": 3,
        "label": {"English (en)": "Member"}});
    members["children"] = json!([q("m_name", "text", "Member name?")]);
    session_of(json!([q("hh", "text", "Household?"), members, q("end_note", "text", "Last?")]))
}

/// Records what the hooks saw; can be told to fail.
#[derive(Default)]
struct Recorder {
    changes: Vec<Change>,
    saved: usize,
    finalized: usize,
    fail_changes: bool,
    refuse_finalize: bool,
}

impl InterviewHooks for Recorder {
    fn changed(&mut self, _: &mut Session, change: &Change) -> Result<(), HookError> {
        if self.fail_changes {
            return Err("disk full".into());
        }
        self.changes.push(change.clone());
        Ok(())
    }
    fn save(&mut self, _: &mut Session) -> Result<(), HookError> {
        self.saved += 1;
        Ok(())
    }
    fn finalize(&mut self, _: &mut Session) -> Result<(), HookError> {
        if self.refuse_finalize {
            return Err("the store is read-only".into());
        }
        self.finalized += 1;
        Ok(())
    }
}

fn run_with(
    s: &mut Session,
    script: &str,
    hooks: &mut dyn InterviewHooks,
    options: &InterviewOptions,
) -> (Result<Outcome, InterviewError>, String) {
    let mut out = Vec::new();
    let r = run_interview(s, script.as_bytes(), &mut out, hooks, options);
    (r, String::from_utf8(out).unwrap())
}

fn run(s: &mut Session, script: &str) -> (Outcome, String, Recorder) {
    let mut hooks = Recorder::default();
    let (r, out) = run_with(s, script, &mut hooks, &InterviewOptions::default());
    (r.unwrap(), out, hooks)
}

fn value(s: &Session, r: &str) -> String {
    s.leaves()
        .into_iter()
        .find(|l| l.reference == r)
        .map(|l| l.value)
        .unwrap_or_else(|| panic!("no {r}"))
}

#[test]
fn answer_back_violate_fix_and_finalize() {
    let mut s = basic();
    let (outcome, out, hooks) = run(&mut s, "17\n34\n:b\n\n1\n5\nAna\n\n");
    assert_eq!(outcome, Outcome::Finalized, "{out}");
    assert!(out.contains("! 18 to 119 please"), "{out}");
    assert!(out.contains("Answer: 34"), "back shows the kept answer: {out}");
    assert!(out.contains("Grade?"), "the relevant question appears: {out}");
    assert_eq!(hooks.finalized, 1);
    let xml = s.submission_xml();
    assert!(
        xml.contains("<age>34</age><school>yes</school><grade>5</grade><name>Ana</name>"),
        "{xml}"
    );
    let refs: Vec<&str> = hooks.changes.iter().filter_map(Change::reference).collect();
    assert_eq!(refs, ["/data/age", "/data/age", "/data/school", "/data/grade", "/data/name"]);
}

#[test]
fn required_blocks_enter_but_not_next_and_finalize_lists_blockers() {
    let mut s = basic();
    let (outcome, out, hooks) = run(&mut s, "40\n2\n\n:n\n:f\n:q\n");
    assert_eq!(outcome, Outcome::Quit);
    assert!(out.contains("! This field is required."), "{out}");
    assert!(out.contains("Cannot finalize yet: 1 problem(s)"), "{out}");
    assert!(out.contains("   3 Name?: This field is required.  /data/name"), "{out}");
    assert_eq!(hooks.finalized, 0);
    assert!(!out.contains("Grade?"), "grade stays hidden when school = no");
}

#[test]
fn a_violated_answer_blocks_moving_on_with_enter() {
    let mut s = basic();
    let (_, out, _) = run(&mut s, "200\n\n:q\n");
    assert_eq!(out.matches("! 18 to 119 please").count(), 2, "{out}");
    assert_eq!(value(&s, "/data/age"), "200", "the answer is kept, as ODK keeps it");
}

#[test]
fn bad_values_and_choices_are_refused_with_the_reason() {
    let mut s = basic();
    let (_, out, hooks) = run(&mut s, "abc\n30\n7\nmaybe\nno\n:q\n");
    assert!(out.contains("! \"abc\" is not a valid whole number."), "{out}");
    assert!(out.contains("! there is no choice 7: pick 1 to 2"), "{out}");
    assert!(out.contains("! \"maybe\" is not one of the choices"), "{out}");
    assert_eq!(value(&s, "/data/school"), "no");
    assert_eq!(hooks.changes.len(), 2, "refused input changes nothing");
}

#[test]
fn jump_by_number_reference_and_name() {
    let mut s = basic();
    let (_, out, _) = run(&mut s, ":j 3\nBea\n:j /data/age\n44\n:j school\n:j 9\n:j nowhere\n:q\n");
    assert_eq!(value(&s, "/data/name"), "Bea");
    assert_eq!(value(&s, "/data/age"), "44");
    assert!(out.contains("[2/3]"), "{out}");
    assert!(out.contains("! There is no screen 9"), "{out}");
    assert!(out.contains("! No question named \"nowhere\""), "{out}");
}

#[test]
fn jump_alone_shows_the_hierarchy_then_asks() {
    let mut s = basic();
    let (_, out, _) = run(&mut s, "50\n:j\n1\n:q\n");
    assert!(out.contains("[x] How old?: 50"), "{out}");
    assert!(out.contains("[ ] School?"), "{out}");
    assert!(out.contains("Jump to"), "{out}");
    assert!(out.matches("[1/3]").count() >= 2, "jumped back to 1: {out}");
}

#[test]
fn language_switch_changes_labels_and_messages() {
    let mut s = basic();
    let (_, out, hooks) = run(&mut s, ":l\n:l pt\n10\n:l xx\n:q\n");
    assert!(out.contains(" * English (en)"), "{out}");
    assert!(out.contains("pt How old?"), "{out}");
    assert!(out.contains("! 18 a 119"), "{out}");
    assert!(out.contains("! the form has no language \"xx\""), "{out}");
    assert_eq!(hooks.changes[0], Change::Language { language: "Português (pt)".into() });
}

#[test]
fn clear_removes_an_answer() {
    let mut s = basic();
    let (_, _, hooks) = run(&mut s, "30\n:b\n:c\n:q\n");
    assert_eq!(value(&s, "/data/age"), "");
    assert_eq!(hooks.changes.len(), 2);
}

#[test]
fn repeats_add_another_and_remove() {
    let mut s = household();
    // hh, member 1, add another? y, member 2, add another? y, member 3,
    // :r (refused on the add screen), back to member 3, :r y, then the
    // add prompt again: n, last.
    let script = "H1\nAna\ny\nBea\ny\nCid\n:r\n:b\n:r\ny\nn\nfin\n:q\n";
    let (_, out, hooks) = run(&mut s, script);
    assert!(out.contains("Add another Member? (1 so far)"), "{out}");
    assert!(out.contains("Member 2"), "breadcrumbs name the instance: {out}");
    assert!(out.contains("! Go to a question inside the repeat"), "{out}");
    assert!(out.contains("Remove Member 3 and all its answers?"), "{out}");
    let xml = s.submission_xml();
    assert!(
        xml.contains("<members><m_name>Ana</m_name></members><members><m_name>Bea</m_name></members><end_note>fin</end_note>"),
        "{xml}"
    );
    assert!(hooks.changes.contains(&Change::RepeatAdded { reference: "/data/members[3]".into() }));
    assert!(
        hooks.changes.contains(&Change::RepeatRemoved { reference: "/data/members[3]".into() })
    );
}

#[test]
fn add_from_inside_a_repeat_and_remove_outside_is_refused() {
    let mut s = household();
    let (_, out, _) = run(&mut s, ":r\nH\nAna\n:a\nBea\n:q\n");
    assert!(out.contains("! Go to a question inside the repeat instance"), "{out}");
    assert_eq!(value(&s, "/data/members[2]/m_name"), "Bea");
}

#[test]
fn field_list_asks_each_question_on_one_screen() {
    let mut g = json!({"name": "g", "kind": {"kind": "group"}, "row": 2,
        "appearance": "field-list", "label": {"English (en)": "Person"}});
    g["children"] = json!([q("a", "text", "First?"), q("b", "text", "Second?")]);
    let mut s = session_of(json!([g, q("c", "text", "Third?")]));
    let (_, out, _) = run(&mut s, "one\n:b\nuno\ntwo\nthree\n:q\n");
    assert!(out.contains("(question 2 of 2 on this screen)"), "{out}");
    assert!(out.contains("Person"), "{out}");
    assert_eq!(value(&s, "/data/g/a"), "uno");
    assert_eq!(value(&s, "/data/g/b"), "two");
    assert_eq!(value(&s, "/data/c"), "three");
    assert!(out.contains("[2/2]"), "two screens: {out}");
}

#[test]
fn select_multiple_by_numbers() {
    let mut m = q("fruit", "select_multiple", "Fruit?");
    m["kind"]["list"] = json!("yn");
    let mut s = session_of(json!([m]));
    let (_, out, _) = run(&mut s, "2 1\n:b\n:q\n");
    // Stored in the list's order, as ODK Web Forms does, whatever the typing order.
    assert_eq!(value(&s, "/data/fruit"), "yes no");
    assert!(out.contains("[x]   1) Yes"), "{out}");
}

#[test]
fn save_quit_and_end_of_input() {
    let mut s = basic();
    let (outcome, _, hooks) = run(&mut s, "30\n:s\n");
    assert_eq!((outcome, hooks.saved), (Outcome::Saved, 1));
    let (outcome, out, _) = run(&mut basic(), "30\n");
    assert_eq!(outcome, Outcome::EndOfInput);
    assert!(out.contains("Input ended."));
}

#[test]
fn a_failing_change_hook_stops_the_interview() {
    let mut s = basic();
    let mut hooks = Recorder { fail_changes: true, ..Recorder::default() };
    let (r, _) = run_with(&mut s, "30\n:q\n", &mut hooks, &InterviewOptions::default());
    let e = r.unwrap_err();
    assert!(matches!(e, InterviewError::Hook { .. }));
    assert_eq!(e.to_string(), "could not keep the change to /data/age: disk full");
}

#[test]
fn a_refused_finalize_is_shown_and_the_interview_goes_on() {
    let mut s = basic();
    let mut hooks = Recorder { refuse_finalize: true, ..Recorder::default() };
    let (r, out) =
        run_with(&mut s, ":j 3\nAna\n:f\n:q\n", &mut hooks, &InterviewOptions::default());
    assert_eq!(r.unwrap(), Outcome::Quit);
    assert!(out.contains("! Could not finalize: the store is read-only"), "{out}");
}

#[test]
fn resume_starts_at_the_first_unanswered_screen() {
    let mut s = basic();
    s.set("/data/age", "30").unwrap();
    s.set("/data/school", "no").unwrap();
    let options = InterviewOptions::default().resuming();
    let (r, out) = run_with(&mut s, ":q\n", &mut NoHooks, &options);
    assert_eq!(r.unwrap(), Outcome::Quit);
    assert!(out.contains("Resuming a draft: 2 of 3 questions answered."), "{out}");
    assert!(out.contains("[3/3]"), "{out}");
    assert!(!out.contains("[1/3]"), "{out}");
}

#[test]
fn colours_only_when_asked_and_echo_when_piped() {
    let options = InterviewOptions { color: true, echo: true, resume: false };
    let (_, out) = run_with(&mut basic(), "17\n:q\n", &mut NoHooks, &options);
    assert!(out.contains("\x1b[1;31m! 18 to 119 please\x1b[0m"), "{out:?}");
    assert!(out.contains("> \x1b[0m17\n"), "the input is echoed: {out:?}");
    let (_, plain) = run_with(&mut basic(), "17\n:q\n", &mut NoHooks, &InterviewOptions::default());
    assert!(!plain.contains('\x1b'));
    assert!(!plain.contains("> 17"), "no echo unless asked");
}

#[test]
fn unknown_commands_and_help() {
    let (_, out, _) = run(&mut basic(), ":zz\n:h\n::x\n:q\n");
    assert!(out.contains("! unknown command :zz (type :h for the list)"), "{out}");
    assert!(out.contains(":j [N|REF]"), "{out}");
    assert!(out.contains("! \":x\" is not a valid whole number."), "{out}");
}

#[test]
fn long_choice_lists_are_cut_and_searched() {
    let choices: Vec<Value> = (1..=50)
        .map(|i| json!({"name": format!("d{i}"), "label": {"": format!("District {i}")}, "row": i + 1}))
        .collect();
    let v = json!({
        "model_version": 1, "form_id": "t", "title": "T", "root_name": "data", "settings": {},
        "children": [{"name": "district", "kind": {"kind": "question", "type": "select_one", "list": "d"},
                      "row": 2, "label": {"": "District?"}}],
        "choices": {"d": {"choices": choices}},
    });
    let i = Instrument::from_json(v.to_string().as_bytes()).unwrap();
    let mut s = Session::with_env(
        Arc::new(Form::compile(i).unwrap()),
        SessionOptions::default(),
        Box::new(FixedEnv::default()),
    );
    let (_, out, _) = run(&mut s, "trict 4\n45\n:q\n");
    assert!(out.contains(" 30) District 30\n"), "{out}");
    assert!(!out.contains(" 31) District 31\n"), "{out}");
    assert!(out.contains("... and 20 more: type part of a name"), "{out}");
    let matches = out.split("Choices that match:").nth(1).unwrap_or_default();
    assert!(
        matches.contains("  4) District 4\n") && matches.contains(" 49) District 49\n"),
        "{out}"
    );
    assert!(!matches.contains("District 5\n"), "{out}");
    assert_eq!(value(&s, "/data/district"), "d45");
}

/// Issue 18, item 2: the terminal names a question's label media.
#[test]
fn label_media_are_named_under_the_label() {
    let mut site = q("site", "text", "Site?");
    site["media"] = json!({"image": {"": "card.png"}, "audio": {"": "ask.mp3"}});
    let mut s = session_of(json!([site]));
    let (_, out, _) = run(&mut s, "A\n\n");
    assert!(out.contains("[image: card.png]") && out.contains("[audio: ask.mp3]"), "{out}");
}
