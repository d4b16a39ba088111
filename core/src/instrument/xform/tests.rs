use super::binds::default_is_dynamic;
use super::prepare::tests::{choice, group, instrument, q, select};
use super::*;
use crate::instrument::model::{ChoiceList, DataFile, QuestionType, Text};

fn parse(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not well-formed: {e}\n{xml}"))
}

fn find<'a, 'i>(
    doc: &'a roxmltree::Document<'i>,
    tag: &str,
    attr: &str,
    value: &str,
) -> roxmltree::Node<'a, 'i> {
    doc.descendants()
        .find(|n| n.tag_name().name() == tag && n.attribute(attr) == Some(value))
        .unwrap_or_else(|| panic!("no <{tag} {attr}=\"{value}\">"))
}

fn bind<'a, 'i>(doc: &'a roxmltree::Document<'i>, nodeset: &str) -> roxmltree::Node<'a, 'i> {
    find(doc, "bind", "nodeset", nodeset)
}

/// The primary instance as an indented outline of element names, with
/// `*` marking templates and `=value` for text.
fn outline(doc: &roxmltree::Document) -> String {
    fn walk(n: roxmltree::Node, depth: usize, out: &mut String) {
        for c in n.children().filter(|c| c.is_element()) {
            out.push_str(&"  ".repeat(depth));
            out.push_str(c.tag_name().name());
            if c.attribute(("http://openrosa.org/javarosa", "template")).is_some() {
                out.push('*');
            }
            if let Some(t) = c.text().filter(|t| !t.trim().is_empty()) {
                out.push('=');
                out.push_str(t);
            }
            out.push('\n');
            walk(c, depth + 1, out);
        }
    }
    let instance = doc
        .descendants()
        .find(|n| n.tag_name().name() == "instance" && n.attribute("id").is_none())
        .expect("primary instance");
    let mut out = String::new();
    walk(instance, 0, &mut out);
    out
}

fn labelled(mut node: Node, label: &str) -> Node {
    node.label = Text::plain(label);
    node
}

fn text2(en: &str, pt: &str) -> Text {
    let mut t = Text::default();
    t.0.insert("English (en)".into(), en.into());
    t.0.insert("Português (pt)".into(), pt.into());
    t
}

#[test]
fn minimal_form_has_pyxform_shape() {
    let mut inst = instrument(vec![labelled(q("age", QuestionType::Integer), "Age & <years>")]);
    inst.version = "2024".into();
    inst.title = "Survey \"one\"".into();
    let xml = inst.to_xform().unwrap();
    let doc = parse(&xml);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "html");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/1999/xhtml"));
    for prefix in ["h", "ev", "xsd", "jr", "odk", "orx"] {
        assert!(root.lookup_namespace_uri(Some(prefix)).is_some(), "xmlns:{prefix}");
    }
    let title = doc.descendants().find(|n| n.tag_name().name() == "title").unwrap();
    assert_eq!(title.text(), Some("Survey \"one\""));
    let data = find(&doc, "data", "id", "f");
    assert_eq!(data.attribute("version"), Some("2024"));
    assert_eq!(outline(&doc), "data\n  age\n  meta\n    instanceID\n");
    assert_eq!(bind(&doc, "/data/age").attribute("type"), Some("int"));
    let id = bind(&doc, "/data/meta/instanceID");
    assert_eq!(id.attribute(("http://openrosa.org/javarosa", "preload")), Some("uid"));
    assert_eq!(id.attribute("readonly"), Some("true()"));
    let input = find(&doc, "input", "ref", "/data/age");
    assert_eq!(input.first_element_child().unwrap().text(), Some("Age & <years>"));
    // No itext for a single-language form without media.
    assert!(!xml.contains("<itext>"), "{xml}");
    assert!(!xml.contains("instanceName"));
}

