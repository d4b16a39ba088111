//! Per-device quotas (issue 15, finding 13): how much one device may hand
//! central, so that a stolen tablet or a malicious enumerator with a valid
//! key can fill neither the disk nor the researchers' exports, nor hold the
//! database for seconds with one bundle. Checked inside the ingest's own
//! transaction, against what the database holds (entries and bundles
//! received in the last 24 hours), so concurrent ingests cannot overshoot.

/// Limits on what one device delivers. `0` means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Responses one bundle may carry (a device's sync sends at most 1,000
    /// a bundle). Over it: HTTP 413 `too_many_responses`; the device sends
    /// smaller bundles.
    pub responses_per_bundle: u64,
    /// New responses one device may deliver in any 24 hours. Over it:
    /// HTTP 429 `quota_exceeded`; the rest waits on the device.
    pub responses_per_day: u64,
    /// Bytes of new submissions and attachments one device may deliver in
    /// any 24 hours. Over it: as above.
    pub bytes_per_day: u64,
}

impl Quotas {
    /// No limits (tests, and an operator importing a backlog by hand with
    /// every flag at 0).
    pub const UNLIMITED: Quotas =
        Quotas { responses_per_bundle: 0, responses_per_day: 0, bytes_per_day: 0 };

    /// The defaults: a month offline with photos and audio fits in a few
    /// days' quota; a junk flood stops within a day's.
    pub const DEFAULT: Quotas =
        Quotas { responses_per_bundle: 2_000, responses_per_day: 10_000, bytes_per_day: 4 << 30 };
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas::DEFAULT
    }
}

/// Which quota a bundle would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaKind {
    ResponsesPerBundle,
    ResponsesPerDay,
    BytesPerDay,
}

impl std::fmt::Display for QuotaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            QuotaKind::ResponsesPerBundle => "responses in one bundle",
            QuotaKind::ResponsesPerDay => "new responses in 24 hours",
            QuotaKind::BytesPerDay => "bytes of new responses in 24 hours",
        })
    }
}

/// `limit` of 0 is no limit.
pub(crate) fn over(limit: u64, used: u64) -> bool {
    limit > 0 && used > limit
}
