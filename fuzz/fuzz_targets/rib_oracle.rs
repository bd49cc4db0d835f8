//! The incremental RIB against the full-recomputation RIB on RIB change sequences:
//! `routing::fuzzing::rib_oracle_sequence` (which `cargo test -p routing` also runs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| routing::fuzzing::rib_oracle_sequence(data));
