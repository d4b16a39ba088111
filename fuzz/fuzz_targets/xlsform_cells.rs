#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enumera_tests::fuzzing::xlsform_cells(data));
