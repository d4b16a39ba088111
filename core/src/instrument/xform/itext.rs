//! The `<itext>` block: every translated text, one `<translation>` per
//! language, each holding the same text ids. As pyxform does, a text missing
//! in a language is written as "-" (media: left out), so no language falls
//! back to another.

use std::collections::HashMap;

use super::xml::{Content, Element};

/// The texts collected while writing the form.
#[derive(Debug, Default)]
pub struct Itext {
    /// Languages in the order first used.
    langs: Vec<String>,
    entries: Vec<Entry>,
    by_id: HashMap<String, usize>,
    /// Texts whose default-language form came from an unsuffixed column
    /// (`label` beside `label::French (fr)` with `default_language` set):
    /// marked `enumera:unsuffixed` so that a reader can tell them from a
    /// `label::English (en)` column, which pyxform writes the same.
    unsuffixed: std::collections::HashSet<String>,
}

#[derive(Debug)]
struct Entry {
    id: String,
    /// Form (`long`, `guidance`, `image`, `audio`, ...) -> language -> content.
    forms: Vec<(String, HashMap<String, Vec<Content>>)>,
}

impl Itext {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records `content` as text `id` in `form` for `lang`.
    pub fn add(&mut self, id: &str, form: &str, lang: &str, content: Vec<Content>) {
        if !self.langs.iter().any(|l| l == lang) {
            self.langs.push(lang.to_string());
        }
        let idx = match self.by_id.get(id) {
            Some(&i) => i,
            None => {
                self.entries.push(Entry { id: id.to_string(), forms: Vec::new() });
                self.by_id.insert(id.to_string(), self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        let forms = &mut self.entries[idx].forms;
        let slot = match forms.iter().position(|(f, _)| f == form) {
            Some(i) => i,
            None => {
                forms.push((form.to_string(), HashMap::new()));
                forms.len() - 1
            }
        };
        forms[slot].1.insert(lang.to_string(), content);
    }

    /// Records that `id`'s default-language text came from an unsuffixed
    /// column.
    pub fn mark_unsuffixed(&mut self, id: &str) {
        self.unsuffixed.insert(id.to_string());
    }

    /// The `<itext>` element. `order` lists languages in the order to write
    /// them (the form's column order); others follow in order of first use.
    pub fn to_element(&self, order: &[String], default_lang: &str) -> Element {
        let mut langs: Vec<&String> = order.iter().filter(|l| self.langs.contains(l)).collect();
        for l in &self.langs {
            if !langs.contains(&l) {
                langs.push(l);
            }
        }
        let mut itext = Element::new("itext");
        for lang in langs {
            let mut tr = Element::new("translation").attr("lang", lang.as_str());
            if lang == default_lang {
                tr.set("default", "true()");
            }
            for entry in &self.entries {
                let mut text = Element::new("text").attr("id", entry.id.as_str());
                if lang == default_lang && self.unsuffixed.contains(&entry.id) {
                    text.set("enumera:unsuffixed", "true()");
                }
                for (form, by_lang) in &entry.forms {
                    if let Some(value) = value(form, by_lang.get(lang.as_str())) {
                        text.push(value);
                    }
                }
                tr.push(text);
            }
            itext.push(tr);
        }
        itext
    }
}

fn value(form: &str, content: Option<&Vec<Content>>) -> Option<Element> {
    let mut value = Element::new("value");
    match form {
        "long" | "guidance" => {
            if form == "guidance" {
                value.set("form", "guidance");
            }
            match content {
                Some(c) => value.extend(c.iter().cloned()),
                None => value.extend([Content::Text("-".into())]),
            }
        }
        media => {
            // Media exists per language or not at all.
            let file = match content?.as_slice() {
                [Content::Text(t)] if !t.is_empty() && t != "-" => t,
                _ => return None,
            };
            let dir = match media {
                "image" | "big-image" => "images",
                other => other,
            };
            value.set("form", media);
            value.extend([Content::Text(format!("jr://{dir}/{file}"))]);
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Vec<Content> {
        vec![Content::Text(s.into())]
    }

    #[test]
    fn missing_translations_are_dashes_and_missing_media_left_out() {
        let mut it = Itext::default();
        it.add("/d/q:label", "long", "pt", text("Nome"));
        it.add("/d/q:label", "long", "en", text("Name"));
        it.add("/d/q:label", "image", "en", text("a.png"));
        it.add("/d/q:hint", "guidance", "en", text("Ask slowly"));
        let el = it.to_element(&["en".into(), "pt".into()], "pt");
        let mut out = String::new();
        out.push_str(&el.to_document());
        let en = out.find("lang=\"en\"").unwrap();
        let pt = out.find("lang=\"pt\"").unwrap();
        assert!(en < pt, "column order kept: {out}");
        assert!(out.contains("<translation lang=\"pt\" default=\"true()\">"));
        assert!(out.contains("<value form=\"image\">jr://images/a.png</value>"));
        assert_eq!(out.matches("jr://images").count(), 1, "{out}");
        assert!(out.contains("<value form=\"guidance\">-</value>"), "{out}");
        assert!(out.contains("<value>Nome</value>"));
    }
}