#[test]
fn repeats_get_template_and_first_instance_as_pyxform_writes_them() {
    let inner = group("kid", true, vec![labelled(q("k", QuestionType::Text), "K")]);
    let g = group(
        "g",
        false,
        vec![group("deep", true, vec![labelled(q("d", QuestionType::Text), "D")])],
    );
    let mut hh = group("hh", true, vec![labelled(q("n", QuestionType::Text), "N"), inner, g]);
    hh.label = Text::plain("Household");
    let inst = instrument(vec![hh]);
    let doc_xml = inst.to_xform().unwrap();
    let doc = parse(&doc_xml);
    // Inside the template nested repeats are templates, but a repeat in a
    // group of the template gets template and instance; inside the first
    // instance nested repeats have no template (pyxform 4.5).
    assert_eq!(
        outline(&doc),
        "data\n  hh*\n    n\n    kid*\n      k\n    g\n      deep*\n        d\n      deep\n        d\n  hh\n    n\n    kid\n      k\n    g\n      deep\n        d\n  meta\n    instanceID\n"
    );
    let group_el = find(&doc, "group", "ref", "/data/hh");
    let repeat = find(&doc, "repeat", "nodeset", "/data/hh");
    assert_eq!(repeat.parent(), Some(group_el));
    assert_eq!(group_el.first_element_child().unwrap().text(), Some("Household"));
    // A repeat without a label still gets an (empty) label, as in pyxform.
    let kid_group = find(&doc, "group", "ref", "/data/hh/kid");
    assert_eq!(kid_group.first_element_child().unwrap().tag_name().name(), "label");
}

#[test]
fn expressions_are_expanded_and_yes_no_converted() {
    let mut a = labelled(q("a", QuestionType::Integer), "A");
    a.bind.required = Some("yes".into());
    a.bind.constraint = Some(". >= 0 and . < ${b}".into());
    a.bind.constraint_message = Text::plain("Too big");
    a.bind.required_message = Text::plain("Need ${b}");
    let mut b = labelled(q("b", QuestionType::Integer), "B");
    b.bind.required = Some("no".into());
    b.bind.readonly = Some("true".into());
    let mut r1 = labelled(q("x", QuestionType::Text), "X");
    r1.bind.relevant = Some("${a} > 1 and ${y} != ''".into());
    let y = labelled(q("y", QuestionType::Text), "Y");
    let mut c = q("c", QuestionType::Calculate);
    c.bind.calculation = Some("sum(${x})".into());
    let inst = instrument(vec![a, b, group("r", true, vec![r1, y]), c]);
    let xml = inst.to_xform().unwrap();
    let doc = parse(&xml);
    let ba = bind(&doc, "/data/a");
    assert_eq!(ba.attribute("required"), Some("true()"));
    assert_eq!(ba.attribute("constraint"), Some(". >= 0 and . <  /data/b "));
    assert_eq!(ba.attribute(("http://openrosa.org/javarosa", "constraintMsg")), Some("Too big"));
    // A message with a reference goes through itext.
    assert_eq!(
        ba.attribute(("http://openrosa.org/javarosa", "requiredMsg")),
        Some("jr:itext('/data/a:jr:requiredMsg')")
    );
    let msg = find(&doc, "text", "id", "/data/a:jr:requiredMsg");
    let out = msg.descendants().find(|n| n.tag_name().name() == "output").unwrap();
    assert_eq!(out.attribute("value"), Some(" /data/b "));
    let bb = bind(&doc, "/data/b");
    assert_eq!(bb.attribute("required"), Some("false()"));
    assert_eq!(bb.attribute("readonly"), Some("true()"));
    assert_eq!(
        bind(&doc, "/data/r/x").attribute("relevant"),
        Some(" /data/a  > 1 and  ../y  != ''")
    );
    assert_eq!(bind(&doc, "/data/c").attribute("calculate"), Some("sum( /data/r/x )"));
    assert!(find(&doc, "input", "ref", "/data/r/x").parent().is_some());
    // Calculates have no control.
    assert!(!xml.contains("ref=\"/data/c\""));
    // Escaped in the attribute, read back exactly.
    assert!(xml.contains("constraint=\". &gt;= 0 and . &lt;  /data/b \""), "{xml}");
}

