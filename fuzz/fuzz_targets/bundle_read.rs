#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| enumera_tests::fuzzing::bundle_read(data));
