//! The interview loop: one screen at a time, one line of input at a time.
//!
//! The position is kept by identity (the question or group node, or the
//! repeat an "add another?" screen belongs to) rather than by index, because
//! every answer can make screens appear or disappear before the current one.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use enumera_core::instrument::QuestionType;
use enumera_core::session::navigation::Screen;
use enumera_core::session::state::ChoiceOption;
use enumera_core::session::{Blocker, NodeId, Prompt, Session, SessionError, TplId};

use super::answer;
use super::command::{self, Command, HELP, Input};
use super::style::Style;
use super::{Change, InterviewError, InterviewHooks, InterviewOptions, Outcome};

/// Choices listed under a question before the rest are left to search.
const MAX_CHOICES_SHOWN: usize = 30;

/// A screen's identity, stable while answers change the screen list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Node(NodeId),
    Add(NodeId, TplId),
}

fn key_of(s: &Screen) -> Key {
    match s {
        Screen::Question { node } => Key::Node(*node),
        Screen::FieldList { group, .. } => Key::Node(*group),
        Screen::AddRepeat { parent, repeat } => Key::Add(*parent, *repeat),
    }
}

/// What to do after one line of input.
#[derive(Debug)]
enum Flow {
    /// Ask again on the same screen (after an error message).
    Stay,
    /// Show the same screen again (after help, a language switch, ...).
    Redraw,
    Forward,
    Backward,
    /// Go to screen index (`screens.len()` is the end screen).
    Goto(usize),
    Done(Outcome),
}

pub(super) struct Interviewer<'a, R, W> {
    session: &'a mut Session,
    input: R,
    out: W,
    hooks: &'a mut dyn InterviewHooks,
    style: Style,
    echo: bool,
    screens: Vec<Screen>,
    /// Index into `screens`; `screens.len()` is the end screen.
    index: usize,
    key: Option<Key>,
    /// Position within a field-list screen, and the question there.
    sub: usize,
    sub_node: Option<NodeId>,
    redraw: bool,
    /// The screen last reported to the audit log (`Session::show`).
    shown: Option<Key>,
}

impl<'a, R: BufRead, W: Write> Interviewer<'a, R, W> {
    pub(super) fn new(
        session: &'a mut Session,
        input: R,
        out: W,
        hooks: &'a mut dyn InterviewHooks,
        options: &InterviewOptions,
    ) -> Self {
        Interviewer {
            session,
            input,
            out,
            hooks,
            style: Style { color: options.color },
            echo: options.echo,
            screens: Vec::new(),
            index: 0,
            key: None,
            sub: 0,
            sub_node: None,
            redraw: true,
            shown: None,
        }
    }

    pub(super) fn run(mut self, resume: bool) -> Result<Outcome, InterviewError> {
        self.screens = self.session.screens();
        self.intro()?;
        let start = if resume {
            let (answered, asked) = self.counts();
            writeln!(
                self.out,
                "{}",
                self.style
                    .ok(&format!("Resuming a draft: {answered} of {asked} questions answered."))
            )?;
            self.first_unanswered()
        } else {
            0
        };
        self.goto(start, false);
        loop {
            self.refresh();
            if self.redraw {
                self.redraw = false;
                self.report_screen();
                self.draw()?;
            }
            write!(self.out, "{}", self.style.accent("> "))?;
            self.out.flush()?;
            let Some(line) = self.read_line()? else {
                writeln!(self.out)?;
                writeln!(self.out, "{}", self.style.dim("Input ended."))?;
                return Ok(Outcome::EndOfInput);
            };
            let flow = match command::parse(&line) {
                Err(e) => {
                    self.say_error(&e.to_string())?;
                    Flow::Stay
                }
                Ok(Input::Command(c)) => self.command(c)?,
                Ok(input) => self.on_input(input)?,
            };
            match flow {
                Flow::Stay => {}
                Flow::Redraw => self.redraw = true,
                // The answer may have added or hidden screens around this one.
                Flow::Forward => {
                    self.refresh();
                    self.forward();
                }
                Flow::Backward => {
                    self.refresh();
                    self.backward()?;
                }
                Flow::Goto(i) => self.goto(i, false),
                Flow::Done(outcome) => {
                    self.out.flush()?;
                    return Ok(outcome);
                }
            }
        }
    }