#[test]
fn multilingual_itext_with_default_and_dashes() {
    let mut name = q("name", QuestionType::Text);
    name.label = text2("Name", "Nome");
    name.hint.0.insert("English (en)".into(), "Full name".into());
    name.guidance_hint = Text::plain("Ask for the ID card");
    name.media.insert("image".into(), Text::plain("id.png"));
    let mut s = select("yn", QuestionType::SelectOne, "yesno");
    s.label = text2("OK?", "OK?");
    let plain = labelled(q("plain", QuestionType::Text), "Plain ${name}");
    let mut inst = instrument(vec![name, s, plain]);
    inst.languages = vec!["English (en)".into(), "Português (pt)".into()];
    inst.default_language = Some("Português (pt)".into());
    inst.choices.insert(
        "yesno".into(),
        ChoiceList {
            choices: vec![choice("yes", text2("Yes", "Sim")), choice("no", text2("No", "Não"))],
        },
    );
    let xml = inst.to_xform().unwrap();
    let doc = parse(&xml);
    let translations: Vec<_> =
        doc.descendants().filter(|n| n.tag_name().name() == "translation").collect();
    let langs: Vec<_> = translations.iter().map(|t| t.attribute("lang").unwrap()).collect();
    assert_eq!(langs, ["English (en)", "Português (pt)"]);
    assert_eq!(translations[0].attribute("default"), None);
    assert_eq!(translations[1].attribute("default"), Some("true()"));
    let text = |lang: usize, id: &str| -> Vec<(Option<String>, String)> {
        translations[lang]
            .children()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap_or_else(|| panic!("no text {id} in {lang}"))
            .children()
            .filter(|n| n.is_element())
            .map(|v| {
                (v.attribute("form").map(String::from), v.text().unwrap_or_default().to_string())
            })
            .collect()
    };
    // The unsuffixed image is in the default language only.
    assert_eq!(text(0, "/data/name:label"), [(None, "Name".into())]);
    assert_eq!(
        text(1, "/data/name:label"),
        [(None, "Nome".into()), (Some("image".into()), "jr://images/id.png".into())]
    );
    assert_eq!(
        text(0, "/data/name:hint"),
        [(None, "Full name".into()), (Some("guidance".into()), "-".into())]
    );
    assert_eq!(
        text(1, "/data/name:hint"),
        [(None, "-".into()), (Some("guidance".into()), "Ask for the ID card".into())]
    );
    assert_eq!(text(1, "yesno-1"), [(None, "Não".into())]);
    let items: Vec<_> = find(&doc, "instance", "id", "yesno")
        .descendants()
        .filter(|n| n.tag_name().name() == "itextId")
        .map(|n| n.text().unwrap())
        .collect();
    assert_eq!(items, ["yesno-0", "yesno-1"]);
    let itemset = find(&doc, "select1", "ref", "/data/yn")
        .children()
        .find(|n| n.tag_name().name() == "itemset")
        .unwrap();
    assert_eq!(itemset.attribute("nodeset"), Some("instance('yesno')/root/item"));
    assert_eq!(itemset.last_element_child().unwrap().attribute("ref"), Some("jr:itext(itextId)"));
    // A plain label stays inline, with its output.
    let plain = find(&doc, "input", "ref", "/data/plain");
    let label = plain.first_element_child().unwrap();
    assert_eq!(label.attribute("ref"), None);
    assert_eq!(label.last_element_child().unwrap().attribute("value"), Some(" /data/name "));
    assert!(xml.contains("<label> Plain <output value=\" /data/name \"/> </label>"), "{xml}");
}

