//! The compiled instrument: a plain serde model of what an XLSForm says, with
//! every expression kept as the source text the author wrote (`${name}` and
//! all). Expressions are compiled later, once per instrument, by `expr`.
//!
//! Field order and `BTreeMap`s make the JSON form canonical: the same
//! instrument always serializes to the same bytes, so its hash is stable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The version of this model's JSON shape. Bumped on any change that an older
/// reader could misread; stored in the canonical JSON.
pub const MODEL_VERSION: u32 = 1;

/// How deep groups and repeats may nest. Real forms use a handful of
/// levels; the bound keeps every recursive walk (validation, the XForm
/// writer, sessions, the JSON reader) far from the stack's end.
pub const MAX_NESTING: usize = 32;

/// A compiled survey instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    /// Shape version of this JSON ([`MODEL_VERSION`]).
    pub model_version: u32,
    /// `settings.form_id`, or the file stem when absent (as pyxform does).
    pub form_id: String,
    /// `settings.version`; empty when the form names none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// `settings.form_title`, or the form id.
    pub title: String,
    /// Name of the root element of the submission (`data` unless settings `name`).
    pub root_name: String,
    /// `settings.default_language`, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_language: Option<String>,
    /// Every language named in a column header, in the order first seen
    /// (`English (en)`, `Portuguese (pt)`). Empty for a single-language form
    /// written with plain `label` columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    pub settings: Settings,
    /// The questions, groups and repeats under the root, in sheet order.
    pub children: Vec<Node>,
    /// Choice lists by list name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<String, ChoiceList>,
    /// CSV files shipped with the instrument (`select_one_from_file`,
    /// `pulldata`), by file name. Their content is part of the hash.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, DataFile>,
    /// Tag lists of `osm LIST` questions (the `osm` sheet), by list name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub osm: BTreeMap<String, ChoiceList>,
    /// Secondary instances declared by `csv-external` / `xml-external`
    /// rows: instance id -> file name (`fruits` -> `fruits.csv`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub externals: BTreeMap<String, String>,
}

/// The settings sheet, beyond what [`Instrument`] holds directly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// `instance_name` expression (source form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// Researcher public keys responses are sealed to (`public_key`; several
    /// recipients separated by whitespace or commas).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_choice_duplicates: bool,
    /// `style` (e.g. `pages`, `theme-grid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_url: Option<String>,
    /// Any other settings column, kept verbatim.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, String>,
}

impl Settings {
    /// The `settings.other` key an XForm whose `meta/instanceID` is not
    /// read-only is read with (pyxform's always is; an XLSForm cannot say
    /// otherwise, so only an imported XForm carries it).
    pub const INSTANCE_ID_READONLY: &'static str = "instance_id_readonly";

    /// Whether `meta/instanceID` is read-only, as pyxform writes it.
    pub fn instance_id_readonly(&self) -> bool {
        self.other.get(Self::INSTANCE_ID_READONLY).map(String::as_str) != Some("false")
    }
}

/// A translatable text: language name -> text. The key `""` holds the text of a
/// column without a language suffix (`label` rather than `label::English (en)`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(pub BTreeMap<String, String>);

impl Text {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A text with only the default (unsuffixed) form.
    pub fn plain(s: impl Into<String>) -> Self {
        let mut m = BTreeMap::new();
        m.insert(String::new(), s.into());
        Text(m)
    }

    /// The text ODK shows in `lang`, as pyxform writes texts into an
    /// XForm: an untranslated text (only the unsuffixed form) in every
    /// language; a translated one in its languages, the unsuffixed form in
    /// the default language (`default_lang`, or pyxform's `default`), and
    /// `-` in a language it lacks.
    pub fn as_odk_shows(&self, lang: Option<&str>, default_lang: Option<&str>) -> Option<&str> {
        if !self.0.keys().any(|k| !k.is_empty()) {
            return self.0.get("").map(String::as_str);
        }
        let lang = lang.unwrap_or(default_lang.unwrap_or("default"));
        if let Some(t) = self.0.get(lang) {
            return Some(t);
        }
        if lang == default_lang.unwrap_or("default")
            && let Some(t) = self.0.get("")
        {
            return Some(t);
        }
        Some("-")
    }

    /// The text in `lang`, falling back to the unsuffixed text, then to the
    /// default language, then to any language (so a prompt is never blank just
    /// because one translation is missing).
    pub fn get(&self, lang: Option<&str>, default_lang: Option<&str>) -> Option<&str> {
        lang.and_then(|l| self.0.get(l))
            .or_else(|| self.0.get(""))
            .or_else(|| default_lang.and_then(|l| self.0.get(l)))
            .or_else(|| self.0.values().next())
            .map(String::as_str)
    }
}

/// One row of the survey sheet that made an element: a question, group or repeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub kind: NodeKind,
    /// 1-based row of the survey sheet this node came from (for messages).
    pub row: u32,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub label: Text,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub hint: Text,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub guidance_hint: Text,
    /// Media by kind (`image`, `big-image`, `audio`, `video`): file names per language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub media: BTreeMap<String, Text>,
    #[serde(default, skip_serializing_if = "Bind::is_empty")]
    pub bind: Bind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appearance: Option<String>,
    /// `parameters` column parsed as `key=value` pairs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    /// Personal data (`pii` column, or `bind::enumera:pii`): left out of
    /// exports unless asked for.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pii: bool,
    /// Preload from the participant's latest earlier response (`preload`
    /// column, or `bind::enumera:preload`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub preload: bool,
    /// Other `bind::X`, `body::X` and `instance::X` columns, kept verbatim
    /// under their full column name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
    /// Children of a group or repeat; empty for a question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Node {
    pub fn is_container(&self) -> bool {
        matches!(self.kind, NodeKind::Group | NodeKind::Repeat { .. })
    }

    pub fn question_type(&self) -> Option<QuestionType> {
        match &self.kind {
            NodeKind::Question(q) => Some(q.qtype),
            _ => None,
        }
    }
}

