//! Named XLSForms for tests across crates: valid forms covering every
//! question type, every column, several languages and nested repeats. Each
//! returns an [`XlsForm`] to write where the test wants it.

use crate::XlsForm;

/// `(type cell, question name)` for every question type Enumera reads, in
/// the order [`all_question_types`] lays them out (rows 2, 3, ...).
pub const QUESTION_TYPES: &[(&str, &str)] = &[
    ("text", "q_text"),
    ("integer", "q_integer"),
    ("decimal", "q_decimal"),
    ("range", "q_range"),
    ("select_one yn", "q_select_one"),
    ("select_multiple crops", "q_select_multiple"),
    ("select_one_from_file places.csv", "q_sof"),
    ("select_multiple_from_file places.csv", "q_smf"),
    ("rank crops", "q_rank"),
    ("note", "q_note"),
    ("acknowledge", "q_ack"),
    ("date", "q_date"),
    ("time", "q_time"),
    ("dateTime", "q_datetime"),
    ("geopoint", "q_geopoint"),
    ("geotrace", "q_geotrace"),
    ("geoshape", "q_geoshape"),
    ("image", "q_image"),
    ("audio", "q_audio"),
    ("video", "q_video"),
    ("file", "q_file"),
    ("barcode", "q_barcode"),
    ("calculate", "q_calc"),
    ("hidden", "q_hidden"),
    ("start", "q_start"),
    ("end", "q_end"),
    ("today", "q_today"),
    ("deviceid", "q_deviceid"),
    ("username", "q_username"),
    ("audit", "audit"),
];

/// One question of every type, with the choice lists and the CSV file
/// (`places.csv`, written beside the form) they need.
pub fn all_question_types() -> XlsForm {
    let mut survey: Vec<Vec<&str>> = vec![vec!["type", "name", "label", "calculation"]];
    for (t, n) in QUESTION_TYPES {
        let calc = if *t == "calculate" { "1 + 1" } else { "" };
        survey.push(vec![t, n, "A label", calc]);
    }
    let survey: Vec<&[&str]> = survey.iter().map(Vec::as_slice).collect();
    XlsForm::new()
        .survey(&survey)
        .choices(&[
            &["list_name", "name", "label"],
            &["yn", "yes", "Yes"],
            &["yn", "no", "No"],
            &["crops", "maize", "Maize"],
            &["crops", "beans", "Beans"],
        ])
        .file("places.csv", "name,label\nmaputo,Maputo\nbeira,Beira\n")
}

/// Every survey column (with aliases pyxform accepts) in English and
/// Portuguese, a repeat with a computed count, a cascading select with a
/// choice filter, and every setting (version as a number cell).
pub fn every_column() -> XlsForm {
    let header: &[&str] = &[
        "type",
        "name",
        "label::English (en)",
        "label::Português (pt)",
        "hint::English (en)",
        "hint::Português (pt)",
        "guidance_hint::English (en)",
        "guidance_hint::Português (pt)",
        "required",
        "required_message::English (en)",
        "bind::jr:requiredMsg::Português (pt)",
        "constraint",
        "constraint_message::English (en)",
        "bind::jr:constraintMsg::Português (pt)",
        "relevant",
        "calculate",
        "default",
        "readonly",
        "appearance",
        "choice_filter",
        "repeat_count",
        "parameters",
        "image::English (en)",
        "media::image::Português (pt)",
        "audio::English (en)",
        "audio::Português (pt)",
        "video::English (en)",
        "video::Português (pt)",
        "big-image::English (en)",
        "big-image::Português (pt)",
        "trigger",
        "bind::odk:length",
        "body::accuracyThreshold",
        "instance::odk:tag",
        "preload",
        "bind::enumera:pii",
        "notes to self",
    ];
    let width = header.len();
    let row = |cells: &[(&str, &str)]| -> Vec<String> {
        let mut r = vec![String::new(); width];
        for (h, v) in cells {
            let i = header.iter().position(|x| x == h).unwrap_or_else(|| panic!("{h}"));
            r[i] = v.to_string();
        }
        r
    };
    let rows: Vec<Vec<String>> = vec![
        header.iter().map(|s| s.to_string()).collect(),
        row(&[
            ("type", "integer"),
            ("name", "age"),
            ("label::English (en)", "Age"),
            ("label::Português (pt)", "Idade"),
            ("hint::English (en)", "In years"),
            ("hint::Português (pt)", "Em anos"),
            ("guidance_hint::English (en)", "Ask gently"),
            ("guidance_hint::Português (pt)", "Pergunte com cuidado"),
            ("required", "yes"),
            ("required_message::English (en)", "Needed"),
            ("bind::jr:requiredMsg::Português (pt)", "Necessário"),
            ("constraint", ". >= 18 and . < 120"),
            ("constraint_message::English (en)", "Adults only"),
            ("bind::jr:constraintMsg::Português (pt)", "Só adultos"),
            ("default", "30"),
            ("appearance", "numbers"),
            ("image::English (en)", "age-en.png"),
            ("media::image::Português (pt)", "age-pt.png"),
            ("audio::English (en)", "age-en.mp3"),
            ("audio::Português (pt)", "age-pt.mp3"),
            ("video::English (en)", "age-en.mp4"),
            ("video::Português (pt)", "age-pt.mp4"),
            ("big-image::English (en)", "age-en-big.png"),
            ("big-image::Português (pt)", "age-pt-big.png"),
            ("bind::odk:length", "1 3"),
            ("preload", "yes"),
            ("notes to self", "ignored"),
        ]),
        row(&[
            ("type", "text"),
            ("name", "phone"),
            ("label::English (en)", "Phone"),
            ("label::Português (pt)", "Telefone"),
            ("hint::English (en)", "h"),
            ("hint::Português (pt)", "h"),
            ("relevant", "${age} > 20"),
            ("readonly", "TRUE"),
            ("bind::enumera:pii", "yes"),
            ("instance::odk:tag", "contact"),
            ("trigger", "${age}"),
        ]),
        row(&[
            ("type", "calculate"),
            ("name", "decade"),
            ("calculate", "int(${age} div 10)"),
            ("bind::enumera:pii", "true"),
        ]),
        row(&[
            ("type", "begin repeat"),
            ("name", "members"),
            ("label::English (en)", "Members"),
            ("label::Português (pt)", "Membros"),
            ("repeat_count", "${age} div 10"),
        ]),
        row(&[
            ("type", "select_one state"),
            ("name", "state"),
            ("label::English (en)", "State"),
            ("label::Português (pt)", "Estado"),
            ("parameters", "randomize=true seed=42"),
        ]),
        row(&[
            ("type", "select_one city"),
            ("name", "city"),
            ("label::English (en)", "City"),
            ("label::Português (pt)", "Cidade"),
            ("choice_filter", "state = ${state}"),
        ]),
        row(&[
            ("type", "geopoint"),
            ("name", "where"),
            ("label::English (en)", "Where"),
            ("label::Português (pt)", "Onde"),
            ("body::accuracyThreshold", "5"),
        ]),
        row(&[("type", "end repeat")]),
    ];
    let refs: Vec<Vec<&str>> =
        rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
    let survey: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    XlsForm::new()
        .survey(&survey)
        .choices(&[
            &[
                "list_name",
                "name",
                "label::English (en)",
                "label::Português (pt)",
                "state",
                "image::English (en)",
            ],
            &["state", "gaza", "Gaza", "Gaza", "", ""],
            &["state", "sofala", "Sofala", "Sofala", "", "sofala.png"],
            &["city", "xai", "Xai-Xai", "Xai-Xai", "gaza", ""],
            &["city", "beira", "Beira", "Beira", "sofala", ""],
        ])
        .settings(&[
            &[
                "form_title",
                "form_id",
                "version",
                "default_language",
                "instance_name",
                "public_key",
                "style",
                "name",
            ],
            &[
                "Everything",
                "everything",
                "",
                "English (en)",
                "concat(${age})",
                "age1xyz age1abc",
                "pages",
                "household",
            ],
        ])
        .cell("settings", 1, 2, crate::Cell::Number(2026112901.0))
}

