//! Form media (issue 18, item 2): the files an instrument's labels name
//! (`media::image`, `media::audio`, `media::video`, `big-image`, in every
//! language, on questions, groups and choices). Central publishes them with
//! the form and devices fetch them with it; both check a name here first.

use super::{Instrument, Node, Text};
use std::collections::BTreeMap;

/// One place a form media file is named: which file, and the question (or
/// choice) and column that need it, for messages a form author can act on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MediaReference {
    pub file: String,
    /// `image`, `big-image`, `audio` or `video`.
    pub kind: String,
    /// The XLSForm column (`media::image::English (en)`, `big-image`).
    pub column: String,
    /// `question site` or `choice yes_no/yes`.
    pub at: String,
    /// 1-based row of its sheet.
    pub row: u32,
}

/// True for a plain file name: 1 to 255 bytes, no path separator, no
/// control character, not starting with a dot. A name from a form becomes a
/// file name on a tablet and in a folder, so nothing else is taken.
pub fn valid_media_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

impl Instrument {
    /// Every form media file the instrument names, in form order, each
    /// place listed (a file named twice appears twice).
    pub fn media_references(&self) -> Vec<MediaReference> {
        let mut out = Vec::new();
        fn walk(nodes: &[Node], out: &mut Vec<MediaReference>) {
            for n in nodes {
                push(&n.media, &format!("question {}", n.name), n.row, out);
                walk(&n.children, out);
            }
        }
        walk(&self.children, &mut out);
        for (list, l) in &self.choices {
            for c in &l.choices {
                push(&c.media, &format!("choice {list}/{}", c.name), c.row, &mut out);
            }
        }
        out
    }

    /// The distinct form media file names the instrument needs, sorted.
    pub fn media_files(&self) -> Vec<String> {
        let mut names: Vec<String> = self.media_references().into_iter().map(|r| r.file).collect();
        names.sort();
        names.dedup();
        names
    }
}

fn push(media: &BTreeMap<String, Text>, at: &str, row: u32, out: &mut Vec<MediaReference>) {
    for (kind, text) in media {
        for (lang, file) in &text.0 {
            let file = file.trim();
            if file.is_empty() {
                continue;
            }
            let column = match (kind.as_str(), lang.as_str()) {
                ("big-image", "") => "big-image".to_string(),
                ("big-image", l) => format!("big-image::{l}"),
                (k, "") => format!("media::{k}"),
                (k, l) => format!("media::{k}::{l}"),
            };
            out.push(MediaReference {
                file: file.to_string(),
                kind: kind.clone(),
                column,
                at: at.to_string(),
                row,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_cover_questions_groups_choices_and_languages() {
        let v = json!({
            "model_version": 1, "form_id": "m", "version": "1", "title": "M",
            "root_name": "data", "settings": {},
            "languages": ["English (en)", "Português (pt)"],
            "children": [
                {"name": "g", "kind": {"kind": "group"}, "row": 2,
                 "label": {"": "G"}, "media": {"image": {"": "group.png"}},
                 "children": [
                    {"name": "site", "kind": {"kind": "question", "type": "select_one", "list": "yn"},
                     "row": 3, "label": {"English (en)": "Site"},
                     "media": {"image": {"English (en)": "a-en.png", "Português (pt)": "a-pt.png"},
                               "big-image": {"": "big.jpg"}}}]},
            ],
            "choices": {"yn": {"choices": [
                {"name": "yes", "label": {"": "Yes"}, "row": 2, "media": {"audio": {"": "yes.mp3"}}},
                {"name": "no", "label": {"": "No"}, "row": 3}]}},
        });
        let i = Instrument::from_json(v.to_string().as_bytes()).unwrap();
        let refs = i.media_references();
        let got: Vec<(&str, &str, &str)> =
            refs.iter().map(|r| (r.file.as_str(), r.column.as_str(), r.at.as_str())).collect();
        assert_eq!(
            got,
            [
                ("group.png", "media::image", "question g"),
                ("big.jpg", "big-image", "question site"),
                ("a-en.png", "media::image::English (en)", "question site"),
                ("a-pt.png", "media::image::Português (pt)", "question site"),
                ("yes.mp3", "media::audio", "choice yn/yes"),
            ]
        );
        assert_eq!(i.media_files(), ["a-en.png", "a-pt.png", "big.jpg", "group.png", "yes.mp3"]);
    }

    #[test]
    fn media_names_refuse_paths() {
        for ok in ["a.png", "show card 1.jpg", "pergunta.mp3"] {
            assert!(valid_media_name(ok), "{ok}");
        }
        let long = "x".repeat(256);
        for bad in ["", ".hidden", "../a.png", "a/b.png", "a\\b", "a\nb", long.as_str()] {
            assert!(!valid_media_name(bad), "{bad:?}");
        }
    }
}
