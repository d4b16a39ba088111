#![no_main]

use enumera_tests::fuzzing::{run_guarded, session_steps};

libfuzzer_sys::fuzz_target!(|data: &[u8]| run_guarded(session_steps, data));
