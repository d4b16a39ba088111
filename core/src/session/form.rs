//! A form compiled for filling: the instrument's tree flattened into
//! templates (one per element, whatever the number of repeat instances),
//! every expression parsed once with `${name}` already resolved, and the
//! dependency graph that lets one answer re-evaluate only what can change.
//!
//! Built once per instrument and shared (`Arc<Form>`) by every session on it.

use std::collections::{BTreeMap, HashMap};

use crate::expr::{self, Expr};
use crate::instrument::paths::{ElementPath, PathIndex};
use crate::instrument::{Bind, Choice, Instrument, Node, NodeKind, Question, QuestionType, Text};

use super::error::CompileError;
use super::secondary::Secondary;

/// Index of a template in [`Form::templates`]. The root is 0.
pub type TplId = usize;

/// What a template stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum TplKind {
    Root,
    Group,
    Repeat,
    Leaf(QuestionType),
    /// `meta/instanceID`, `meta/instanceName`, `meta/deprecatedID`: filled by
    /// the engine, never shown.
    Meta(MetaField),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaField {
    Group,
    InstanceId,
    InstanceName,
    DeprecatedId,
}

/// The expressions of one element, parsed.
#[derive(Debug, Clone, Default)]
pub struct Logic {
    pub relevant: Option<Expr>,
    pub required: Option<Expr>,
    pub readonly: Option<Expr>,
    pub constraint: Option<Expr>,
    pub calculate: Option<Expr>,
    /// A default that is an expression (evaluated once, at creation).
    pub dynamic_default: Option<Expr>,
    pub choice_filter: Option<Expr>,
    /// `select_one ${name}`: the nodes whose answers are the choices.
    pub choices_from: Option<Expr>,
    /// `parameters: randomize=true seed=EXPR`: the choices are shuffled
    /// with this seed (without a seed they keep their order: a random
    /// order cannot be repeated, nor compared).
    pub randomize_seed: Option<Expr>,
    pub repeat_count: Option<Expr>,
    /// Paths of elements whose change re-runs `calculate` (the `trigger` column).
    pub trigger: Vec<String>,
}

/// One element of the form, whatever the number of its instances.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub kind: TplKind,
    pub parent: Option<TplId>,
    pub children: Vec<TplId>,
    /// `/data/group/name`.
    pub path: String,
    /// Innermost repeat template that is an ancestor-or-self.
    pub repeat: Option<TplId>,
    /// The instrument node (children left out), for labels, hints, choices.
    pub node: Option<Node>,
    pub logic: Logic,
    /// A literal default value.
    pub default: Option<String>,
    /// What ODK preloads into this element (`jr:preload`,
    /// `jr:preloadParams`): its type's, or what a bind column overrides.
    pub preload: Option<(String, String)>,
    /// Position in recomputation order.
    pub order: usize,
}

impl Template {
    pub fn qtype(&self) -> Option<QuestionType> {
        match self.kind {
            TplKind::Leaf(q) => Some(q),
            _ => None,
        }
    }

    pub fn is_leaf(&self) -> bool {
        matches!(self.kind, TplKind::Leaf(_) | TplKind::Meta(_)) && !self.is_meta_group()
    }

    fn is_meta_group(&self) -> bool {
        self.kind == TplKind::Meta(MetaField::Group)
    }

    pub fn is_container(&self) -> bool {
        matches!(self.kind, TplKind::Root | TplKind::Group | TplKind::Repeat)
            || self.is_meta_group()
    }

    pub fn label(&self) -> Option<&Text> {
        self.node.as_ref().map(|n| &n.label).filter(|t| !t.is_empty())
    }

    pub fn bind(&self) -> Option<&Bind> {
        self.node.as_ref().map(|n| &n.bind)
    }
}

/// A compiled form.
#[derive(Debug)]
pub struct Form {
    pub instrument: Instrument,
    pub hash: String,
    pub templates: Vec<Template>,
    pub by_path: HashMap<String, TplId>,
    /// For each template, the templates whose `trigger` names it.
    pub triggered_by: Vec<Vec<TplId>>,
    /// Child templates by name, for each template.
    pub child_by_name: Vec<HashMap<String, TplId>>,
    /// For each template, the templates whose expressions read it.
    pub dependents: Vec<Vec<TplId>>,
    /// (reader, read) pairs read across repeat instances (see
    /// [`super::graph::Reads::broad`]).
    pub broad_reads: std::collections::HashSet<(TplId, TplId)>,
    /// Templates whose expressions are volatile (now(), random()) or that
    /// depend on position in a repeat: re-evaluated when repeats change.
    pub structural: Vec<TplId>,
    /// Secondary instances: choice lists and CSV files.
    pub secondary: Secondary,
    /// Where each named element is, for `${name}` in labels.
    pub paths: PathIndex,
}

