//! The file store's parser and encoder: `guest_loader::fuzz::store`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| guest_loader::fuzz::store(data));
