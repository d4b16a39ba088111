//! The expression case table (`testdata/cases.txt`) and its fixture, shared
//! by the table test here and the ODK differential test in `tests/`.
//! Compiled only for tests and with the `testdata` feature.

use super::{Document, FixedEnv, MemDoc, NodeId, XmlError};

/// The main instance every case reads.
pub const FIXTURE_XML: &str = include_str!("testdata/fixture.xml");
/// Secondary instances (`<instance id="...">` elements).
pub const INSTANCES_XML: &str = include_str!("testdata/instances.xml");
/// The case table.
pub const CASES: &str = include_str!("testdata/cases.txt");

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// 1-based line in cases.txt.
    pub line: usize,
    pub section: String,
    pub expr: String,
    /// `None`: the evaluation must fail.
    pub expected: Option<String>,
    /// Not expressible as an ODK calculate (needs `${}`, a context, labels).
    pub rust_only: bool,
    /// Zone offset in seconds east of UTC.
    pub tz_seconds: i32,
    /// Context node path; `None` is the empty `/data/calc`.
    pub ctx: Option<String>,
    /// Evaluated in each repeat instance (`/data/rep[k]/calc`), the results
    /// joined by `|`.
    pub in_repeat: bool,
}

/// Parses the table; a malformed line is an error naming it.
pub fn parse_cases(text: &str) -> Result<Vec<Case>, String> {
    let mut out = Vec::new();
    let mut section = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if let Some(s) = raw.strip_prefix("## ") {
            section = s.trim().to_string();
            continue;
        }
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let (body, flags) = match raw.rsplit_once(" ;; ") {
            Some((b, f)) => (b, f),
            None => (raw, ""),
        };
        let (expr, expected) =
            body.split_once(" ==> ").ok_or_else(|| format!("line {line}: no ' ==> '"))?;
        let expected = expected.trim_end();
        let expected = if expected == "!error" {
            None
        } else if expected.len() >= 2 && expected.starts_with('"') && expected.ends_with('"') {
            Some(expected[1..expected.len() - 1].to_string())
        } else {
            Some(expected.to_string())
        };
        let mut case = Case {
            line,
            section: section.clone(),
            expr: expr.trim().to_string(),
            expected,
            rust_only: false,
            tz_seconds: 0,
            ctx: None,
            in_repeat: false,
        };
        for flag in flags.split_whitespace() {
            if flag == "rust" {
                case.rust_only = true;
            } else if flag == "rep" {
                case.in_repeat = true;
            } else if let Some(tz) = flag.strip_prefix("tz=") {
                case.tz_seconds = parse_offset(tz).ok_or_else(|| format!("line {line}: bad tz"))?;
            } else if let Some(c) = flag.strip_prefix("ctx=") {
                case.ctx = Some(c.to_string());
                case.rust_only = true;
            } else {
                return Err(format!("line {line}: unknown flag {flag}"));
            }
        }
        out.push(case);
    }
    Ok(out)
}

fn parse_offset(s: &str) -> Option<i32> {
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = s[1..].split_once(':')?;
    Some(sign * (h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60))
}

/// The fixture as a [`MemDoc`], with the empty context element `/data/calc`
/// appended and the secondary instances added.
pub fn fixture_doc() -> Result<MemDoc, XmlError> {
    let mut doc = MemDoc::from_xml(FIXTURE_XML)?;
    if let Some(data) = doc.node_at("/data") {
        doc.append_element(data, "calc", "");
    }
    let mut rest = INSTANCES_XML;
    while let Some(start) = rest.find("<instance id=\"") {
        let after = &rest[start + 14..];
        let Some(q) = after.find('"') else { break };
        let id = &after[..q];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let Some(close) = after.find("</instance>") else {
            break;
        };
        doc.add_instance_xml(id, &after[open_end + 1..close])?;
        rest = &after[close..];
    }
    Ok(doc)
}

/// The environment a case runs in: the harness's frozen clock, in the
/// case's zone.
pub fn case_env(case: &Case) -> FixedEnv {
    FixedEnv::default().with_offset(case.tz_seconds)
}

/// Evaluates one case: the string result, or `Err` with the parse or
/// evaluation error.
pub fn run_case(doc: &MemDoc, case: &Case) -> Result<String, String> {
    run_case_in(doc, doc, case)
}

