//! A YMODEM receiver fed a hostile sender's bytes in arbitrary chunks, the clock jumping:
//! `zmodem::fuzz::ymodem_receiver`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    zmodem::fuzz::ymodem_receiver(data);
});
