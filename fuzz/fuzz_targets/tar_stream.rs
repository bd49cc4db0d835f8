//! Tar streams inside a valid gzip container: `guest_loader::fuzz::tar_stream`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| guest_loader::fuzz::tar_stream(data));
