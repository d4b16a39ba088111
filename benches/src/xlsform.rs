//! A generated XLSForm (.xlsx bytes) of realistic shape, for the import
//! benchmark and for comparing with pyxform on the same file.

/// A generated XLSForm of realistic shape for benchmarks: `questions`
/// questions in two languages, in groups of 20 (every fifth group a repeat),
/// with relevance, constraints, calculations reading earlier answers, choice
/// lists and a choice filter. Returns the .xlsx bytes.
pub fn generated_xlsform(questions: usize) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::Workbook;
    let header = [
        "type",
        "name",
        "label::English (en)",
        "label::Português (pt)",
        "hint::English (en)",
        "hint::Português (pt)",
        "required",
        "relevant",
        "constraint",
        "constraint_message::English (en)",
        "constraint_message::Português (pt)",
        "calculation",
        "choice_filter",
    ];
    let mut rows: Vec<[String; 13]> = Vec::new();
    let blank = || std::array::from_fn::<String, 13, _>(|_| String::new());
    let mut prev_int: Option<String> = None;
    for i in 0..questions {
        let block = i / 20;
        if i % 20 == 0 {
            if block > 0 {
                let mut end = blank();
                end[0] = if (block - 1) % 5 == 4 { "end repeat" } else { "end group" }.into();
                rows.push(end);
            }
            let mut begin = blank();
            begin[0] = if block % 5 == 4 { "begin repeat" } else { "begin group" }.into();
            begin[1] = format!("section_{block}");
            begin[2] = format!("Section {block}");
            begin[3] = format!("Secção {block}");
            rows.push(begin);
        }
        let mut r = blank();
        let name = format!("q{i}");
        r[1] = name.clone();
        r[2] = format!("Question {i}");
        r[3] = format!("Pergunta {i}");
        r[4] = format!("Hint for {i}");
        r[5] = format!("Dica para {i}");
        match i % 10 {
            0 | 5 => {
                r[0] = "integer".into();
                r[6] = "yes".into();
                r[8] = ". >= 0 and . <= 120".into();
                r[9] = "Between 0 and 120".into();
                r[10] = "Entre 0 e 120".into();
                if let Some(p) = &prev_int {
                    r[7] = format!("${{{p}}} != ''");
                }
                prev_int = Some(name);
            }
            1 => r[0] = "select_one yes_no".into(),
            2 => {
                r[0] = "select_multiple crops".into();
                r[7] = format!("selected(${{q{}}}, 'yes')", i - 1);
            }
            3 => r[0] = "text".into(),
            4 => {
                r[0] = "calculate".into();
                r[2].clear();
                r[3].clear();
                r[4].clear();
                r[5].clear();
                r[11] = format!("if(${{q{}}} > 18, 'adult', 'child')", i - 4);
            }
            6 => r[0] = "decimal".into(),
            7 => r[0] = "date".into(),
            8 => {
                r[0] = "select_one city".into();
                r[12] = "state = 'gaza' or state = 'sofala'".into();
            }
            _ => r[0] = "note".into(),
        }
        rows.push(r);
    }
    if questions > 0 {
        let mut end = blank();
        end[0] = if ((questions - 1) / 20) % 5 == 4 { "end repeat" } else { "end group" }.into();
        rows.push(end);
    }

    let mut book = Workbook::new();
    let survey = book.add_worksheet();
    survey.set_name("survey")?;
    for (c, h) in header.iter().enumerate() {
        survey.write_string(0, c as u16, *h)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                survey.write_string(r as u32 + 1, c as u16, v)?;
            }
        }
    }
    let choices = book.add_worksheet();
    choices.set_name("choices")?;
    let choice_rows: &[[&str; 5]] = &[
        ["list_name", "name", "label::English (en)", "label::Português (pt)", "state"],
        ["yes_no", "yes", "Yes", "Sim", ""],
        ["yes_no", "no", "No", "Não", ""],
        ["crops", "maize", "Maize", "Milho", ""],
        ["crops", "beans", "Beans", "Feijão", ""],
        ["crops", "cassava", "Cassava", "Mandioca", ""],
        ["city", "xai_xai", "Xai-Xai", "Xai-Xai", "gaza"],
        ["city", "chokwe", "Chókwè", "Chókwè", "gaza"],
        ["city", "beira", "Beira", "Beira", "sofala"],
    ];
    for (r, row) in choice_rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                choices.write_string(r as u32, c as u16, *v)?;
            }
        }
    }
    let settings = book.add_worksheet();
    settings.set_name("settings")?;
    for (c, (h, v)) in
        [("form_title", "Generated"), ("form_id", "generated"), ("version", "1")].iter().enumerate()
    {
        settings.write_string(0, c as u16, *h)?;
        settings.write_string(1, c as u16, *v)?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_form_imports_cleanly() {
        let bytes = generated_xlsform(100).unwrap();
        let imported =
            enumera_core::instrument::import_xlsform_bytes(&bytes, "generated.xlsx", None).unwrap();
        let errors: Vec<String> = imported.errors().map(|d| d.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let mut questions = 0;
        fn count(nodes: &[enumera_core::instrument::Node], n: &mut usize) {
            for node in nodes {
                if node.question_type().is_some() {
                    *n += 1;
                }
                count(&node.children, n);
            }
        }
        count(&imported.instrument.children, &mut questions);
        assert_eq!(questions, 100);
        enumera_core::session::Form::compile(imported.instrument).expect("compiles for filling");
    }
}