#[test]
fn defaults_static_and_dynamic_and_triggers() {
    let mut w = labelled(q("w", QuestionType::Decimal), "W");
    w.bind.default = Some("1.5".into());
    let mut d = labelled(q("d", QuestionType::Date), "D");
    d.bind.default = Some("2020-01-01".into());
    let mut t = labelled(q("t", QuestionType::Text), "T");
    t.bind.default = Some("today()".into());
    let mut m = labelled(q("m", QuestionType::Integer), "M");
    m.bind.default = Some("${w} + 1".into());
    let mut stamp = labelled(q("stamp", QuestionType::DateTime), "Stamp");
    stamp.bind.trigger = Some("${w}".into());
    stamp.bind.calculation = Some("now()".into());
    let inst = instrument(vec![w, d, t, group("r", true, vec![m]), stamp]);
    let xml = inst.to_xform().unwrap();
    let doc = parse(&xml);
    assert_eq!(
        outline(&doc),
        "data\n  w=1.5\n  d=2020-01-01\n  t\n  r*\n    m\n  r\n    m\n  stamp\n  meta\n    instanceID\n"
    );
    let load: Vec<_> = doc
        .descendants()
        .filter(|n| {
            n.tag_name().name() == "setvalue"
                && n.attribute("event") == Some("odk-instance-first-load")
        })
        .map(|n| (n.attribute("ref").unwrap(), n.attribute("value").unwrap()))
        .collect();
    assert_eq!(load, [("/data/t", "today()"), ("/data/r/m", " /data/w  + 1")]);
    let repeat = find(&doc, "repeat", "nodeset", "/data/r");
    let new = repeat.children().find(|n| n.tag_name().name() == "setvalue").unwrap();
    assert_eq!(new.attribute("event"), Some("odk-new-repeat"));
    assert_eq!(new.attribute("ref"), Some("/data/r/m"));
    // The triggered calculation runs when w changes, not in the bind.
    let trig = find(&doc, "input", "ref", "/data/w")
        .children()
        .find(|n| n.tag_name().name() == "setvalue")
        .unwrap();
    assert_eq!(trig.attribute("event"), Some("xforms-value-changed"));
    assert_eq!(trig.attribute("ref"), Some("/data/stamp"));
    assert_eq!(trig.attribute("value"), Some("now()"));
    assert_eq!(bind(&doc, "/data/stamp").attribute("calculate"), None);
}

#[test]
fn dynamic_default_detection_matches_pyxform() {
    use QuestionType::*;
    for (d, t, want) in [
        ("1.5", Decimal, false),
        ("-1", Integer, false),
        ("yes no", SelectMultiple, false),
        ("hello-world", Text, false),
        ("2020-01-01", Date, false),
        ("today()", Date, true),
        ("${a}", Text, true),
        ("3 * 2", Integer, true),
        ("5 div 2", Integer, true),
        ("'a(b'", Text, false),
        ("x[1]", Text, true),
    ] {
        assert_eq!(default_is_dynamic(d, Some(t)), want, "{d}");
    }
}

