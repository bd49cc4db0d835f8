//! RIB change sequences against the RIB's invariants: `routing::fuzzing::rib_change_sequence`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| routing::fuzzing::rib_change_sequence(data));
