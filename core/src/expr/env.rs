//! What an evaluation needs from outside the document: the clock, the time
//! zone, randomness, uuids, the current language and the label hooks. It is
//! a trait so that tests and `form run --now/--seed` are deterministic.

use std::cell::Cell;
use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use super::doc::{Document, NodeId};

/// The outside world as expressions see it.
pub trait Env {
    /// The current instant (`now()`, `today()`).
    fn now(&self) -> DateTime<Utc>;

    /// The local time zone's offset at an instant. Dates without an offset
    /// are read in this zone. Default: UTC.
    fn utc_offset(&self, _at: DateTime<Utc>) -> FixedOffset {
        utc()
    }

    /// A number in [0, 1) for `random()` and the default `randomize()` seed.
    fn random(&self) -> f64;

    /// A fresh version-4 uuid string for `uuid()`.
    fn uuid(&self) -> String;

    /// The active form language, as named in the form (`English (en)`).
    fn language(&self) -> Option<&str> {
        None
    }

    /// `jr:itext(id)`: the text of translation `id` in the active language.
    fn itext(&self, _id: &str) -> Option<String> {
        None
    }

    /// `jr:choice-name(value, path)`: the label of choice `value` of the select
    /// question at `node`, in the active language. `None` lets the evaluator
    /// return the value itself's fallback ("").
    fn choice_label(&self, _doc: &dyn Document, _node: NodeId, _value: &str) -> Option<String> {
        None
    }

    /// Milliseconds on a clock that never goes back (the audit log's
    /// durations: a device whose wall clock is corrected mid-interview
    /// still measures how long a question took). Default: the wall clock.
    fn monotonic_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Moves a test clock on by `ms` (wall and monotonic together); false
    /// for a real clock, which only time moves.
    fn advance(&self, _ms: i64) -> bool {
        false
    }
}

/// The local offset for a wall-clock time without an offset.
pub(crate) fn local_offset_for_naive(env: &dyn Env, naive: NaiveDateTime) -> FixedOffset {
    // Guessing the instant as UTC first and correcting once is exact except
    // within an hour of a DST change, where it is one of the two readings.
    let guess = env.utc_offset(Utc.from_utc_datetime(&naive));
    let instant = naive - guess;
    env.utc_offset(Utc.from_utc_datetime(&instant))
}

/// A deterministic environment: a fixed clock and offset, a seeded random
/// sequence, counted uuids, and maps for labels. `form run --now/--seed` and
/// tests use it.
#[derive(Debug, Clone)]
pub struct FixedEnv {
    pub now: DateTime<Utc>,
    pub offset: FixedOffset,
    pub language: Option<String>,
    /// itext id -> text, for the active language.
    pub itext: HashMap<String, String>,
    rng: Cell<u64>,
    uuids: Cell<u64>,
    /// How far [`Env::advance`] moved the clock on from `now`.
    elapsed_ms: Cell<i64>,
}

impl FixedEnv {
    /// A fixed clock at `now` in UTC, random seeded with `seed`.
    pub fn new(now: DateTime<Utc>, seed: u64) -> FixedEnv {
        FixedEnv {
            now,
            offset: utc(),
            language: None,
            itext: HashMap::new(),
            rng: Cell::new(seed),
            uuids: Cell::new(0),
            elapsed_ms: Cell::new(0),
        }
    }

    /// Reads the clock in another zone (`offset_seconds` east of UTC).
    pub fn with_offset(mut self, offset_seconds: i32) -> FixedEnv {
        if let Some(o) = FixedOffset::east_opt(offset_seconds) {
            self.offset = o;
        }
        self
    }
}

impl Default for FixedEnv {
    /// 2024-01-15T10:30:00Z, seed 1: the same clock the ODK harness freezes.
    fn default() -> Self {
        let now = Utc.with_ymd_and_hms(2024, 1, 15, 10, 30, 0).single().unwrap_or_default();
        FixedEnv::new(now, 1)
    }
}

impl Env for FixedEnv {
    fn now(&self) -> DateTime<Utc> {
        self.now + chrono::Duration::milliseconds(self.elapsed_ms.get())
    }

    fn monotonic_ms(&self) -> i64 {
        self.elapsed_ms.get()
    }

    fn advance(&self, ms: i64) -> bool {
        self.elapsed_ms.set(self.elapsed_ms.get().saturating_add(ms.max(0)));
        true
    }

    fn utc_offset(&self, _at: DateTime<Utc>) -> FixedOffset {
        self.offset
    }

    fn random(&self) -> f64 {
        // splitmix64: tiny, good enough spread for survey sampling.
        let s = self.rng.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.rng.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uuid(&self) -> String {
        let n = self.uuids.get() + 1;
        self.uuids.set(n);
        format!("00000000-0000-4000-8000-{n:012x}")
    }

    fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    fn itext(&self, id: &str) -> Option<String> {
        self.itext.get(id).cloned()
    }
}

/// The real clock (in UTC unless an offset is given), real randomness and
/// real uuids.
#[derive(Debug, Clone, Default)]
pub struct SystemEnv {
    pub offset_seconds: i32,
    pub language: Option<String>,
}

impl Env for SystemEnv {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn utc_offset(&self, _at: DateTime<Utc>) -> FixedOffset {
        FixedOffset::east_opt(self.offset_seconds).unwrap_or_else(utc)
    }

    fn random(&self) -> f64 {
        // uuid v4 draws from the OS generator; 53 of its bits make a double.
        let bits = uuid::Uuid::new_v4().as_u128() as u64;
        (bits >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uuid(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn monotonic_ms(&self) -> i64 {
        // One origin per process: every session's durations on one scale.
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let origin = ORIGIN.get_or_init(std::time::Instant::now);
        i64::try_from(origin.elapsed().as_millis()).unwrap_or(i64::MAX)
    }
}

/// The UTC offset as a [`FixedOffset`].
pub(crate) fn utc() -> FixedOffset {
    chrono::Offset::fix(&Utc)
}
