//! RIB change sequences against the RIB's invariants: `cargo +nightly fuzz run rib_changes`.
//! The body is `routing::fuzzing::rib_change_sequence`, which `cargo test -p routing` also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    routing::fuzzing::rib_change_sequence(data);
});
