//! One conformance suite for every central store (issue 19): the same test
//! bodies, instantiated for SQLite and for PostgreSQL (as matrix-rust-sdk
//! runs one suite over its state stores). On PostgreSQL each scenario also
//! runs on SQLite with the same bundles, and the two canonical dumps (and
//! the scenario's answers) must be equal.
//!
//! PostgreSQL comes from `ENUMERA_TEST_POSTGRES` (a throwaway cluster that
//! scripts/test.sh starts with scripts/postgres-cluster.sh); without it those tests say so and
//! pass, unless `ENUMERA_REQUIRE_POSTGRES=1`.

// Test code: a failed expectation is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;

mod assignments;
mod concurrency;
mod form_media;
mod ingest;
mod operations;
mod review;
mod rules;
mod stores;
mod uploads;

mod suite {
    pub use super::assignments::*;
    pub use super::concurrency::*;
    pub use super::form_media::*;
    pub use super::ingest::*;
    pub use super::operations::*;
    pub use super::review::*;
    pub use super::rules::*;
    pub use super::uploads::*;
}

/// Instantiates every named test body once per store.
macro_rules! conformance_suite {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $test() {
                if let Some(b) = super::stores::Backend::sqlite() { super::suite::$test(&b) }
            })*
        }
        mod postgres {
            $(#[test] fn $test() {
                if let Some(b) = super::stores::Backend::postgres() { super::suite::$test(&b) }
            })*
        }
    };
}

conformance_suite!(
    an_empty_central_has_a_key_and_refuses_a_second_init,
    the_same_bundle_twice_is_held_once_in_any_order,
    receipts_gaps_and_forks_follow_what_is_held,
    a_tampered_or_forged_bundle_stores_nothing,
    enrolled_devices_only_once_enrolment_is_used,
    sealed_responses_are_held_unread,
    another_device_cannot_replace_a_response_in_any_order,
    an_instance_id_claimed_by_two_devices_is_exported_for_neither,
    edits_wait_for_their_version_and_a_second_edit_is_a_conflict,
    a_device_central_authorised_may_replace,
    plaintext_for_a_sealed_form_is_held_aside,
    the_database_refuses_what_the_rules_forbid,
    export_writes_the_same_files,
    tokens_are_kept_hashed_and_revoked,
    rosters_are_checked_named_and_replaced,
    publishing_is_refused_for_other_content_and_unpublish_keeps_the_form,
    quotas_refuse_a_bundle_whole,
    a_database_newer_than_this_build_is_left_untouched,
    a_backup_restores_to_the_same_central,
    connections_ingesting_at_once_converge,
    a_quota_holds_across_connections_ingesting_at_once,
    review_returns_and_corrections_agree,
    assignments_reach_only_their_devices_and_count_progress,
    large_media_export_byte_for_byte,
    form_media_are_published_listed_and_fixed_per_version,
    uploads_in_parts_are_staged_joined_and_expired,
    a_large_sealed_conflict_is_kept_whole,
);
