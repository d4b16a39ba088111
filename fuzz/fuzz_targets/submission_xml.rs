#![no_main]

use enumera_tests::fuzzing::{run_guarded, submission_xml};

libfuzzer_sys::fuzz_target!(|data: &[u8]| run_guarded(submission_xml, data));
