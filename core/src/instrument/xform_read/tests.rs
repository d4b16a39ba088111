//! What other tools write into XForms that pyxform does not: relative body
//! references, ODK's namespace with a trailing slash, an instanceID left
//! writable, and literal values an XLSForm default would take for
//! expressions.

use std::sync::Arc;

use super::import_xform_bytes;
use crate::expr::FixedEnv;
use crate::instrument::model::{Instrument, Node};
use crate::instrument::{ImportError, Severity};
use crate::session::{Form, Session, SessionOptions};

fn form(model: &str, body: &str, instance_id_bind: &str) -> String {
    form_with(model, "", body, instance_id_bind)
}

fn form_with(model: &str, actions: &str, body: &str, instance_id_bind: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
        xmlns:jr="http://openrosa.org/javarosa/" xmlns:odk="http://www.opendatakit.org/xforms">
  <h:head>
    <h:title>T</h:title>
    <model>
      <instance>
        <data id="t">{model}<meta><instanceID/></meta></data>
      </instance>
      <bind nodeset="/data/meta/instanceID" type="string" jr:preload="uid" {instance_id_bind}/>
      {actions}
    </model>
  </h:head>
  <h:body>{body}</h:body>
</h:html>"#
    )
}

fn read(xml: &str) -> Instrument {
    let imported = import_xform_bytes(xml.as_bytes(), "t.xml", None).expect("reads");
    let errors: Vec<String> = imported.errors().map(|d| d.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    imported.instrument
}

fn find<'a>(nodes: &'a [Node], name: &str) -> &'a Node {
    fn go<'a>(nodes: &'a [Node], name: &str) -> Option<&'a Node> {
        nodes.iter().find_map(|n| if n.name == name { Some(n) } else { go(&n.children, name) })
    }
    go(nodes, name).unwrap_or_else(|| panic!("no node {name}"))
}

fn session(inst: Instrument) -> Session {
    let form = Arc::new(Form::compile(inst).expect("compiles"));
    Session::with_env(form, SessionOptions::default(), Box::new(FixedEnv::default()))
}

#[test]
fn relative_body_references_are_read_from_the_enclosing_group_and_repeat() {
    let xml = form(
        "<g><a/><r jr:template=\"\"><b/></r><r><b/></r></g>",
        r#"<group ref="/data/g"><label>G</label>
             <input ref="a"><label>A</label></input>
             <group ref="r"><label>R</label>
               <repeat nodeset="/data/g/r"><input ref="./b"><label>B</label></input></repeat>
             </group>
           </group>"#,
        r#"readonly="true()""#,
    );
    let inst = read(&xml);
    // Read as controls (labelled inputs), not as model-only values.
    assert_eq!(find(&inst.children, "a").label.0.get("").map(String::as_str), Some("A"));
    assert_eq!(find(&inst.children, "b").label.0.get("").map(String::as_str), Some("B"));
    let mut s = session(inst);
    s.set("/data/g/r[1]/b", "x").expect("b is an input");
    s.set("/data/g/a", "y").expect("a is an input");
}

#[test]
fn odk_namespaces_with_a_trailing_slash_are_odk_namespaces() {
    // jr: is declared with a trailing slash above: its preload and
    // template still count.
    let xml = form(
        "<r jr:template=\"\"><b/></r>",
        r#"<repeat nodeset="/data/r"><input ref="/data/r/b"><label>B</label></input></repeat>"#,
        r#"readonly="true()""#,
    );
    let inst = read(&xml);
    // Not an extra namespace to carry over.
    assert_eq!(inst.settings.other.get("namespaces"), None);
    assert!(matches!(find(&inst.children, "r").kind, crate::instrument::NodeKind::Repeat { .. }));
    let s = session(inst);
    let id = s.leaves().into_iter().find(|l| l.reference == "/data/meta/instanceID").expect("id");
    assert!(id.value.starts_with("uuid:"), "preloaded: {}", id.value);
}

