//! The campaign itself: central, tablets, three rounds, bundles and receipts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use enumera_central::Central;
use enumera_core::bundle::{
    BundleOptions, ResearcherIdentity, apply_receipt, open_sealed, write_bundle_file,
};
use enumera_core::expr::FixedEnv;
use enumera_core::fill::{Fill, Start};
use enumera_core::instrument::{Instrument, import_xlsform_bytes};
use enumera_core::store::{Payload, Store};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use super::DemoArgs;
use super::autofill::{self, Respondent};
use super::people::{DISTRICTS, P2pRole, Participant, Rng, roster};
use crate::UserError;

/// The study's instruments, built into the binary so the demo runs from
/// anywhere.
const INSTRUMENTS: [(&str, &[u8]); 6] = [
    ("registration.xlsx", include_bytes!("../../../instruments/p2p-sanitation/registration.xlsx")),
    ("capacity.xlsx", include_bytes!("../../../instruments/p2p-sanitation/capacity.xlsx")),
    (
        "capacity_sealed.xlsx",
        include_bytes!("../../../instruments/p2p-sanitation/capacity_sealed.xlsx"),
    ),
    (
        "event_feedback.xlsx",
        include_bytes!("../../../instruments/p2p-sanitation/event_feedback.xlsx"),
    ),
    (
        "practice_followup.xlsx",
        include_bytes!("../../../instruments/p2p-sanitation/practice_followup.xlsx"),
    ),
    ("kii.xlsx", include_bytes!("../../../instruments/p2p-sanitation/kii.xlsx")),
];

/// The researcher's TEST identity matching capacity_sealed.xlsx's key.
const TEST_IDENTITY: &str =
    include_str!("../../../instruments/p2p-sanitation/test-keys/researcher.agekey");

/// A marker so the demo only ever replaces a folder it made itself.
const MARKER: &str = ".enumera-demo";

/// One finalized response, as the simulation knows it.
#[derive(Debug, Clone)]
pub struct Done {
    pub instance_id: String,
    pub form_id: String,
    pub participant: String,
    pub p2p: P2pRole,
    pub round: u32,
    pub district: &'static str,
    pub sealed: bool,
}

/// The tablet killed mid-interview, and what survived.
#[derive(Debug, Clone, Default)]
pub struct KillCheck {
    pub tablet: String,
    pub acknowledged: usize,
    pub recovered: usize,
    pub lost: Vec<String>,
}

/// Everything the demo found, for the summary and for tests.
#[derive(Debug, Default)]
pub struct Outcome {
    pub dir: PathBuf,
    pub seed: u64,
    pub devices: usize,
    pub participants: Vec<Participant>,
    pub finalized: Vec<Done>,
    pub drafts_left: usize,
    pub answers: usize,
    pub corrected: usize,
    pub repeats: usize,
    pub killed: KillCheck,
    pub bundles_ingested: usize,
    /// Responses uploaded over HTTP to `central serve`.
    pub http_uploads: usize,
    pub duplicates_ignored: usize,
    pub conflicts: u64,
    pub central_responses: u64,
    pub sealed_held: u64,
    pub sealed_opened: usize,
    /// instance id -> times found at central (must be 1 for each).
    pub at_central: BTreeMap<String, usize>,
    /// (round, group) -> capacity means.
    pub capacity: BTreeMap<(u32, &'static str), Vec<f64>>,
    pub export: super::report::Exported,
    /// The supervisor's return and approval (issue 17).
    pub review: ReviewCheck,
    /// Files attached to finalized key-informant interviews (issue 18).
    pub media: Vec<Attached>,
    pub problems: Vec<String>,
    pub seconds: f64,
}

/// A file the demo attached to an answer, as the store recorded it.
#[derive(Debug, Clone)]
pub struct Attached {
    pub instance_id: String,
    pub question: &'static str,
    pub file: String,
    pub sha256: String,
    pub size: u64,
}

/// A response a supervisor returned, its correction, and where it ended.
#[derive(Debug, Clone, Default)]
pub struct ReviewCheck {
    pub returned: String,
    pub correction: String,
    /// Comments the tablet showed at the question the supervisor named.
    pub comments_at_question: usize,
    pub final_state: String,
    pub edited_after_return: bool,
}

struct Tablet {
    name: String,
    path: PathBuf,
    store: Store,
    /// A bundle written but not yet delivered (the late courier).
    held: Option<PathBuf>,
}

pub struct Campaign {
    dir: PathBuf,
    rng: Rng,
    people: Vec<Participant>,
    central: Central,
    tablets: Vec<Tablet>,
    instruments: BTreeMap<String, Instrument>,
    outcome: Outcome,
    bar: ProgressBar,
    /// `central serve` on 127.0.0.1, for the tablet that syncs over HTTP.
    server: Option<super::server::Running>,
}

fn err(context: &str) -> impl Fn(&dyn std::fmt::Display) -> UserError + '_ {
    move |e| UserError(format!("demo: {context}: {e}"))
}

