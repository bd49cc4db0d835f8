//! FIB update sequences against the reference: `cargo +nightly fuzz run fib_updates`.
//! The body is `routing::fuzzing::fib_update_sequence`, which `cargo test -p routing` also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    routing::fuzzing::fib_update_sequence(data);
});
