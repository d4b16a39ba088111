#![no_main]

use enumera_tests::fuzzing::{run_guarded, xlsx_limits};

libfuzzer_sys::fuzz_target!(|data: &[u8]| run_guarded(xlsx_limits, data));