impl Form {
    /// Compiles an instrument. Errors name the element and column.
    pub fn compile(instrument: Instrument) -> Result<Form, CompileError> {
        let hash = instrument.hash();
        // The lists and groups as pyxform writes them, which is what ODK's
        // engine fills: `other` in every list an `or_other` select uses
        // (filtered like any choice), and table-list groups with their
        // generated label note and header.
        let mut instrument = instrument;
        crate::instrument::xform::add_other_choices(&mut instrument);
        crate::instrument::xform::rewrite_table_lists(&mut instrument.children);
        let index = PathIndex::new(&instrument);
        let mut b = Builder {
            form_templates: Vec::new(),
            index,
            errors: Vec::new(),
            choices: instrument.choices.clone(),
        };
        let root_path =
            ElementPath { segments: vec![instrument.root_name.clone()], repeat: vec![false] };
        b.form_templates.push(Template {
            name: instrument.root_name.clone(),
            kind: TplKind::Root,
            parent: None,
            children: vec![],
            path: root_path.absolute(),
            repeat: None,
            node: None,
            logic: Logic::default(),
            default: None,
            preload: None,
            order: 0,
        });
        // The audit lives in `meta` (pyxform and ODK put it at
        // /data/meta/audit), wherever its row was.
        let mut audits = Vec::new();
        for child in &instrument.children {
            b.add_outside_meta(child, 0, &root_path, &mut audits);
        }
        b.add_meta(&instrument, &root_path, &audits);
        let Builder { form_templates: mut templates, errors, index, .. } = b;
        if !errors.is_empty() {
            return Err(CompileError { problems: errors });
        }
        let by_path = templates.iter().enumerate().map(|(i, t)| (t.path.clone(), i)).collect();
        let mut child_by_name = vec![HashMap::new(); templates.len()];
        for (i, t) in templates.iter().enumerate() {
            if let Some(p) = t.parent {
                child_by_name[p].insert(t.name.clone(), i);
            }
        }
        let mut form = Form {
            secondary: Secondary::new(&instrument),
            instrument,
            hash,
            templates: Vec::new(),
            by_path,
            child_by_name,
            triggered_by: Vec::new(),
            dependents: Vec::new(),
            broad_reads: Default::default(),
            structural: Vec::new(),
            paths: PathIndex::default(),
        };
        let reads = super::graph::dependencies(&templates, &form.by_path, &form.child_by_name);
        let deps = reads.deps;
        form.broad_reads = reads.broad;
        let order = super::graph::order(&templates, &deps)
            .map_err(|cycle| CompileError { problems: vec![cycle] })?;
        for (pos, &t) in order.iter().enumerate() {
            templates[t].order = pos;
        }
        form.dependents = super::graph::invert(&deps, templates.len());
        form.structural = super::graph::structural(&templates);
        form.triggered_by = vec![Vec::new(); templates.len()];
        for (i, t) in templates.iter().enumerate() {
            for p in &t.logic.trigger {
                if let Some(&src) = form.by_path.get(p) {
                    form.triggered_by[src].push(i);
                }
            }
        }
        form.templates = templates;
        form.paths = index;
        Ok(form)
    }

    pub fn root(&self) -> &Template {
        &self.templates[0]
    }

    pub fn template(&self, id: TplId) -> &Template {
        &self.templates[id]
    }

    /// The choices of a select template, from its list or file.
    pub fn choices(&self, tpl: TplId) -> &[Choice] {
        let Some(Node { kind: NodeKind::Question(Question { list: Some(list), .. }), .. }) =
            &self.templates[tpl].node
        else {
            return &[];
        };
        self.instrument.choices.get(list).map_or(&[], |l| l.choices.as_slice())
    }

    pub fn languages(&self) -> &[String] {
        &self.instrument.languages
    }
}

struct Builder {
    form_templates: Vec<Template>,
    index: PathIndex,
    errors: Vec<String>,
    /// The instrument's choice lists, for literal defaults of selects.
    choices: BTreeMap<String, crate::instrument::ChoiceList>,
}

