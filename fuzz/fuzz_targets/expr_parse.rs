#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enumera_tests::fuzzing::expr_parse(data));
