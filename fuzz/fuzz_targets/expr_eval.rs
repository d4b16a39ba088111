#![no_main]

use enumera_tests::fuzzing::{expr_eval, run_guarded};

libfuzzer_sys::fuzz_target!(|data: &[u8]| run_guarded(expr_eval, data));