#[test]
fn controls_for_every_question_type() {
    use QuestionType::*;
    let mut rng = labelled(q("rng", Range), "R");
    rng.parameters.insert("start".into(), "0".into());
    rng.parameters.insert("end".into(), "1".into());
    rng.parameters.insert("step".into(), "0.1".into());
    let mut gp = labelled(q("gp", Geopoint), "GP");
    gp.parameters.insert("capture-accuracy".into(), "5".into());
    let mut img = labelled(q("img", Image), "Img");
    img.parameters.insert("max-pixels".into(), "1024".into());
    let mut town = select("town", SelectOneFromFile, "");
    town.label = crate::instrument::model::Text::plain("Town");
    if let NodeKind::Question(qq) = &mut town.kind {
        qq.list = None;
        qq.file = Some("towns.csv".into());
    }
    town.bind.choice_filter = Some("region = ${reg}".into());
    let mut field = group("fl", false, vec![labelled(q("note", Note), "Hi")]);
    field.appearance = Some("field-list".into());
    field.bind.relevant = Some("${reg} != ''".into());
    let mut ext = labelled(q("ext", Text), "E");
    ext.extra.insert("bind::odk:length".into(), "5".into());
    ext.extra.insert("body::rows".into(), "3".into());
    let mut rank = select("rk", Rank, "l");
    rank.label = crate::instrument::model::Text::plain("Rank");
    let mut inst = instrument(vec![
        q("start", Start),
        q("today", Today),
        q("deviceid", DeviceId),
        labelled(q("reg", Text), "Reg"),
        rng,
        gp,
        img,
        labelled(q("au", Audio), "Au"),
        labelled(q("fi", File), "Fi"),
        labelled(q("ack", Acknowledge), "Ack"),
        labelled(q("bc", Barcode), "BC"),
        town,
        field,
        ext,
        rank,
        q("h", Hidden),
        q("audit", Audit),
    ]);
    inst.choices.insert(
        "l".into(),
        ChoiceList { choices: vec![choice("a", crate::instrument::model::Text::plain("A"))] },
    );
    inst.files.insert(
        "towns.csv".into(),
        DataFile { columns: vec!["name".into(), "label".into()], rows: vec![], xml: None },
    );
    inst.settings.style = Some("pages".into());
    let xml = inst.to_xform().unwrap();
    let doc = parse(&xml);
    let jr = "http://openrosa.org/javarosa";
    let start = bind(&doc, "/data/start");
    assert_eq!(start.attribute((jr, "preload")), Some("timestamp"));
    assert_eq!(start.attribute((jr, "preloadParams")), Some("start"));
    assert_eq!(start.attribute("type"), Some("dateTime"));
    assert_eq!(bind(&doc, "/data/today").attribute((jr, "preload")), Some("date"));
    assert_eq!(bind(&doc, "/data/deviceid").attribute((jr, "preloadParams")), Some("deviceid"));
    let range = find(&doc, "range", "ref", "/data/rng");
    assert_eq!(
        (range.attribute("start"), range.attribute("end"), range.attribute("step")),
        (Some("0"), Some("1"), Some("0.1"))
    );
    assert_eq!(bind(&doc, "/data/rng").attribute("type"), Some("decimal"));
    assert_eq!(find(&doc, "input", "ref", "/data/gp").attribute("accuracyThreshold"), Some("5"));
    assert_eq!(find(&doc, "upload", "ref", "/data/img").attribute("mediatype"), Some("image/*"));
    assert_eq!(
        bind(&doc, "/data/img").attribute(("http://openrosa.org/xforms", "max-pixels")),
        Some("1024")
    );
    assert_eq!(find(&doc, "upload", "ref", "/data/au").attribute("mediatype"), Some("audio/*"));
    assert_eq!(
        find(&doc, "upload", "ref", "/data/fi").attribute("mediatype"),
        Some("application/*")
    );
    find(&doc, "trigger", "ref", "/data/ack");
    assert_eq!(bind(&doc, "/data/bc").attribute("type"), Some("barcode"));
    let ext_src = find(&doc, "instance", "id", "towns");
    assert_eq!(ext_src.attribute("src"), Some("jr://file-csv/towns.csv"));
    let town = find(&doc, "select1", "ref", "/data/town");
    let itemset = town.children().find(|n| n.tag_name().name() == "itemset").unwrap();
    assert_eq!(
        itemset.attribute("nodeset"),
        Some("instance('towns')/root/item[region =  /data/reg ]")
    );
    let fl = find(&doc, "group", "ref", "/data/fl");
    assert_eq!(fl.attribute("appearance"), Some("field-list"));
    assert_eq!(bind(&doc, "/data/fl").attribute("relevant"), Some(" /data/reg  != ''"));
    assert_eq!(bind(&doc, "/data/fl").attribute("type"), None);
    assert_eq!(bind(&doc, "/data/fl/note").attribute("readonly"), Some("true()"));
    assert_eq!(
        bind(&doc, "/data/ext").attribute(("http://www.opendatakit.org/xforms", "length")),
        Some("5")
    );
    assert_eq!(find(&doc, "input", "ref", "/data/ext").attribute("rows"), Some("3"));
    let rank = find(&doc, "rank", "ref", "/data/rk");
    assert_eq!(rank.tag_name().namespace(), Some("http://www.opendatakit.org/xforms"));
    assert_eq!(bind(&doc, "/data/rk").attribute("type"), Some("odk:rank"));
    assert_eq!(bind(&doc, "/data/meta/audit").attribute("type"), Some("binary"));
    assert!(!xml.contains("ref=\"/data/h\""), "hidden has no control");
    assert!(!xml.contains("ref=\"/data/start\""), "metadata has no control");
    let body = doc.descendants().find(|n| n.tag_name().name() == "body").unwrap();
    assert_eq!(body.attribute("class"), Some("pages"));
    // A group with no label has none.
    assert_eq!(fl.first_element_child().unwrap().tag_name().name(), "input");
}