    /// Tells the audit log (a form with `audit`) that a new screen is
    /// shown; drawing the same screen again (help, a language) is not one.
    fn report_screen(&mut self) {
        if self.key == self.shown {
            return;
        }
        self.shown = self.key;
        let node = match self.screens.get(self.index) {
            Some(Screen::Question { node }) => *node,
            Some(Screen::FieldList { group, .. }) => *group,
            _ => return,
        };
        let reference = self.session.reference(node);
        let _ = self.session.show(&reference);
    }

    // ----- position -------------------------------------------------------

    /// Recomputes the screens and finds the current one again.
    fn refresh(&mut self) {
        self.screens = self.session.screens();
        let found = self.key.and_then(|k| self.screens.iter().position(|s| key_of(s) == k));
        match found {
            Some(i) => self.index = i,
            None => {
                // The screen went away (its question became non-relevant,
                // its repeat instance was removed): stay at the same place.
                self.index = self.index.min(self.screens.len());
                let key = self.screens.get(self.index).map(key_of);
                if key != self.key {
                    self.key = key;
                    self.redraw = true;
                }
            }
        }
        if let Some(Screen::FieldList { questions, .. }) = self.screens.get(self.index) {
            match self.sub_node.and_then(|n| questions.iter().position(|&q| q == n)) {
                Some(p) => self.sub = p,
                None => self.sub = self.sub.min(questions.len().saturating_sub(1)),
            }
            self.sub_node = questions.get(self.sub).copied();
        }
    }

    fn goto(&mut self, index: usize, at_last_question: bool) {
        self.index = index.min(self.screens.len());
        self.key = self.screens.get(self.index).map(key_of);
        self.sub = 0;
        self.sub_node = None;
        if let Some(Screen::FieldList { questions, .. }) = self.screens.get(self.index) {
            if at_last_question {
                self.sub = questions.len().saturating_sub(1);
            }
            self.sub_node = questions.get(self.sub).copied();
        }
        self.redraw = true;
    }

    fn forward(&mut self) {
        if let Some(Screen::FieldList { questions, .. }) = self.screens.get(self.index)
            && self.sub + 1 < questions.len()
        {
            self.sub += 1;
            self.sub_node = questions.get(self.sub).copied();
            self.redraw = true;
            return;
        }
        self.goto(self.index + 1, false);
    }

    fn backward(&mut self) -> Result<(), InterviewError> {
        if matches!(self.screens.get(self.index), Some(Screen::FieldList { .. })) && self.sub > 0 {
            self.sub -= 1;
            self.redraw = true;
            if let Some(Screen::FieldList { questions, .. }) = self.screens.get(self.index) {
                self.sub_node = questions.get(self.sub).copied();
            }
        } else if self.index == 0 {
            self.say_error("This is the first question.")?;
        } else {
            self.goto(self.index - 1, true);
        }
        Ok(())
    }

    /// The question being asked, if the screen asks one.
    fn current_node(&self) -> Option<NodeId> {
        match self.screens.get(self.index)? {
            Screen::Question { node } => Some(*node),
            Screen::FieldList { questions, .. } => questions.get(self.sub).copied(),
            Screen::AddRepeat { .. } => None,
        }
    }

    /// The first screen that still has an unanswered question (resuming).
    fn first_unanswered(&self) -> usize {
        let open =
            |n: &NodeId| self.session.is_answerable(*n) && self.session.value_of(*n).is_empty();
        self.screens
            .iter()
            .position(|s| match s {
                Screen::Question { node } => open(node),
                Screen::FieldList { questions, .. } => questions.iter().any(open),
                Screen::AddRepeat { .. } => false,
            })
            .unwrap_or(self.screens.len())
    }