#[test]
fn an_instance_id_left_writable_stays_writable_through_the_writer() {
    let open = read(&form("<q/>", r#"<input ref="/data/q"><label>Q</label></input>"#, ""));
    assert!(!open.settings.instance_id_readonly());
    let leaf = |inst: Instrument| {
        session(inst)
            .leaves()
            .into_iter()
            .find(|l| l.reference == "/data/meta/instanceID")
            .expect("id")
            .readonly
    };
    assert!(!leaf(open.clone()));
    let again = import_xform_bytes(open.to_xform().expect("writes").as_bytes(), "a.xml", None)
        .expect("reads back");
    assert_eq!(again.instrument.settings, open.settings);

    let closed = read(&form(
        "<q/>",
        r#"<input ref="/data/q"><label>Q</label></input>"#,
        r#"readonly="true()""#,
    ));
    assert!(closed.settings.instance_id_readonly());
    assert!(leaf(closed));
}

#[test]
fn literal_defaults_that_look_like_expressions_stay_literal() {
    let xml = form_with(
        "<a>[1]</a><b>-</b><c>plain</c><d/><e/><f/><g/>",
        r#"<setvalue event="odk-instance-first-load" ref="/data/d" value="'-'"/>
           <setvalue event="odk-instance-first-load" ref="/data/e" value="'hello'"/>
           <setvalue event="odk-instance-first-load" ref="/data/f" value="/data/c"/>
           <setvalue event="odk-instance-first-load" ref="/data/g" value="'a' = 'b'"/>"#,
        r#"<input ref="/data/a"><label>A</label></input>
           <input ref="/data/b"><label>B</label></input>
           <input ref="/data/c"><label>C</label></input>
           <input ref="/data/d"><label>D</label></input>
           <input ref="/data/e"><label>E</label></input>
           <input ref="/data/f"><label>F</label></input>
           <input ref="/data/g"><label>G</label></input>"#,
        r#"readonly="true()""#,
    );
    let inst = read(&xml);
    let default = |n: &str| find(&inst.children, n).bind.default.clone();
    assert_eq!(default("c").as_deref(), Some("plain"));
    assert_eq!(default("e").as_deref(), Some("hello"));
    // An unpadded path is not what a `${c}` expands to: kept as written.
    assert_eq!(default("f").as_deref(), Some("string(/data/c)"));
    let s = session(inst.clone());
    let value =
        |r: &str| s.leaves().into_iter().find(|l| l.reference == r).map(|l| l.value).expect("leaf");
    assert_eq!(value("/data/a"), "[1]");
    assert_eq!(value("/data/b"), "-");
    assert_eq!(value("/data/c"), "plain");
    assert_eq!(value("/data/d"), "-");
    assert_eq!(value("/data/e"), "hello");
    assert_eq!(value("/data/f"), "plain");
    assert_eq!(value("/data/g"), "false");
}

#[test]
fn an_unreadable_xform_is_named_as_an_xform_and_a_bare_control_is_a_warning() {
    match import_xform_bytes(b"<h:html", "broken.xml", None) {
        Err(e @ ImportError::NotAnXForm { .. }) => {
            assert!(e.to_string().contains("broken.xml cannot be read as an XForm"), "{e}")
        }
        other => panic!("expected NotAnXForm, got {other:?}"),
    }
    let xml = form("<q/>", r#"<input ref="/data/q"/>"#, r#"readonly="true()""#);
    let imported = import_xform_bytes(xml.as_bytes(), "t.xml", None).expect("reads");
    let bare: Vec<_> =
        imported.diagnostics.iter().filter(|d| d.message.contains("has no label")).collect();
    assert_eq!(bare.len(), 1, "{:?}", imported.diagnostics);
    assert_eq!(bare[0].severity, Severity::Warning);
}

/// ODK's own fixtures show instanceID in the body; read-only stays.
#[test]
fn a_read_only_instance_id_with_a_control_stays_read_only() {
    let inst = read(&form(
        "<q/>",
        r#"<input ref="/data/q"><label>Q</label></input><input ref="/data/meta/instanceID"><label>ID</label></input>"#,
        r#"readonly="true()""#,
    ));
    assert!(inst.settings.instance_id_readonly());
    let s = session(inst);
    let id = s.leaves().into_iter().find(|l| l.reference == "/data/meta/instanceID").expect("id");
    assert!(id.readonly, "{id:?}");
}
