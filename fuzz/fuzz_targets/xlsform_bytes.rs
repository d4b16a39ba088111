#![no_main]

use enumera_tests::fuzzing::{run_guarded, xlsform_bytes};

libfuzzer_sys::fuzz_target!(|data: &[u8]| run_guarded(xlsform_bytes, data));