impl Builder {
    fn add(&mut self, node: &Node, parent: TplId, parent_path: &ElementPath) {
        // A repeat_count that is not a single `${name}` is counted through
        // a read-only calculate `NAME_count` before the repeat, as pyxform
        // writes it: ODK's instance (and submission) holds that element.
        let mut counted_by = None;
        if let NodeKind::Repeat { count: Some(count) } = &node.kind
            && !crate::instrument::xform::is_single_reference(count)
        {
            let calc_name = format!("{}_count", node.name);
            if self.index.get(&calc_name).is_err() {
                let calc = Node {
                    name: calc_name.clone(),
                    kind: NodeKind::Question(Question {
                        qtype: QuestionType::Calculate,
                        list: None,
                        file: None,
                        or_other: false,
                    }),
                    row: node.row,
                    label: Text::default(),
                    hint: Text::default(),
                    guidance_hint: Text::default(),
                    media: BTreeMap::new(),
                    bind: Bind {
                        calculation: Some(count.clone()),
                        readonly: Some("true()".into()),
                        ..Bind::default()
                    },
                    appearance: None,
                    parameters: BTreeMap::new(),
                    pii: false,
                    preload: false,
                    extra: BTreeMap::new(),
                    children: vec![],
                };
                self.add(&calc, parent, parent_path);
                counted_by = Some(calc_name);
            }
        }
        let mut path = parent_path.clone();
        path.segments.push(node.name.clone());
        path.repeat.push(matches!(node.kind, NodeKind::Repeat { .. }));
        let kind = match &node.kind {
            NodeKind::Group => TplKind::Group,
            NodeKind::Repeat { .. } => TplKind::Repeat,
            NodeKind::Question(q) => TplKind::Leaf(q.qtype),
        };
        let id = self.form_templates.len();
        let repeat =
            if kind == TplKind::Repeat { Some(id) } else { self.form_templates[parent].repeat };
        let mut logic = self.logic(node, &path);
        if let Some(calc) = counted_by {
            // Read from the repeat's parent, where the calculate is.
            logic.repeat_count = expr::parse(&calc).ok();
        }
        // A literal default is stored as an answer would be (`1.50` on a
        // decimal is `1.5`, as ODK reads it through the value's type).
        // One it cannot hold is empty, as ODK reads it through the type
        // (`maybe` for a yes/no select; a date and time for a date is its date).
        let default = node
            .bind
            .default
            .as_ref()
            .filter(|d| !is_expression(d, node))
            .map(|d| literal_default(node, d, &self.choices));
        let mut shallow = node.clone();
        shallow.children = Vec::new();
        self.form_templates.push(Template {
            name: node.name.clone(),
            kind,
            parent: Some(parent),
            children: vec![],
            path: path.absolute(),
            repeat,
            preload: crate::instrument::xform::effective_preload(node),
            node: Some(shallow),
            logic,
            default,
            order: 0,
        });
        self.form_templates[parent].children.push(id);
        for child in &node.children {
            self.add(child, id, &path);
        }
        if let NodeKind::Question(Question { or_other: true, .. }) = &node.kind {
            self.add_or_other(node, parent, parent_path);
        }
    }

    /// [`Builder::add`], leaving audits (at any depth) for `meta`.
    fn add_outside_meta(
        &mut self,
        node: &Node,
        parent: TplId,
        parent_path: &ElementPath,
        audits: &mut Vec<Node>,
    ) {
        if node.question_type() == Some(QuestionType::Audit) {
            audits.push(node.clone());
            return;
        }
        if !node.children.iter().any(contains_audit) {
            self.add(node, parent, parent_path);
            return;
        }
        let mut without = node.clone();
        without.children.clear();
        let id = self.form_templates.len();
        self.add(&without, parent, parent_path);
        let mut path = parent_path.clone();
        path.segments.push(node.name.clone());
        path.repeat.push(matches!(node.kind, NodeKind::Repeat { .. }));
        for child in &node.children {
            self.add_outside_meta(child, id, &path, audits);
        }
    }

    /// `select_one list or_other` adds a text question `NAME_other`, relevant
    /// when `other` is chosen, as pyxform does (unless the form has one).
    fn add_or_other(&mut self, node: &Node, parent: TplId, parent_path: &ElementPath) {
        let name = format!("{}_other", node.name);
        if self.index.get(&name).is_ok() {
            return;
        }
        let other = Node {
            name: name.clone(),
            kind: NodeKind::Question(Question {
                qtype: QuestionType::Text,
                list: None,
                file: None,
                or_other: false,
            }),
            row: node.row,
            label: Text::plain("Specify other."),
            hint: Text::default(),
            guidance_hint: Text::default(),
            media: BTreeMap::new(),
            bind: Bind {
                relevant: Some(format!("selected(${{{}}}, 'other')", node.name)),
                ..Bind::default()
            },
            appearance: None,
            parameters: BTreeMap::new(),
            pii: node.pii,
            preload: false,
            extra: BTreeMap::new(),
            children: vec![],
        };
        self.add(&other, parent, parent_path);
    }

