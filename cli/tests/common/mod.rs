//! A short bilingual form written as instrument JSON, for the interview
//! tests: an integer with a constraint and its message, a select_one, a
//! question relevant on it, and a required text.

use std::path::PathBuf;

use serde_json::json;

pub fn form_file(dir: &tempfile::TempDir) -> PathBuf {
    let form = json!({
        "model_version": 1, "form_id": "hh", "version": "3", "title": "Household",
        "root_name": "data", "settings": {},
        "languages": ["English (en)", "Português (pt)"],
        "children": [
            {"name": "age", "kind": {"kind": "question", "type": "integer"}, "row": 2,
             "label": {"English (en)": "How old are you?", "Português (pt)": "Quantos anos tem?"},
             "hint": {"English (en)": "In full years", "Português (pt)": "Em anos completos"},
             "bind": {"constraint": ". >= 18 and . < 120",
                      "constraint_message": {"English (en)": "Must be 18 to 119",
                                             "Português (pt)": "Deve ser entre 18 e 119"}}},
            {"name": "school", "kind": {"kind": "question", "type": "select_one", "list": "yn"}, "row": 3,
             "label": {"English (en)": "Did you go to school?", "Português (pt)": "Foi à escola?"}},
            {"name": "grade", "kind": {"kind": "question", "type": "integer"}, "row": 4,
             "label": {"English (en)": "Last grade finished", "Português (pt)": "Última classe"},
             "bind": {"relevant": "${school} = 'yes'"}},
            {"name": "name", "kind": {"kind": "question", "type": "text"}, "row": 5,
             "label": {"English (en)": "Your name", "Português (pt)": "O seu nome"},
             "bind": {"required": "true()"}}
        ],
        "choices": {"yn": {"choices": [
            {"name": "yes", "label": {"English (en)": "Yes", "Português (pt)": "Sim"}, "row": 2},
            {"name": "no", "label": {"English (en)": "No", "Português (pt)": "Não"}, "row": 3}
        ]}}
    });
    let path = dir.path().join("household.json");
    std::fs::write(&path, form.to_string()).expect("write the test form");
    path
}

pub fn enumera() -> &'static str {
    env!("CARGO_BIN_EXE_enumera")
}
