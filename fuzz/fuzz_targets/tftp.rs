//! Datagrams, time steps and an abort into a TFTP download or upload: `tftp::fuzzing::run`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tftp::fuzzing::run(data));