    fn add_meta(&mut self, instrument: &Instrument, root: &ElementPath, audits: &[Node]) {
        let meta_path = format!("{}/meta", root.absolute());
        if self.form_templates.iter().any(|t| t.path == meta_path) {
            return;
        }
        let meta = self.push_meta("meta", MetaField::Group, 0, meta_path.clone(), Logic::default());
        let mut meta_ctx = root.clone();
        meta_ctx.segments.push("meta".into());
        meta_ctx.repeat.push(false);
        for audit in audits {
            self.add(audit, meta, &meta_ctx);
        }
        self.push_meta(
            "instanceID",
            MetaField::InstanceId,
            meta,
            format!("{meta_path}/instanceID"),
            Logic::default(),
        );
        if let Some(name) = &instrument.settings.instance_name {
            let mut ctx = root.clone();
            ctx.segments.extend(["meta".to_string(), "instanceName".to_string()]);
            ctx.repeat.extend([false, false]);
            let calculate = self.parse("instance_name", name, &ctx);
            self.push_meta(
                "instanceName",
                MetaField::InstanceName,
                meta,
                format!("{meta_path}/instanceName"),
                Logic { calculate, ..Logic::default() },
            );
        }
        // Present in every response but written only for edits.
        self.push_meta(
            "deprecatedID",
            MetaField::DeprecatedId,
            meta,
            format!("{meta_path}/deprecatedID"),
            Logic::default(),
        );
    }

    fn push_meta(
        &mut self,
        name: &str,
        field: MetaField,
        parent: TplId,
        path: String,
        logic: Logic,
    ) -> TplId {
        let id = self.form_templates.len();
        self.form_templates.push(Template {
            name: name.to_string(),
            kind: TplKind::Meta(field),
            parent: Some(parent),
            children: vec![],
            path,
            repeat: None,
            node: None,
            logic,
            default: None,
            preload: None,
            order: 0,
        });
        self.form_templates[parent].children.push(id);
        id
    }

    fn logic(&mut self, node: &Node, path: &ElementPath) -> Logic {
        let b = &node.bind;
        let mut logic = Logic {
            relevant: self.opt(node, "relevant", &b.relevant, path),
            required: self.opt(node, "required", &b.required, path),
            readonly: self.opt(node, "read_only", &b.readonly, path),
            constraint: self.opt(node, "constraint", &b.constraint, path),
            calculate: self.opt(node, "calculation", &b.calculation, path),
            dynamic_default: None,
            choice_filter: None,
            choices_from: None,
            randomize_seed: None,
            repeat_count: None,
            trigger: vec![],
        };
        if node.parameters.get("randomize").is_some_and(|v| v == "true")
            && let Some(seed) = node.parameters.get("seed")
        {
            logic.randomize_seed = self.opt(node, "parameters", &Some(seed.clone()), path);
        }
        if let NodeKind::Question(Question { list: Some(list), .. }) = &node.kind
            && let Some(name) = list.strip_prefix("${").and_then(|l| l.strip_suffix('}'))
        {
            match self.index.get(name) {
                Ok(p) => {
                    logic.choices_from = self.parse_expanded(node, "choices", &p.absolute());
                }
                Err(e) => self.errors.push(format!("{e} (choices of {})", node.name)),
            }
        }
        if let Some(d) = b.default.as_ref().filter(|d| is_expression(d, node)) {
            logic.dynamic_default = self.parse(&format!("default of {}", node.name), d, path);
        }
        if let Some(filter) = &b.choice_filter {
            // The filter is a predicate on the list's items: its `${name}`s
            // are expanded as the XForm writer (and pyxform) expand them,
            // relative ones from `current()` (the question), not the item.
            match self.index.expand_predicate(filter, path) {
                Ok(expanded) => {
                    logic.choice_filter = self.parse_expanded(node, "choice_filter", &expanded);
                }
                Err(e) => self.errors.push(format!("{} (choice_filter of {})", e, node.name)),
            }
        }
        if let NodeKind::Repeat { count: Some(count) } = &node.kind {
            // Expanded as pyxform does, from the repeat (`../n`), but counted
            // from the repeat's parent, which exists when no instance does.
            logic.repeat_count =
                self.opt(node, "repeat_count", &Some(count.clone()), path).map(from_parent);
        }
        if let Some(trigger) = &b.trigger {
            match crate::instrument::paths::references(trigger) {
                Ok(names) => {
                    for name in names {
                        match self.index.get(name) {
                            Ok(p) => logic.trigger.push(p.absolute()),
                            Err(e) => self.errors.push(format!("{e} (trigger of {})", node.name)),
                        }
                    }
                }
                Err(e) => self.errors.push(format!("{e} (trigger of {})", node.name)),
            }
        }
        logic
    }

