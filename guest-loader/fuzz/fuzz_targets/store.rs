//! cargo-fuzz target: the body is `guest_loader::fuzz::store`, which `cargo test` also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| guest_loader::fuzz::store(data));
