//! ELF images (validation, one-shot and streamed loading agree): `guest_loader::fuzz::elf`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| guest_loader::fuzz::elf(data));
