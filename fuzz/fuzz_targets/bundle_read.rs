#![no_main]

use enumera_tests::fuzzing::{bundle_read, run_guarded};

libfuzzer_sys::fuzz_target!(|data: &[u8]| run_guarded(bundle_read, data));