    fn opt(
        &mut self,
        node: &Node,
        column: &str,
        src: &Option<String>,
        path: &ElementPath,
    ) -> Option<Expr> {
        let src = src.as_deref()?.trim();
        if src.is_empty() {
            return None;
        }
        self.parse(&format!("{column} of {}", node.name), src, path)
    }

    fn parse(&mut self, what: &str, src: &str, path: &ElementPath) -> Option<Expr> {
        match self.index.expand(src, path) {
            Ok(expanded) => match expr::parse(&expanded) {
                Ok(e) => Some(e),
                Err(e) => {
                    self.errors.push(format!("{e} in {what}"));
                    None
                }
            },
            Err(e) => {
                self.errors.push(format!("{e} in {what}"));
                None
            }
        }
    }

    fn parse_expanded(&mut self, node: &Node, column: &str, src: &str) -> Option<Expr> {
        match expr::parse(src) {
            Ok(e) => Some(e),
            Err(e) => {
                self.errors.push(format!("{e} in {column} of {}", node.name));
                None
            }
        }
    }
}

/// An expression written for a repeat instance, for evaluation at the
/// repeat's parent: each relative path loses its leading `..`.
fn from_parent(e: Expr) -> Expr {
    match e {
        Expr::Path(mut p) => {
            if !p.absolute && p.steps.first().is_some_and(|s| s.axis == expr::Axis::Parent) {
                p.steps.remove(0);
                if p.steps.is_empty() {
                    p.steps.push(expr::Step {
                        axis: expr::Axis::SelfAxis,
                        test: expr::NodeTest::Node,
                        predicates: vec![],
                    });
                }
            }
            Expr::Path(p)
        }
        Expr::Filter(mut f) => {
            f.base = from_parent(f.base);
            Expr::Filter(f)
        }
        Expr::Binary(op, a, b) => {
            Expr::Binary(op, Box::new(from_parent(*a)), Box::new(from_parent(*b)))
        }
        Expr::Neg(a) => Expr::Neg(Box::new(from_parent(*a))),
        Expr::Call(mut c) => {
            c.args = c.args.into_iter().map(from_parent).collect();
            Expr::Call(c)
        }
        other => other,
    }
}

fn contains_audit(node: &Node) -> bool {
    node.question_type() == Some(QuestionType::Audit) || node.children.iter().any(contains_audit)
}

/// A literal default as the question's type holds it.
fn literal_default(
    node: &Node,
    d: &str,
    lists: &BTreeMap<String, crate::instrument::ChoiceList>,
) -> String {
    use QuestionType as Q;
    let Some(q) = node.question_type() else { return d.to_string() };
    match q {
        Q::Calculate | Q::Hidden | Q::Text | Q::Note | Q::Barcode => d.to_string(),
        _ if q.is_select() => {
            let NodeKind::Question(Question { list: Some(list), .. }) = &node.kind else {
                return d.to_string();
            };
            // Lists from files or answers are known only when filling.
            let Some(choices) = lists.get(list) else { return d.to_string() };
            let offered = |p: &&str| choices.choices.iter().any(|c| c.name == *p);
            if q.is_multi() {
                d.split_whitespace().filter(offered).collect::<Vec<_>>().join(" ")
            } else {
                d.split_whitespace().next().filter(offered).unwrap_or_default().to_string()
            }
        }
        Q::Range => {
            let as_type = match crate::instrument::xform::bind_type(node, q) {
                "decimal" => Q::Decimal,
                _ => Q::Integer,
            };
            super::values::coerce(as_type, d)
        }
        Q::Integer
        | Q::Decimal
        | Q::Date
        | Q::Time
        | Q::DateTime
        | Q::Geopoint
        | Q::Geotrace
        | Q::Geoshape => super::values::coerce(q, d),
        _ => d.to_string(),
    }
}

/// XLSForm `default` holds either a literal or (ODK's "dynamic defaults") an
/// expression; the test is pyxform's, as the XForm writer applies it (`2 * 3`
/// is computed, `2024-01-01` on a date is not).
fn is_expression(s: &str, node: &Node) -> bool {
    crate::instrument::xform::default_is_dynamic(s, node.question_type())
}
