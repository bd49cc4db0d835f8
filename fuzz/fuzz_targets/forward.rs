//! Frames, valid packets with fuzzed fields, time steps and neighbours into the forwarding
//! path: `forward::fuzzing::run`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| forward::fuzzing::run(data));