#[test]
fn instance_name_and_submission() {
    let mut inst = instrument(vec![labelled(q("n", QuestionType::Text), "N")]);
    inst.settings.instance_name = Some("concat('hh-', ${n})".into());
    inst.settings.submission_url = Some("https://example.org/submit".into());
    let xml = inst.to_xform().unwrap();
    let doc = parse(&xml);
    assert_eq!(outline(&doc), "data\n  n\n  meta\n    instanceID\n    instanceName\n");
    assert_eq!(
        bind(&doc, "/data/meta/instanceName").attribute("calculate"),
        Some("concat('hh-',  /data/n )")
    );
    let sub = doc.descendants().find(|n| n.tag_name().name() == "submission").unwrap();
    assert_eq!(sub.attribute("action"), Some("https://example.org/submit"));
    assert_eq!(sub.attribute("method"), Some("post"));
}

#[test]
fn unknown_reference_is_an_error_not_a_panic() {
    let mut a = labelled(q("a", QuestionType::Text), "A");
    a.row = 7;
    a.bind.relevant = Some("${nope} = 1".into());
    let err = instrument(vec![a]).to_xform().unwrap_err();
    assert_eq!(err.to_string(), "survey row 7, question a, relevant: unknown reference ${nope}");
}

#[test]
fn instance_attributes_geojson_and_submission_flags() {
    let mut a = labelled(q("a", QuestionType::Text), "A");
    a.extra.insert("instance::odk:tag".into(), "x".into());
    let mut place = select("place", QuestionType::SelectOneFromFile, "");
    place.label = Text::plain("Place");
    if let NodeKind::Question(qq) = &mut place.kind {
        qq.list = None;
        qq.file = Some("places.geojson".into());
    }
    let mut inst = instrument(vec![a, place]);
    inst.settings.other.insert("auto_send".into(), "true".into());
    let xml = inst.to_xform().unwrap();
    let doc = parse(&xml);
    let a = doc.descendants().find(|n| n.tag_name().name() == "a").unwrap();
    assert_eq!(a.attribute(("http://www.opendatakit.org/xforms", "tag")), Some("x"));
    assert_eq!(
        find(&doc, "instance", "id", "places").attribute("src"),
        Some("jr://file/places.geojson")
    );
    let itemset = find(&doc, "select1", "ref", "/data/place")
        .children()
        .find(|n| n.tag_name().name() == "itemset")
        .unwrap();
    let refs: Vec<_> = itemset.children().filter_map(|n| n.attribute("ref")).collect();
    assert_eq!(refs, ["id", "title"]);
    let sub = doc.descendants().find(|n| n.tag_name().name() == "submission").unwrap();
    assert_eq!(sub.attribute(("http://openrosa.org/xforms", "auto-send")), Some("true"));
    assert_eq!(sub.attribute("action"), None);
}

