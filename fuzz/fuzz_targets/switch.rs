//! Switch configuration changes and frames against the isolation rules: `vswitch::fuzzing::run`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vswitch::fuzzing::run(data));