/// Evaluates one case over `eval_doc`, any [`Document`] with the same node
/// ids as the fixture `doc` (which locates the context node).
pub fn run_case_in(doc: &MemDoc, eval_doc: &dyn Document, case: &Case) -> Result<String, String> {
    let expr = super::parse(&case.expr).map_err(|e| format!("parse: {e}"))?;
    let env = case_env(case);
    if case.in_repeat {
        let mut out = Vec::new();
        for k in 1..=3 {
            let at = format!("/data/rep[{k}]/calc");
            let ctx = doc.node_at(&at).ok_or_else(|| format!("no context node {at}"))?;
            let v = super::evaluate(&expr, eval_doc, &env, ctx).map_err(|e| e.to_string())?;
            out.push(v.to_str(eval_doc).into_owned());
        }
        return Ok(out.join("|"));
    }
    let ctx: NodeId = match &case.ctx {
        Some(p) => doc.node_at(p).ok_or_else(|| format!("no context node {p}"))?,
        None => doc.node_at("/data/calc").unwrap_or(doc.root()),
    };
    let v = super::evaluate(&expr, eval_doc, &env, ctx).map_err(|e| e.to_string())?;
    Ok(v.to_str(eval_doc).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs every case of cases.txt and reports all failures at once.
    #[test]
    fn expression_case_table() {
        let cases = match parse_cases(CASES) {
            Ok(c) => c,
            Err(e) => panic!("cases.txt: {e}"),
        };
        let doc = match fixture_doc() {
            Ok(d) => d,
            Err(e) => panic!("fixture: {e}"),
        };
        let mut failures = Vec::new();
        for case in &cases {
            let got = run_case(&doc, case);
            let ok = match (&case.expected, &got) {
                (None, Err(_)) => true,
                (Some(want), Ok(g)) => want == g,
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "  line {}: {}\n    want {:?}\n    got  {:?}",
                    case.line, case.expr, case.expected, got
                ));
            }
        }
        println!("{} of {} expression cases pass", cases.len() - failures.len(), cases.len());
        assert!(
            failures.is_empty(),
            "{} of {} cases failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }

    /// A document that implements only the required methods, so the
    /// trait's defaults (document order, string values, child lookup) are
    /// what the table exercises.
    struct Plain<'a>(&'a MemDoc);

    impl Document for Plain<'_> {
        fn root(&self) -> NodeId {
            self.0.root()
        }
        fn instance(&self, id: &str) -> Option<NodeId> {
            self.0.instance(id)
        }
        fn kind(&self, node: NodeId) -> crate::expr::NodeKind {
            self.0.kind(node)
        }
        fn parent(&self, node: NodeId) -> Option<NodeId> {
            self.0.parent(node)
        }
        fn first_child(&self, node: NodeId) -> Option<NodeId> {
            self.0.first_child(node)
        }
        fn next_sibling(&self, node: NodeId) -> Option<NodeId> {
            self.0.next_sibling(node)
        }
        fn prev_sibling(&self, node: NodeId) -> Option<NodeId> {
            self.0.prev_sibling(node)
        }
        fn first_attribute(&self, node: NodeId) -> Option<NodeId> {
            self.0.first_attribute(node)
        }
        fn name(&self, node: NodeId) -> &str {
            self.0.name(node)
        }
        fn value(&self, node: NodeId) -> &str {
            self.0.value(node)
        }
    }

    #[test]
    fn the_table_passes_with_the_default_document_methods() {
        let cases = parse_cases(CASES).unwrap_or_default();
        let Ok(doc) = fixture_doc() else { panic!("fixture") };
        let plain = Plain(&doc);
        let failures: Vec<String> = cases
            .iter()
            .filter(|c| run_case_in(&doc, &plain, c) != run_case(&doc, c))
            // uuid() and random() differ between two runs by design.
            .filter(|c| !c.expr.contains("uuid") && !c.expr.contains("random"))
            .map(|c| format!("line {}: {}", c.line, c.expr))
            .collect();
        assert!(cases.len() > 400);
        assert!(failures.is_empty(), "differ with default methods:\n{}", failures.join("\n"));
    }

    #[test]
    fn the_table_covers_every_function() {
        let cases = parse_cases(CASES).unwrap_or_default();
        let names: Vec<&str> = cases
            .iter()
            .filter_map(|c| super::super::parse(&c.expr).ok())
            .flat_map(|e| {
                super::super::refs::function_names(&e)
                    .into_iter()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .map(|n| super::super::Func::lookup(&n).map_or("", |f| f.name()))
            .collect();
        let missing: Vec<&str> = super::super::Func::ALL
            .iter()
            .map(|f| f.name())
            .filter(|n| !names.contains(n) && *n != "lang")
            .collect();
        assert!(missing.is_empty(), "functions without cases: {missing:?}");
        assert!(cases.len() >= 400, "only {} cases", cases.len());
    }
}