#[test]
fn extra_attributes_need_a_declared_namespace() {
    let mut a = labelled(q("a", QuestionType::Text), "A");
    a.extra.insert("bind::esri:fieldType".into(), "esriFieldTypeString".into());
    a.extra.insert("bind::nope:x".into(), "1".into());
    a.extra.insert("body::bad name".into(), "1".into());
    let mut inst = instrument(vec![a]);
    inst.settings.other.insert("namespaces".into(), "esri=\"http://esri.com/xforms\"".into());
    let xml = inst.to_xform().unwrap();
    let doc = parse(&xml);
    let b = bind(&doc, "/data/a");
    assert_eq!(b.attribute(("http://esri.com/xforms", "fieldType")), Some("esriFieldTypeString"));
    assert!(!xml.contains("nope:x"), "undeclared prefix left out: {xml}");
    assert!(!xml.contains("bad name"));
}

mod prop {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever text a spreadsheet holds, the XForm stays well-formed and
        /// gives the text back (less what XML cannot hold).
        #[test]
        fn any_text_gives_well_formed_xml(
            label in any::<String>(),
            hint in any::<String>(),
            default in any::<String>(),
            choice_label in any::<String>(),
            title in any::<String>(),
        ) {
            let mut a = labelled(q("a", QuestionType::Text), &label);
            a.hint = Text::plain(hint.clone());
            a.bind.default = Some(default);
            let mut s = select("s", QuestionType::SelectOne, "l");
            s.label = Text::plain("S");
            let mut inst = instrument(vec![a, s]);
            inst.title = title;
            inst.choices.insert("l".into(), ChoiceList { choices: vec![choice("c", Text::plain(choice_label))] });
            // `${` in free text is a reference; unknown names are errors, not panics.
            let Ok(xml) = inst.to_xform() else { return Ok(()) };
            let doc = roxmltree::Document::parse(&xml);
            prop_assert!(doc.is_ok(), "{:?}\n{xml}", doc.err());
            if !label.contains("${") {
                let doc = doc.unwrap();
                let input = find(&doc, "input", "ref", "/data/a");
                let shown = input.first_element_child().unwrap().text().unwrap_or_default().to_string();
                let kept: String = label.chars().filter(|c| !matches!(*c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')).collect();
                // XML parsers normalize line ends.
                prop_assert_eq!(shown, kept.replace("\r\n", "\n").replace('\r', "\n"));
            }
        }
    }
}

#[test]
fn search_selects_carry_their_choices_inline() {
    let mut s = select("f", QuestionType::SelectOne, "fruits");
    s.label = Text::plain("Fruit");
    s.appearance = Some("search('fruits')".into());
    let mut n = labelled(
        q("n", QuestionType::Note),
        "You chose instance('fruits')/root/item[name = ${f}]/label",
    );
    n.hint = Text::plain("plain");
    let mut inst = instrument(vec![s, n]);
    inst.choices.insert(
        "fruits".into(),
        ChoiceList { choices: vec![choice("apple", Text::plain("Apple"))] },
    );
    let xml = inst.to_xform().unwrap();
    let doc = parse(&xml);
    assert!(!xml.contains("<instance id=\"fruits\">"), "{xml}");
    let sel = find(&doc, "select1", "ref", "/data/f");
    let item = sel.children().find(|c| c.tag_name().name() == "item").unwrap();
    let texts: Vec<_> =
        item.children().filter(|c| c.is_element()).map(|c| c.text().unwrap_or_default()).collect();
    assert_eq!(texts, ["Apple", "apple"]);
    assert!(
        xml.contains("<label> You chose <output value=\"instance('fruits')/root/item[name =  /data/f ]/label\"/> </label>"),
        "{xml}"
    );
}
