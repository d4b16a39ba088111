#![no_main]

use enumera_tests::fuzzing::{receipt_read, run_guarded};

libfuzzer_sys::fuzz_target!(|data: &[u8]| run_guarded(receipt_read, data));
