//! A ZMODEM receiver fed a hostile sender's bytes in arbitrary chunks: `zmodem::fuzz::receiver`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    zmodem::fuzz::receiver(data);
});