    /// Screen index of every question and field-list group.
    fn screen_map(&self) -> HashMap<NodeId, usize> {
        let mut map = HashMap::new();
        for (i, s) in self.screens.iter().enumerate() {
            match s {
                Screen::Question { node } => {
                    map.insert(*node, i);
                }
                Screen::FieldList { group, questions } => {
                    map.insert(*group, i);
                    for q in questions {
                        map.insert(*q, i);
                    }
                }
                Screen::AddRepeat { .. } => {}
            }
        }
        map
    }

    /// The first screen showing `node` or something inside it.
    fn screen_within(&self, node: NodeId) -> Option<usize> {
        if let Some(&i) = self.screen_map().get(&node) {
            return Some(i);
        }
        self.screens.iter().position(|s| {
            let at = match s {
                Screen::Question { node } => *node,
                Screen::FieldList { group, .. } => *group,
                Screen::AddRepeat { parent, .. } => *parent,
            };
            self.session.is_within(at, node)
        })
    }

    // ----- input ----------------------------------------------------------

    fn read_line(&mut self) -> Result<Option<String>, InterviewError> {
        let mut buf = Vec::new();
        if self.input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(None);
        }
        let line = String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_string();
        if self.echo {
            writeln!(self.out, "{line}")?;
        }
        Ok(Some(line))
    }

    /// A yes/no question; anything but yes (or the end of input) is no.
    fn confirm(&mut self, question: &str) -> Result<bool, InterviewError> {
        write!(self.out, "{} ", self.style.warn(&format!("{question} [y/N]")))?;
        self.out.flush()?;
        let line = self.read_line()?.unwrap_or_default();
        Ok(matches!(line.trim().to_lowercase().as_str(), "y" | "yes" | "s" | "sim"))
    }

    fn on_input(&mut self, input: Input) -> Result<Flow, InterviewError> {
        match self.screens.get(self.index).cloned() {
            None => self.on_end(input),
            Some(Screen::AddRepeat { parent, repeat }) => self.on_add_repeat(parent, repeat, input),
            Some(_) => match self.current_node() {
                Some(node) => self.on_question(node, input),
                None => Ok(Flow::Forward),
            },
        }
    }

    fn on_question(&mut self, node: NodeId, input: Input) -> Result<Flow, InterviewError> {
        let Some(prompt) = self.session.prompt(node) else {
            return Ok(Flow::Forward);
        };
        let fixed = prompt.readonly || prompt.qtype == QuestionType::Note;
        let text = match input {
            Input::Keep if fixed => return Ok(Flow::Forward),
            Input::Keep => {
                // As ODK does: the enumerator cannot move on from a screen
                // that breaks its constraint or leaves a required answer empty
                // (`:n` and `:j` still can; finalizing lists what is left).
                if let Some(m) = prompt.constraint_violation.or(prompt.required_violation) {
                    self.say_error(&m)?;
                    return Ok(Flow::Stay);
                }
                return Ok(Flow::Forward);
            }
            Input::Answer(_) if fixed => {
                self.say_error("This cannot be answered here: press Enter to go on.")?;
                return Ok(Flow::Stay);
            }
            Input::Answer(text) => text,
            Input::Command(_) => return Ok(Flow::Stay),
        };
        if prompt.qtype.is_attachment() {
            let path = answer::file_path(&text);
            match self.hooks.attach(self.session, &prompt.reference, &path) {
                Ok(Some(_name)) => return self.answered(node, prompt.reference),
                Ok(None) => {}
                Err(e) => {
                    self.say_error(&e.to_string())?;
                    return Ok(Flow::Stay);
                }
            }
        }
        let value = match answer::value_for(&prompt, &text) {
            Ok(v) => v,
            Err(m) => {
                let found = answer::search(&prompt.choices, &text);
                if found.is_empty() {
                    self.say_error(&m)?;
                } else {
                    let more = found.len().saturating_sub(MAX_CHOICES_SHOWN);
                    writeln!(self.out, "{}", self.style.warn("Choices that match:"))?;
                    self.draw_choices(&prompt, &found[..found.len() - more])?;
                    if more > 0 {
                        writeln!(
                            self.out,
                            "  {}",
                            self.style.dim(&format!("... and {more} more"))
                        )?;
                    }
                }
                return Ok(Flow::Stay);
            }
        };
        if let Err(e) = self.session.set_node(node, &value) {
            self.say_error(&describe(&e))?;
            return Ok(Flow::Stay);
        }
        self.answered(node, prompt.reference)
    }

    /// After an answer was taken: reported, then checked against its
    /// constraint as ODK does (the answer is kept either way).
    fn answered(&mut self, node: NodeId, reference: String) -> Result<Flow, InterviewError> {
        self.changed(Change::Answer { reference })?;
        match self.session.prompt(node).and_then(|p| p.constraint_violation) {
            Some(m) => {
                self.say_error(&m)?;
                Ok(Flow::Stay)
            }
            None => Ok(Flow::Forward),
        }
    }

    fn on_add_repeat(
        &mut self,
        parent: NodeId,
        repeat: TplId,
        input: Input,
    ) -> Result<Flow, InterviewError> {
        match input {
            Input::Keep => Ok(Flow::Forward),
            Input::Answer(a) => match a.trim().to_lowercase().as_str() {
                "y" | "yes" | "s" | "sim" => self.add_repeat(parent, repeat),
                "n" | "no" | "não" | "nao" => Ok(Flow::Forward),
                _ => {
                    self.say_error("Answer y to add one, or n (or Enter) to go on.")?;
                    Ok(Flow::Stay)
                }
            },
            Input::Command(_) => Ok(Flow::Stay),
        }
    }

    fn on_end(&mut self, input: Input) -> Result<Flow, InterviewError> {
        match input {
            Input::Keep => self.finalize(),
            _ => {
                self.say_error(
                    "This is the end of the form: Enter or :f to finalize, :b to go back, :s to save and quit.",
                )?;
                Ok(Flow::Stay)
            }
        }
    }

    // ----- commands -------------------------------------------------------

    fn command(&mut self, c: Command) -> Result<Flow, InterviewError> {
        match c {
            Command::Back => Ok(Flow::Backward),
            Command::Next => {
                if self.index >= self.screens.len() {
                    self.say_error("This is the end of the form.")?;
                    return Ok(Flow::Stay);
                }
                Ok(Flow::Forward)
            }
            Command::Jump(Some(target)) => self.jump(&target),
            Command::Jump(None) => {
                self.show_hierarchy()?;
                write!(
                    self.out,
                    "{} ",
                    self.style.warn("Jump to (screen number, reference or name; Enter to stay):")
                )?;
                self.out.flush()?;
                match self.read_line()? {
                    Some(t) if !t.trim().is_empty() => self.jump(t.trim()),
                    _ => Ok(Flow::Redraw),
                }
            }
            Command::Add => self.add_command(),
            Command::Remove => self.remove_command(),
            Command::Clear => {
                let Some(node) = self.current_node() else {
                    self.say_error("There is no answer to clear on this screen.")?;
                    return Ok(Flow::Stay);
                };
                if let Err(e) = self.session.set_node(node, "") {
                    self.say_error(&describe(&e))?;
                    return Ok(Flow::Stay);
                }
                let reference = self.session.reference_of(node);
                self.changed(Change::Answer { reference })?;
                Ok(Flow::Redraw)
            }
            Command::Language(None) => {
                self.show_languages()?;
                Ok(Flow::Stay)
            }
            Command::Language(Some(l)) => match self.session.set_language(&l) {
                Ok(()) => {
                    let language = self.session.language().unwrap_or_default().to_string();
                    self.changed(Change::Language { language })?;
                    Ok(Flow::Redraw)
                }
                Err(e) => {
                    self.say_error(&e.to_string())?;
                    Ok(Flow::Stay)
                }
            },
            Command::Save => match self.hooks.save(self.session) {
                Ok(()) => Ok(Flow::Done(Outcome::Saved)),
                Err(e) => {
                    self.say_error(&format!("Could not save: {e}"))?;
                    Ok(Flow::Stay)
                }
            },
            Command::Finalize => self.finalize(),
            Command::Help => {
                writeln!(self.out, "{HELP}")?;
                Ok(Flow::Redraw)
            }
            Command::Quit => Ok(Flow::Done(Outcome::Quit)),
        }
    }

    fn changed(&mut self, change: Change) -> Result<(), InterviewError> {
        self.hooks
            .changed(self.session, &change)
            .map_err(|source| InterviewError::Hook { change, source })
    }

    fn jump(&mut self, target: &str) -> Result<Flow, InterviewError> {
        match self.find(target) {
            Ok(i) => Ok(Flow::Goto(i)),
            Err(m) => {
                self.say_error(&m)?;
                Ok(Flow::Stay)
            }
        }
    }

    /// A screen number (1-based; `end`), a reference or a question name.
    fn find(&self, target: &str) -> Result<usize, String> {
        let n = self.screens.len();
        if target.eq_ignore_ascii_case("end") {
            return Ok(n);
        }
        if let Ok(k) = target.parse::<usize>() {
            return if (1..=n + 1).contains(&k) {
                Ok(k - 1)
            } else {
                Err(format!("There is no screen {k}: screens are 1 to {n} ({} is the end).", n + 1))
            };
        }
        let node = if target.starts_with('/') {
            self.session.resolve(target).map_err(|e| e.to_string())?
        } else {
            let item = self
                .session
                .hierarchy()
                .into_iter()
                .find(|h| h.relevant && last_name(&h.reference) == target)
                .ok_or_else(|| format!("No question named {target:?} is shown now."))?;
            self.session.resolve(&item.reference).map_err(|e| e.to_string())?
        };
        self.screen_within(node)
            .ok_or_else(|| format!("{target} is not shown now (it is not relevant)."))
    }

    fn add_command(&mut self) -> Result<Flow, InterviewError> {
        if let Some(Screen::AddRepeat { parent, repeat }) = self.screens.get(self.index).cloned() {
            return self.add_repeat(parent, repeat);
        }
        let instance = self.current_node().and_then(|n| self.session.repeat_instance_of(n));
        match instance {
            None => {
                self.say_error(
                    "This question is not in a repeat; :a works inside one or where it ends.",
                )?;
                Ok(Flow::Stay)
            }
            Some(r) => self.add_at(&r.repeat_reference),
        }
    }

    fn add_repeat(&mut self, parent: NodeId, repeat: TplId) -> Result<Flow, InterviewError> {
        let reference = self.session.repeat_prompt(parent, repeat).reference;
        self.add_at(&reference)
    }

    fn add_at(&mut self, repeat_reference: &str) -> Result<Flow, InterviewError> {
        let id = match self.session.add_repeat(repeat_reference) {
            Ok(id) => id,
            Err(e) => {
                self.say_error(&describe(&e))?;
                return Ok(Flow::Stay);
            }
        };
        let reference = self.session.reference_of(id);
        self.changed(Change::RepeatAdded { reference: reference.clone() })?;
        writeln!(self.out, "{}", self.style.ok(&format!("Added {reference}.")))?;
        self.screens = self.session.screens();
        Ok(match self.screen_within(id) {
            Some(i) => Flow::Goto(i),
            None => Flow::Redraw,
        })
    }

    fn remove_command(&mut self) -> Result<Flow, InterviewError> {
        let instance = self.current_node().and_then(|n| self.session.repeat_instance_of(n));
        let Some(r) = instance else {
            self.say_error("Go to a question inside the repeat instance to remove (:j).")?;
            return Ok(Flow::Stay);
        };
        if r.count_controlled {
            self.say_error(&format!(
                "{} is count-controlled: change the answer that sets how many there are.",
                r.repeat_reference
            ))?;
            return Ok(Flow::Stay);
        }
        let question = format!("Remove {} {} and all its answers?", r.label, r.position);
        if !self.confirm(&question)? {
            return Ok(Flow::Redraw);
        }
        // Where the instance's screens start is where what follows it lands.
        let start = self.screen_within(r.node).unwrap_or(self.index);
        if let Err(e) = self.session.remove_repeat(&r.reference) {
            self.say_error(&describe(&e))?;
            return Ok(Flow::Stay);
        }
        self.changed(Change::RepeatRemoved { reference: r.reference.clone() })?;
        writeln!(self.out, "{}", self.style.ok(&format!("Removed {}.", r.reference)))?;
        self.screens = self.session.screens();
        Ok(Flow::Goto(start))
    }

    fn finalize(&mut self) -> Result<Flow, InterviewError> {
        let blockers = self.session.blockers();
        if !blockers.is_empty() {
            self.show_blockers(&blockers)?;
            return Ok(Flow::Stay);
        }
        self.session.mark_end();
        match self.hooks.finalize(self.session) {
            Ok(()) => {
                writeln!(self.out, "{}", self.style.ok("Finalized."))?;
                Ok(Flow::Done(Outcome::Finalized))
            }
            Err(e) => {
                self.say_error(&format!("Could not finalize: {e}"))?;
                Ok(Flow::Stay)
            }
        }
    }

    // ----- output ---------------------------------------------------------

    fn say_error(&mut self, message: &str) -> Result<(), InterviewError> {
        writeln!(self.out, "{}", self.style.error(&format!("! {message}")))?;
        Ok(())
    }

    fn intro(&mut self) -> Result<(), InterviewError> {
        let title = self.session.form().instrument.title.clone();
        writeln!(self.out, "{}", self.style.bold(&title))?;
        let mut line = format!("{} screens. Type :h for help.", self.screens.len());
        let languages = &self.session.form().instrument.languages;
        if languages.len() > 1 {
            line.push_str(&format!(" Languages: {} (:l LANG to switch).", languages.join(", ")));
        }
        writeln!(self.out, "{}", self.style.dim(&line))?;
        Ok(())
    }

    /// (answered, asked) over the questions shown now.
    fn counts(&self) -> (usize, usize) {
        let p = self.session.progress(&self.screens);
        (p.answered, p.asked)
    }

    fn progress(&self) -> String {
        let (answered, asked) = self.counts();
        let at = if self.index < self.screens.len() {
            format!("[{}/{}]", self.index + 1, self.screens.len())
        } else {
            "[end]".to_string()
        };
        let mut line = format!("{at} {answered} of {asked} answered");
        if let Some(l) = self.session.language() {
            line.push_str(&format!(" · {l}"));
        }
        line
    }

    fn draw(&mut self) -> Result<(), InterviewError> {
        writeln!(self.out)?;
        writeln!(self.out, "{}", self.style.dim(&self.progress()))?;
        match self.screens.get(self.index).cloned() {
            None => self.draw_end(),
            Some(Screen::AddRepeat { parent, repeat }) => {
                let p = self.session.repeat_prompt(parent, repeat);
                let mut crumbs = self.session.breadcrumbs(parent);
                // Inside an enclosing repeat instance, name that instance too.
                if let Some(r) = self.session.repeat_instance_of(parent)
                    && r.node == parent
                {
                    crumbs.push(format!("{} {}", r.label, r.position));
                }
                if !crumbs.is_empty() {
                    writeln!(self.out, "{}", self.style.accent(&crumbs.join(" > ")))?;
                }
                let question = if p.count == 0 {
                    format!("Add a {}?", p.label)
                } else {
                    format!("Add another {}? ({} so far)", p.label, p.count)
                };
                writeln!(self.out, "{}", self.style.bold(&question))?;
                writeln!(self.out, "{}", self.style.dim("  y to add, n or Enter to go on"))?;
                Ok(())
            }
            Some(screen) => {
                let Some(node) = self.current_node() else {
                    return Ok(());
                };
                let Some(prompt) = self.session.prompt(node) else {
                    return Ok(());
                };
                let crumbs = self.session.breadcrumbs(node);
                if !crumbs.is_empty() {
                    writeln!(self.out, "{}", self.style.accent(&crumbs.join(" > ")))?;
                }
                if let Screen::FieldList { questions, .. } = &screen {
                    writeln!(
                        self.out,
                        "{}",
                        self.style.dim(&format!(
                            "(question {} of {} on this screen)",
                            self.sub + 1,
                            questions.len()
                        ))
                    )?;
                }
                self.draw_question(&prompt)
            }
        }
    }

    fn draw_question(&mut self, p: &Prompt) -> Result<(), InterviewError> {
        let s = self.style;
        let mut title = s.bold(&p.label);
        if p.required {
            title.push_str(&s.error(" *"));
        }
        writeln!(self.out, "{title}")?;
        if let Some(h) = &p.hint {
            writeln!(self.out, "  {}", s.dim(h))?;
        }
        // Label media (issue 18, item 2): a terminal cannot show them, so
        // it names the form media files an app would show or play.
        for (kind, file) in &p.media {
            writeln!(self.out, "  {}", s.dim(&format!("[{kind}: {file}]")))?;
        }
        let all: Vec<usize> = (0..p.choices.len()).collect();
        // A long list (districts, schools) is cut; typing part of a name
        // lists the matches.
        self.draw_choices(p, &all[..all.len().min(MAX_CHOICES_SHOWN)])?;
        if p.choices.len() > MAX_CHOICES_SHOWN {
            writeln!(
                self.out,
                "  {}",
                s.dim(&format!(
                    "... and {} more: type part of a name to find it",
                    p.choices.len() - MAX_CHOICES_SHOWN
                ))
            )?;
        }
        let mut expects = answer::expects(p);
        if p.readonly && p.qtype != QuestionType::Note {
            expects = "read-only: press Enter to go on".into();
        }
        if !expects.is_empty() {
            writeln!(self.out, "  {}", s.dim(&format!("({expects})")))?;
        }
        if !p.value.is_empty() && p.qtype != QuestionType::Note {
            writeln!(self.out, "  Answer: {}", s.ok(&shown_value(&p.value, &p.choices)))?;
        }
        if let Some(m) = &p.constraint_violation {
            writeln!(self.out, "{}", s.error(&format!("! {m}")))?;
        }
        Ok(())
    }

    /// Choices by index, with their keys and whether they are picked.
    fn draw_choices(&mut self, p: &Prompt, which: &[usize]) -> Result<(), InterviewError> {
        let s = self.style;
        let chosen: Vec<&str> = p.value.split_whitespace().collect();
        for &i in which {
            let Some(c) = p.choices.get(i) else { continue };
            let key = answer::choice_key(&p.choices, i);
            let picked = chosen.contains(&c.value.as_str());
            let mark = match (p.qtype.is_multi(), picked) {
                (true, true) => s.ok("[x]"),
                (true, false) => "[ ]".to_string(),
                (false, true) => s.ok("(x)"),
                (false, false) => "( )".to_string(),
            };
            writeln!(self.out, " {mark} {} {}", s.accent(&format!("{key:>3})")), c.label)?;
        }
        Ok(())
    }

    fn draw_end(&mut self) -> Result<(), InterviewError> {
        let title = self.session.form().instrument.title.clone();
        writeln!(self.out, "{}", self.style.bold(&format!("End of {title}.")))?;
        let n = self.session.blockers().len();
        let line = if n == 0 {
            "Enter or :f to finalize, :b to go back, :s to save and quit.".to_string()
        } else {
            format!(
                "{n} problem(s) left: Enter or :f lists them; :b to go back, :s to save and quit."
            )
        };
        writeln!(self.out, "  {}", self.style.dim(&line))?;
        Ok(())
    }

    fn show_blockers(&mut self, blockers: &[Blocker]) -> Result<(), InterviewError> {
        self.say_error(&format!(
            "Cannot finalize yet: {} problem(s) to fix first.",
            blockers.len()
        ))?;
        let map = self.screen_map();
        for b in blockers {
            let (reference, message) = match b {
                Blocker::Required { reference, message }
                | Blocker::Constraint { reference, message } => (reference, message),
            };
            let node = self.session.resolve(reference).ok();
            let label = node
                .and_then(|n| self.session.prompt(n))
                .map_or_else(|| reference.clone(), |p| p.label);
            let at = node
                .and_then(|n| map.get(&n))
                .map_or("    ".to_string(), |i| format!("{:>4}", i + 1));
            writeln!(
                self.out,
                "{} {}: {}  {}",
                self.style.accent(&at),
                label,
                self.style.error(message),
                self.style.dim(reference)
            )?;
        }
        writeln!(self.out, "{}", self.style.dim("Go to one with :j N."))?;
        Ok(())
    }

    fn show_hierarchy(&mut self) -> Result<(), InterviewError> {
        let map = self.screen_map();
        let s = self.style;
        for item in self.session.hierarchy() {
            if !item.relevant {
                continue;
            }
            let node = self.session.resolve(&item.reference).ok();
            let at = node.and_then(|n| map.get(&n).copied());
            let here = at == Some(self.index) && self.index < self.screens.len();
            let number = at.map_or(String::new(), |i| (i + 1).to_string());
            let indent = "  ".repeat(item.depth);
            let line = match item.kind.as_str() {
                "group" => format!("{indent}{}", s.accent(&truncate(&item.label, 70))),
                "repeat" => format!(
                    "{indent}{}",
                    s.accent(&format!("{} {}", item.label, last_index(&item.reference)))
                ),
                _ => {
                    // Built from the stored value, not a whole prompt: this
                    // runs for every question of the form.
                    let value = node.map_or(String::new(), |n| {
                        let v = self.session.value_of(n);
                        if v.is_empty() || !(item.kind.starts_with("select") || item.kind == "rank")
                        {
                            v.to_string()
                        } else {
                            shown_value(v, &self.session.options_of(n))
                        }
                    });
                    let mark = match item.kind.as_str() {
                        "note" => "   ",
                        _ if item.answered => "[x]",
                        _ => "[ ]",
                    };
                    let mut l = format!("{indent}{mark} {}", truncate(&item.label, 70));
                    if !value.is_empty() {
                        l.push_str(&format!(": {}", s.ok(&truncate(&value, 40))));
                    }
                    l
                }
            };
            let pointer = if here { ">" } else { " " };
            writeln!(self.out, "{pointer}{:>4} {line}", s.dim(&number))?;
        }
        writeln!(
            self.out,
            "{:>5} {}",
            s.dim(&(self.screens.len() + 1).to_string()),
            s.accent("End")
        )?;
        Ok(())
    }

    fn show_languages(&mut self) -> Result<(), InterviewError> {
        let languages = self.session.form().instrument.languages.clone();
        if languages.is_empty() {
            writeln!(self.out, "This form has a single language.")?;
            return Ok(());
        }
        let current = self.session.language().map(str::to_string);
        for l in languages {
            let mark = if current.as_deref() == Some(l.as_str()) { "*" } else { " " };
            writeln!(self.out, " {mark} {l}")?;
        }
        writeln!(self.out, "{}", self.style.dim("Switch with :l LANG (name or code)."))?;
        Ok(())
    }
}

/// A session error in the enumerator's words (the reference is the question
/// on screen, so it is left out).
fn describe(e: &SessionError) -> String {
    match e {
        SessionError::BadValue { value, expected, .. } => {
            format!("{value:?} is not a valid {expected}.")
        }
        SessionError::NotAChoice { value, .. } => format!("{value:?} is not one of the choices."),
        other => other.to_string(),
    }
}

/// `/data/members[2]/age` -> `age`.
fn last_name(reference: &str) -> &str {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    last.split('[').next().unwrap_or(last)
}

/// `/data/members[2]` -> `2`.
fn last_index(reference: &str) -> &str {
    reference.rsplit_once('[').map_or("", |(_, i)| i.trim_end_matches(']'))
}

/// An answer as the enumerator reads it: choice labels, not values.
fn shown_value(value: &str, choices: &[ChoiceOption]) -> String {
    if choices.is_empty() {
        return value.to_string();
    }
    value
        .split_whitespace()
        .map(|v| choices.iter().find(|c| c.value == v).map_or(v.to_string(), |c| c.label.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(3)).collect();
        t.push_str("...");
        t
    }
}
