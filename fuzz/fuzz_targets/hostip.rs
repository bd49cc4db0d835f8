//! Frames, time steps and pings into the host's IP endpoint: `hostip::fuzzing::run`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hostip::fuzzing::run(data));