/// What a node is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NodeKind {
    Group,
    Repeat {
        /// `repeat_count` expression (source form); a count-controlled repeat.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<String>,
    },
    Question(Question),
}

/// A question's type and the choices it draws on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    #[serde(rename = "type")]
    pub qtype: QuestionType,
    /// Choice list name for select_one / select_multiple / rank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    /// CSV file name for select_*_from_file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `or_other`: an `other` choice is added and a `NAME_other` text
    /// question follows, relevant when it is selected.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub or_other: bool,
}

/// Every question type XLSForm defines that Enumera understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    Text,
    Integer,
    Decimal,
    Range,
    SelectOne,
    SelectMultiple,
    SelectOneFromFile,
    SelectMultipleFromFile,
    Rank,
    Note,
    Acknowledge,
    Date,
    Time,
    DateTime,
    Geopoint,
    Geotrace,
    Geoshape,
    Image,
    Audio,
    Video,
    File,
    Barcode,
    Calculate,
    Hidden,
    // Metadata, filled by the engine rather than asked.
    Start,
    End,
    Today,
    DeviceId,
    Username,
    Email,
    PhoneNumber,
    SimSerial,
    SubscriberId,
    Audit,
    /// `osm`: an OpenStreetMap feature file, with the tags of its list
    /// (`osm LIST`, from the `osm` sheet) for the mapping app to ask.
    Osm,
    /// `start-geopoint`: a location taken when the form is opened.
    StartGeopoint,
    /// `background-geopoint`: a location taken when the question named in
    /// its `trigger` changes.
    BackgroundGeopoint,
    /// `background-audio`: a recording of the whole interview.
    BackgroundAudio,
}

impl QuestionType {
    /// Metadata types are filled by the engine, never shown.
    pub fn is_metadata(self) -> bool {
        use QuestionType::*;
        matches!(
            self,
            Start
                | End
                | Today
                | DeviceId
                | Username
                | Email
                | PhoneNumber
                | SimSerial
                | SubscriberId
                | Audit
                | StartGeopoint
                | BackgroundGeopoint
                | BackgroundAudio
        )
    }

    pub fn is_select(self) -> bool {
        use QuestionType::*;
        matches!(
            self,
            SelectOne | SelectMultiple | SelectOneFromFile | SelectMultipleFromFile | Rank
        )
    }

    /// Several values, space separated, in one answer.
    pub fn is_multi(self) -> bool {
        use QuestionType::*;
        matches!(self, SelectMultiple | SelectMultipleFromFile | Rank)
    }

    pub fn is_attachment(self) -> bool {
        use QuestionType::*;
        matches!(self, Image | Audio | Video | File | Audit | Osm | BackgroundAudio)
    }

    /// The XForm bind type (`xsd:` prefix left off where ODK leaves it off).
    pub fn xform_type(self) -> &'static str {
        use QuestionType::*;
        match self {
            Text | Note | Calculate | Hidden | DeviceId | Username | Email | PhoneNumber
            | SimSerial | SubscriberId => "string",
            Integer => "int",
            Decimal => "decimal",
            Range => "int",
            SelectOne | SelectOneFromFile => "string",
            SelectMultiple | SelectMultipleFromFile => "string",
            Rank => "odk:rank",
            Acknowledge => "string",
            Date | Today => "date",
            Time => "time",
            DateTime | Start | End => "dateTime",
            Geopoint | StartGeopoint | BackgroundGeopoint => "geopoint",
            Geotrace => "geotrace",
            Geoshape => "geoshape",
            Image | Audio | Video | File | Audit | Osm | BackgroundAudio => "binary",
            Barcode => "barcode",
        }
    }
}

/// The logic columns of one row, as source text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bind {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<String>,
    /// `yes`/`true` become `true()`; anything else is kept as an expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub required_message: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub constraint_message: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculation: Option<String>,
    /// A literal default, or (when it holds an expression) a dynamic default
    /// evaluated once when the node is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readonly: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_filter: Option<String>,
    /// `trigger`: `${x}` references whose change recalculates this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
}

impl Bind {
    pub fn is_empty(&self) -> bool {
        *self == Bind::default()
    }
}

/// A named choice list from the choices sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceList {
    pub choices: Vec<Choice>,
}

/// One row of the choices sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// The value stored when chosen (`name` column).
    pub name: String,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub label: Text,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub media: BTreeMap<String, Text>,
    /// Other columns (used by `choice_filter`), by column name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
    /// 1-based row of the choices sheet.
    pub row: u32,
}

/// A CSV file shipped with the instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// An XML file kept whole (`xml-external`, `select_one_from_file
    /// f.xml`): its instance is this tree, whatever its shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xml: Option<String>,
}

impl DataFile {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}