/// The calendar: baseline in March, then about 6 and 12 months later.
fn round_date(round: u32) -> NaiveDate {
    let base = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap_or_default();
    base + Duration::days(182 * i64::from(round - 1))
}

impl Campaign {
    pub fn new(args: &DemoArgs) -> Result<Campaign, UserError> {
        let dir = args.dir.clone();
        prepare_dir(&dir)?;
        for sub in [
            "central",
            "tablets",
            "transfer/instruments",
            "transfer/bundles",
            "supervisor",
            "export",
        ] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| err("creating folders")(&e))?;
        }
        std::fs::write(dir.join(MARKER), "made by enumera demo\n")
            .map_err(|e| err("marking the folder")(&e))?;
        let mut rng = Rng::new(args.seed);
        let people = roster(args.participants, args.devices, &mut rng);
        let central = Central::init(dir.join("central/central.db"))
            .map_err(|e| err("starting central")(&e))?;
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:>12} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        if args.json {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        Ok(Campaign {
            dir: dir.clone(),
            rng,
            people,
            central,
            tablets: Vec::new(),
            instruments: BTreeMap::new(),
            outcome: Outcome { dir, seed: args.seed, devices: args.devices, ..Outcome::default() },
            bar,
            server: None,
        })
    }

    pub fn run(mut self) -> Result<Outcome, UserError> {
        let started = Instant::now();
        self.publish()?;
        self.set_up_tablets()?;
        for round in 1..=3 {
            self.interview_round(round)?;
            self.sync_round(round)?;
        }
        self.supervise()?;
        self.check_central()?;
        self.server = None; // stops the sync server
        self.export()?;
        self.bar.finish_and_clear();
        self.outcome.participants = self.people.clone();
        self.outcome.seconds = started.elapsed().as_secs_f64();
        Ok(self.outcome)
    }

    /// A line of narration on stderr, above the progress bar when there is one.
    fn say(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// Central publishes every instrument and the roster; devices fetch them
    /// as files (what `device sync` downloads over HTTP).
    fn publish(&mut self) -> Result<(), UserError> {
        for (name, bytes) in INSTRUMENTS {
            let imported = import_xlsform_bytes(bytes, name, None).map_err(|e| err(name)(&e))?;
            if imported.has_errors() {
                let first = imported.errors().next().map(ToString::to_string).unwrap_or_default();
                return Err(UserError(format!("demo: {name} has errors: {first}")));
            }
            let instrument = imported.instrument;
            self.central.publish(&instrument).map_err(|e| err("publishing")(&e))?;
            let out =
                self.dir.join("transfer/instruments").join(format!("{}.json", instrument.form_id));
            std::fs::write(&out, instrument.canonical_json()).map_err(|e| err("writing")(&e))?;
            self.instruments.insert(instrument.form_id.clone(), instrument);
        }
        let roster = json!({
            "participants": self.people.iter().map(|p| json!({
                "id": p.id,
                "display": {"district": DISTRICTS[p.district].name, "group": p.p2p.label()},
                "personal": {"name": p.name, "phone": p.phone},
            })).collect::<Vec<_>>()
        });
        std::fs::write(self.dir.join("transfer/roster.json"), roster.to_string())
            .map_err(|e| err("writing the roster")(&e))?;
        // Central holds the roster too: the checks measure progress against it.
        self.central
            .publish_roster("study", roster.to_string().as_bytes())
            .map_err(|e| err("publishing the roster")(&e))?;
        std::fs::write(self.dir.join("researcher.agekey"), TEST_IDENTITY)
            .map_err(|e| err("writing the test identity")(&e))?;
        self.say(&format!(
            "central: published {} instruments and a roster of {} participants",
            self.instruments.len(),
            self.people.len()
        ));
        Ok(())
    }

    fn set_up_tablets(&mut self) -> Result<(), UserError> {
        let devices = self.outcome.devices;
        for i in 0..devices {
            let district = i % DISTRICTS.len();
            let name = format!("tablet-{} ({})", i + 1, DISTRICTS[district].name);
            let path = self.dir.join(format!("tablets/tablet-{}.db", i + 1));
            let mut store = Store::open(&path).map_err(|e| err("opening a tablet")(&e))?;
            store
                .init_device(&name, Some(&format!("enum-{}", i + 1)))
                .map_err(|e| err("init")(&e))?;
            for instrument in self.instruments.values() {
                store.install_instrument(instrument).map_err(|e| err("installing")(&e))?;
            }
            self.tablets.push(Tablet { name, path, store, held: None });
        }
        self.assign()?;
        self.say(&format!(
            "{devices} tablets set up, each with its own database and signing key, its \
             assignments and only its own participants' roster rows"
        ));
        Ok(())
    }

    /// Central assigns each official's interviews of every round to the
    /// enumerator of their district's tablet (issue 17); each tablet takes
    /// its signed assignments file, which carries only its participants'
    /// roster rows (what `device sync` fetches over HTTP).
    fn assign(&mut self) -> Result<(), UserError> {
        let mut work: BTreeMap<(&'static str, u32, usize), Vec<String>> = BTreeMap::new();
        for round in 1..=3 {
            for p in &self.people {
                for form in self.forms_for(p, round) {
                    work.entry((form, round, p.device)).or_default().push(p.id.clone());
                }
            }
        }
        let mut made = 0;
        for ((form, round, device), participants) in work {
            let new = enumera_central::NewAssignment {
                form_id: form.into(),
                round: Some(i64::from(round)),
                participants,
                quantity: None,
                district: None,
                target: enumera_central::Target::Enumerator(format!("enum-{}", device + 1)),
            };
            made += self.central.assign(None, &new).map_err(|e| err("assigning")(&e))?.len();
        }
        for (i, tablet) in self.tablets.iter_mut().enumerate() {
            let device_id = tablet.store.device().map_err(|e| err("device")(&e))?.device_id;
            let file = self
                .central
                .assignments_file(&device_id, Some(&format!("enum-{}", i + 1)))
                .map_err(|e| err("assignments file")(&e))?;
            let out = self.dir.join(format!("transfer/tablet-{}.assignments", i + 1));
            std::fs::write(&out, &file.file).map_err(|e| err("writing assignments")(&e))?;
            enumera_core::review::apply_assignments(&mut tablet.store, &file.file)
                .map_err(|e| err("applying assignments")(&e))?;
        }
        self.say(&format!(
            "central: {made} interviews assigned to {} enumerators",
            self.tablets.len()
        ));
        Ok(())
    }

    /// Which forms a participant answers in a round.
    fn forms_for(&self, p: &Participant, round: u32) -> Vec<&'static str> {
        let bangladesh = DISTRICTS[p.district].country == "bd";
        let capacity = if bangladesh { "p2p_capacity_sealed" } else { "p2p_capacity" };
        match round {
            1 if p.p2p != P2pRole::None => vec!["p2p_registration", capacity, "p2p_event_feedback"],
            1 => vec!["p2p_registration", capacity],
            _ => vec![capacity, "p2p_practice_followup"],
        }
    }

    fn interview_round(&mut self, round: u32) -> Result<(), UserError> {
        let plan: Vec<(usize, &'static str)> = self
            .people
            .iter()
            .enumerate()
            .flat_map(|(i, p)| self.forms_for(p, round).into_iter().map(move |f| (i, f)))
            .collect();
        let kii: Vec<usize> = if round == 3 {
            (0..self.tablets.len())
                .filter_map(|d| self.people.iter().position(|p| p.device == d))
                .collect()
        } else {
            vec![]
        };
        self.bar.set_prefix(format!("round {round}"));
        self.bar.set_length((plan.len() + kii.len()) as u64);
        self.bar.set_position(0);
        // The last participant of each tablet in round 3 is not finished:
        // the interview is interrupted and left as a draft.
        let last_of_tablet: Vec<usize> = (0..self.tablets.len())
            .filter_map(|d| self.people.iter().rposition(|p| p.device == d))
            .collect();
        for (k, (pi, form)) in plan.iter().enumerate() {
            let unfinished =
                round == 3 && last_of_tablet.contains(pi) && *form == "p2p_practice_followup";
            let killed = round == 2 && k == 0;
            self.bar.set_message(format!("{} {}", self.people[*pi].id, form));
            self.one_interview(*pi, form, round, unfinished, killed)?;
            self.bar.inc(1);
        }
        for pi in kii {
            self.one_interview(pi, "p2p_kii", round, false, false)?;
            self.bar.inc(1);
        }
        let done = self.outcome.finalized.iter().filter(|d| d.round == round).count();
        self.say(&format!("round {round} ({}): {done} responses finalized", round_date(round)));
        Ok(())
    }

    fn one_interview(
        &mut self,
        pi: usize,
        form_id: &'static str,
        round: u32,
        unfinished: bool,
        killed: bool,
    ) -> Result<(), UserError> {
        let p = self.people[pi].clone();
        let device = p.device;
        let today = round_date(round);
        let now = Utc
            .from_utc_datetime(&today.and_hms_opt(9 + (pi % 7) as u32, 30, 0).unwrap_or_default());
        let env = || Box::new(FixedEnv::new(now, 7 + pi as u64));
        let who = Respondent { participant: &p, district: &DISTRICTS[p.district], round, today };
        let start = Start {
            participant_id: Some(p.id.clone()),
            round: Some(i64::from(round)),
            preload: round > 1,
        };
        let tablet = &mut self.tablets[device];
        let mut fill =
            Fill::start(&mut tablet.store, form_id, &start, env()).map_err(|e| err(form_id)(&e))?;
        let mut rng = self.rng.clone();
        self.rng.next_u64();
        let stop = if unfinished {
            Some(5)
        } else if killed {
            Some(12)
        } else {
            None
        };
        let first = autofill::interview(&mut fill, &mut tablet.store, &who, &mut rng, stop)
            .map_err(|e| err(form_id)(&e))?;
        self.outcome.answers += first.answered;
        self.outcome.corrected += first.corrected;
        self.outcome.repeats += first.repeats;
        if unfinished {
            self.outcome.drafts_left += 1;
            return Ok(());
        }
        if killed {
            // The app dies: only what reached the database survives. Reopen
            // the database from disk and resume the draft.
            let acknowledged = fill.session().answers();
            let id = fill.instance_id().to_string();
            drop(fill);
            let path = tablet.path.clone();
            tablet.store =
                Store::open(&path).map_err(|e| err("reopening the killed tablet")(&e))?;
            fill = Fill::resume(&tablet.store, &id, env()).map_err(|e| err("resuming")(&e))?;
            let recovered = fill.session().answers();
            let lost: Vec<String> = acknowledged
                .iter()
                .filter(|a| !recovered.contains(a))
                .map(|(r, v)| format!("{r}={v}"))
                .collect();
            self.outcome.killed = KillCheck {
                tablet: tablet.name.clone(),
                acknowledged: acknowledged.len(),
                recovered: recovered.len(),
                lost: lost.clone(),
            };
            if !lost.is_empty() {
                self.outcome
                    .problems
                    .push(format!("the killed tablet lost {} answers", lost.len()));
            }
            let rest = autofill::interview(&mut fill, &mut tablet.store, &who, &mut rng, None)
                .map_err(|e| err(form_id)(&e))?;
            self.outcome.answers += rest.answered;
            self.outcome.corrected += rest.corrected;
        }
        let id = fill.instance_id().to_string();
        let attached = if form_id == "p2p_kii" {
            attach_kii_media(&mut fill, &mut tablet.store, pi as u64 * 31 + u64::from(round))?
        } else {
            vec![]
        };
        // The interview took its time: the form's `end` is when it is
        // finalized, 25 to 70 minutes after its start (a rushed enumerator on
        // the third tablet now and then takes 8).
        let minutes = if device == 2 && rng.chance(0.3) { 8 } else { 25 + rng.below(46) as i64 };
        let later = now + chrono::Duration::minutes(minutes);
        drop(fill);
        let fill = Fill::resume(&tablet.store, &id, Box::new(FixedEnv::new(later, 7 + pi as u64)))
            .map_err(|e| err("resuming to finalize")(&e))?;
        match fill.finalize(&mut tablet.store) {
            Ok(_) => {
                self.outcome.media.extend(attached.into_iter().map(|(question, a)| Attached {
                    instance_id: id.clone(),
                    question,
                    file: a.name,
                    sha256: a.sha256,
                    size: a.size,
                }));
                let sealed = !self
                    .instruments
                    .get(form_id)
                    .is_none_or(|i| i.settings.public_keys.is_empty());
                self.outcome.finalized.push(Done {
                    instance_id: id,
                    form_id: form_id.to_string(),
                    participant: p.id.clone(),
                    p2p: p.p2p,
                    round,
                    district: DISTRICTS[p.district].name,
                    sealed,
                });
            }
            Err(e) => {
                // Blocked: the enumerator could not complete it; it stays a draft.
                self.outcome.drafts_left += 1;
                self.say(&format!("  {} {form_id}: left as a draft ({e})", p.id));
            }
        }
        Ok(())
    }

    /// Moves this round's bundles to central, each tablet its own way.
    fn sync_round(&mut self, round: u32) -> Result<(), UserError> {
        let n = self.tablets.len();
        for t in 0..n {
            let path =
                self.dir.join(format!("transfer/bundles/tablet-{}-round-{round}.bundle", t + 1));
            let summary = write_bundle_file(
                &self.tablets[t].store,
                &BundleOptions { since_receipt: true, ..Default::default() },
                &path,
            )
            .map_err(|e| err("writing a bundle")(&e))?;
            if summary.responses == 0 {
                continue;
            }
            match t % 3 {
                // Round 1 carried by hand on a USB stick; later rounds over
                // HTTP to `central serve` (bundle up, receipt back).
                0 if round == 1 => {
                    self.ingest(&path)?;
                    self.return_receipt(t)?;
                }
                0 => self.sync_over_http(t)?,
                // Relayed through the supervisor's tablet, unchanged; in
                // round 3 the supervisor delivers it twice.
                1 => {
                    let relayed =
                        self.dir.join("supervisor").join(path.file_name().unwrap_or_default());
                    std::fs::copy(&path, &relayed).map_err(|e| err("relaying")(&e))?;
                    self.ingest(&relayed)?;
                    if round == 3 {
                        self.ingest(&relayed)?;
                    }
                    self.return_receipt(t)?;
                }
                // A slow courier: round 1's bundle arrives after round 2's
                // (which, with no receipt yet, also carries round 1).
                _ => {
                    if round == 1 {
                        self.tablets[t].held = Some(path);
                        continue;
                    }
                    self.ingest(&path)?;
                    if let Some(late) = self.tablets[t].held.take() {
                        self.ingest(&late)?;
                    }
                    self.return_receipt(t)?;
                }
            }
        }
        let status = self.central.status().map_err(|e| err("status")(&e))?;
        self.say(&format!(
            "sync after round {round}: central holds {} responses ({} sealed), {} duplicates ignored so far",
            status.responses, status.sealed, self.outcome.duplicates_ignored
        ));
        Ok(())
    }

    /// `enumera device sync`: the tablet uploads what no receipt covers to
    /// the server on 127.0.0.1 with its token, and applies the receipt.
    fn sync_over_http(&mut self, t: usize) -> Result<(), UserError> {
        if self.server.is_none() {
            self.server = Some(super::server::start(&self.dir.join("central/central.db"))?);
        }
        let addr = self
            .server
            .as_ref()
            .map(|s| s.addr)
            .ok_or_else(|| UserError("demo: no server".into()))?;
        let device = self.tablets[t].store.device().map_err(|e| err("device")(&e))?;
        let token = self.central.create_token(&device.device_id).map_err(|e| err("token")(&e))?;
        let transport = crate::http::UreqTransport::new(
            &format!("http://{addr}"),
            std::time::Duration::from_secs(60),
        )
        .map_err(|e| UserError(format!("demo: {e}")))?;
        let report = enumera_core::remote::sync(&mut self.tablets[t].store, &transport, &token)
            .map_err(|e| err("device sync")(&e))?;
        self.outcome.bundles_ingested += 1;
        self.outcome.http_uploads += report.uploaded;
        Ok(())
    }

    fn ingest(&mut self, path: &Path) -> Result<(), UserError> {
        let bytes = std::fs::read(path).map_err(|e| err("reading a bundle")(&e))?;
        let report = self.central.ingest(&bytes).map_err(|e| err("ingest")(&e))?;
        self.outcome.bundles_ingested += 1;
        self.outcome.duplicates_ignored += report.duplicates;
        Ok(())
    }

    fn return_receipt(&mut self, t: usize) -> Result<(), UserError> {
        let device = self.tablets[t].store.device().map_err(|e| err("device")(&e))?;
        let receipt =
            self.central.receipt_for(&device.device_id).map_err(|e| err("receipt")(&e))?;
        let path = self.dir.join(format!("transfer/tablet-{}.receipt", t + 1));
        std::fs::write(&path, &receipt.file).map_err(|e| err("writing a receipt")(&e))?;
        apply_receipt(&mut self.tablets[t].store, &receipt.file)
            .map_err(|e| err("applying a receipt")(&e))?;
        Ok(())
    }

    /// The supervisor reads a round-3 response of the tablet that syncs over
    /// HTTP, returns it with a comment at a question; the tablet syncs, sees
    /// the comment there, reopens, corrects and syncs again; the supervisor
    /// approves the correction, which replaces the returned version.
    fn supervise(&mut self) -> Result<(), UserError> {
        let on_first_tablet = |d: &Done| {
            self.people.iter().any(|p| p.id == d.participant && p.device == 0)
                && d.round == 3
                && !d.sealed
                && !d.form_id.starts_with("p2p_capacity")
        };
        let Some(at) = self.outcome.finalized.iter().position(on_first_tablet) else {
            self.outcome.problems.push("no response for the supervisor to return".into());
            return Ok(());
        };
        let x = self.outcome.finalized[at].instance_id.clone();
        let device = self.tablets[0].store.device().map_err(|e| err("device")(&e))?;
        let token = self
            .central
            .create_role_token(&enumera_central::TokenGrant {
                role: enumera_central::Role::Supervisor,
                subject: "Supervisor Ana".into(),
                scope: enumera_central::Scope {
                    devices: [device.device_id.clone()].into(),
                    ..Default::default()
                },
            })
            .map_err(|e| err("supervisor token")(&e))?;
        let question = self.tablets[0]
            .store
            .answers(&x)
            .map_err(|e| err("answers")(&e))?
            .into_iter()
            .map(|a| a.reference)
            .find(|r| r.matches('/').count() >= 3)
            .unwrap_or_else(|| "/data/consent".into());
        use enumera_core::review::{Comment, ReviewKind};
        self.central
            .review_with_token(
                &token,
                &x,
                ReviewKind::Reject,
                vec![
                    Comment::at(&question, "please check this answer with the respondent"),
                    Comment::general("returned by the demo's supervisor"),
                ],
            )
            .map_err(|e| err("returning a response")(&e))?;
        self.sync_over_http(0)?;
        let tablet = &mut self.tablets[0];
        let info = tablet.store.returned(&x).map_err(|e| err("returns")(&e))?;
        let comments_at_question = info.as_ref().map_or(0, |i| i.comments_at(&question).len());
        let draft = tablet.store.reopen(&x).map_err(|e| err("reopening")(&e))?.instance_id;
        let later = Utc.from_utc_datetime(
            &(round_date(3) + Duration::days(2)).and_hms_opt(10, 0, 0).unwrap_or_default(),
        );
        let fill = Fill::resume(&tablet.store, &draft, Box::new(FixedEnv::new(later, 99)))
            .map_err(|e| err("resuming the correction")(&e))?;
        fill.finalize(&mut tablet.store).map_err(|e| err("finalizing the correction")(&e))?;
        self.sync_over_http(0)?;
        let outcome = self
            .central
            .review_with_token(&token, &draft, ReviewKind::Approve, vec![])
            .map_err(|e| err("approving the correction")(&e))?;
        let who = self.central.principal(&token).ok().flatten();
        let edited = who
            .and_then(|w| self.central.review_show(&w, &draft).ok())
            .is_some_and(|d| d.item.edited_after_return);
        self.outcome.finalized[at].instance_id = draft.clone();
        self.outcome.review = ReviewCheck {
            returned: x.clone(),
            correction: draft,
            comments_at_question,
            final_state: outcome.state.to_string(),
            edited_after_return: edited,
        };
        self.say(&format!(
            "supervisor: returned {x} with a comment at {question}; the tablet corrected it; approved"
        ));
        Ok(())
    }

    /// Central holds each finalized response exactly once; sealed ones open
    /// with the researcher's identity; and the capacity findings.
    fn check_central(&mut self) -> Result<(), UserError> {
        let status = self.central.status().map_err(|e| err("status")(&e))?;
        // Current responses: a returned version its correction replaced
        // is kept at central but no longer current.
        self.outcome.central_responses = status.current;
        self.outcome.sealed_held = status.sealed;
        self.outcome.conflicts = status.conflicts;
        let identity = ResearcherIdentity::parse(TEST_IDENTITY).map_err(|e| err("identity")(&e))?;
        let finalized = self.outcome.finalized.clone();
        for done in &finalized {
            let payload =
                self.central.payload(&done.instance_id).map_err(|e| err("payload")(&e))?;
            let json = match payload {
                None => {
                    self.outcome
                        .problems
                        .push(format!("{} is missing at central", done.instance_id));
                    continue;
                }
                Some(Payload::Plain { json, .. }) => json,
                Some(Payload::Sealed { ciphertext }) => match ciphertext
                    .to_vec()
                    .map_err(|e| enumera_core::bundle::SealError::Damaged { reason: e.to_string() })
                    .and_then(|c| open_sealed(&c, &identity))
                {
                    Ok(opened) => {
                        self.outcome.sealed_opened += 1;
                        opened.json
                    }
                    Err(e) => {
                        self.outcome
                            .problems
                            .push(format!("{} could not be opened: {e}", done.instance_id));
                        continue;
                    }
                },
            };
            *self.outcome.at_central.entry(done.instance_id.clone()).or_default() += 1;
            if done.form_id.starts_with("p2p_capacity") {
                let value: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
                if let Some(mean) = find(&value, "capacity_mean").and_then(as_number) {
                    let group = if done.p2p == P2pRole::None { "comparison" } else { "P2P" };
                    self.outcome.capacity.entry((done.round, group)).or_default().push(mean);
                }
            }
        }
        if status.current as usize != finalized.len() {
            self.outcome.problems.push(format!(
                "central holds {} current responses, the tablets finalized {}",
                status.current,
                finalized.len()
            ));
        }
        Ok(())
    }

    /// The researcher's export, as `central export` writes it.
    fn export(&mut self) -> Result<(), UserError> {
        let out = self.dir.join("export");
        self.bar.set_prefix("export");
        self.bar.set_message("CSV, Stata, SPSS, XLSX, JSON, codebook, panel");
        self.outcome.export =
            super::report::export(&self.central, &out, &self.dir.join("researcher.agekey"))?;
        self.say(&format!(
            "researcher's export: {} responses, {} tables, {} panel rows",
            self.outcome.export.responses,
            self.outcome.export.rows.len(),
            self.outcome.export.panel_rows
        ));
        Ok(())
    }
}

fn find<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(key).or_else(|| m.values().find_map(|x| find(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find(x, key)),
        _ => None,
    }
}

fn as_number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Makes `dir` empty, refusing to touch a non-empty folder the demo did not make.
fn prepare_dir(dir: &Path) -> Result<(), UserError> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !empty && !dir.join(MARKER).exists() {
            return Err(UserError(format!(
                "{} exists and was not made by `enumera demo`; choose another --dir",
                dir.display()
            )));
        }
        std::fs::remove_dir_all(dir).map_err(|e| err("clearing the old demo")(&e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| err("creating the demo folder")(&e))
}

impl Outcome {
    pub fn to_json(&self) -> Value {
        let mut per_round: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for d in &self.finalized {
            *per_round
                .entry(d.round.to_string())
                .or_default()
                .entry(d.district.to_string())
                .or_default() += 1;
        }
        let capacity: Vec<Value> = self
            .capacity
            .iter()
            .map(|((round, group), v)| {
                json!({"round": round, "group": group, "n": v.len(), "mean": mean(v)})
            })
            .collect();
        json!({
            "dir": self.dir,
            "seed": self.seed,
            "devices": self.devices,
            "participants": self.participants.len(),
            "finalized": self.finalized.len(),
            "finalized_per_round_district": per_round,
            "finalized_ids": self.finalized.iter().map(|d| &d.instance_id).collect::<Vec<_>>(),
            "finalized_sealed": self.finalized.iter().filter(|d| d.sealed).count(),
            "capacity_responses": self.finalized.iter()
                .filter(|d| d.form_id.starts_with("p2p_capacity"))
                .map(|d| json!({"participant": d.participant, "round": d.round, "instance_id": d.instance_id}))
                .collect::<Vec<_>>(),
            "drafts_left": self.drafts_left,
            "answers": self.answers,
            "corrected_answers": self.corrected,
            "repeat_instances": self.repeats,
            "killed_tablet": {
                "tablet": self.killed.tablet,
                "acknowledged": self.killed.acknowledged,
                "recovered": self.killed.recovered,
                "lost": self.killed.lost,
            },
            "bundles_ingested": self.bundles_ingested,
            "http_uploads": self.http_uploads,
            "duplicates_ignored": self.duplicates_ignored,
            "conflicts": self.conflicts,
            "central_responses": self.central_responses,
            "sealed_held": self.sealed_held,
            "sealed_opened": self.sealed_opened,
            "media": self.media.iter()
                .map(|m| json!({"instance_id": m.instance_id, "question": m.question, "file": m.file, "sha256": m.sha256, "size": m.size}))
                .collect::<Vec<_>>(),
            "at_central_more_than_once": self.at_central.values().filter(|&&n| n != 1).count(),
            "capacity": capacity,
            "export": {
                "files": self.export.files,
                "responses": self.export.responses,
                "rows": self.export.rows,
                "panel_rows": self.export.panel_rows,
                "media_files": self.export.media_files,
                "held_aside": self.export.report,
            },
            "review": {
                "returned": self.review.returned,
                "correction": self.review.correction,
                "comments_at_question": self.review.comments_at_question,
                "final_state": self.review.final_state,
                "edited_after_return": self.review.edited_after_return,
            },
            "problems": self.problems,
            "seconds": self.seconds,
        })
    }
}

pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 }
}

/// The tablet's recording of a key-informant interview and the informant's
/// consent signature, attached as an app would: through core's attach path.
fn attach_kii_media(
    fill: &mut Fill,
    store: &mut Store,
    seed: u64,
) -> Result<Vec<(&'static str, enumera_core::store::AttachmentInfo)>, UserError> {
    const AUDIO: &str = "/data/interview/recording/audio";
    const SIGNATURE: &str = "/data/interview/consent_signature";
    let signature =
        super::media::signature(seed).map_err(|e| UserError(format!("demo: signature: {e}")))?;
    let audio = super::media::recording(seed, 5);
    let mut done = Vec::new();
    for (question, name, bytes) in
        [(SIGNATURE, "signature.jpg", &signature), (AUDIO, "recording.wav", &audio)]
    {
        let info =
            fill.attach_bytes(store, question, name, bytes).map_err(|e| err(question)(&e))?;
        done.push((question, info));
    }
    Ok(done)
}