/// A group holding a repeat holding a group holding a repeat, and a note
/// without a name after them.
pub fn nested_repeats() -> XlsForm {
    XlsForm::new().survey(&[
        &["type", "name", "label"],
        &["begin group", "hh", "Household"],
        &["text", "head", "Head"],
        &["begin repeat", "members", "Members"],
        &["text", "mname", "Name"],
        &["begin_group", "health", "Health"],
        &["begin repeat", "visits", "Visits"],
        &["date", "vdate", "When"],
        &["integer", "vcost", "Cost"],
        &["end repeat", "", ""],
        &["end_group", "", ""],
        &["end repeat", "", ""],
        &["end group", "", ""],
        &["note", "", "Thanks"],
    ])
}

/// Valid in pyxform, though a strict reader might refuse it: header case and
/// aliases, `begin_group`, typographic quotes, the same name in two groups,
/// a question with only a hint, a note without a name, a select from the
/// answers of a repeat, `indexed-repeat`, `jr:choice-name` and a language
/// without a code (a warning, not an error).
pub fn tricky_valid() -> XlsForm {
    XlsForm::new()
        .survey(&[
            &[
                "Type",
                "Name",
                "Label::English",
                "Hint::English",
                "Relevant",
                "Calculate",
                "ReadOnly",
                "Required",
            ],
            &["select one yn", "a", "A?", "", "", "", "", "TRUE"],
            &["begin_group", "g1", "G1", "", "${a} = \u{2018}y\u{2019}", "", "", ""],
            &["text", "x", "X", "", "", "", "", ""],
            &["end_group", "", "", "", "", "", "", ""],
            &["begin group", "g2", "G2", "", "", "", "", ""],
            &["text", "x", "", "Only a hint", "", "", "", ""],
            &["end group", "", "", "", "", "", "", ""],
            &["note", "", "A note without a name", "", "", "", "", ""],
            &["begin repeat", "people", "People", "", "", "", "", ""],
            &["text", "pname", "Name", "", "", "", "", ""],
            &["end repeat", "", "", "", "", "", "", ""],
            &["select_one ${pname}", "chosen", "Who?", "", "", "", "", ""],
            &["calculate", "first", "", "", "", "indexed-repeat(${pname}, ${people}, 1)", "", ""],
            &["calculate", "aname", "", "", "", "jr:choice-name(${a}, '${a}')", "", ""],
            &["integer", "fixed", "Fixed", "", "", "", "yes", ""],
            &["range", "r", "R", "", "", "", "", ""],
        ])
        .choices(&[
            &["List Name", "Name", "Label::English"],
            &["yn", "y", "Yes"],
            &["yn", "n", "No"],
        ])
}
