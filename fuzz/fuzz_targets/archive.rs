//! Compressed import archives, whole and in pieces: `guest_loader::fuzz::archive`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| guest_loader::fuzz::archive(data));
