//! FIB update sequences against the reference LPM: `routing::fuzzing::fib_update_sequence`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| routing::fuzzing::fib_update_sequence(data));
