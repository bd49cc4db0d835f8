//! Arbitrary configuration changes and frames against the switch; the body
//! (`vswitch::fuzzing::run`) checks the isolation rules on every decision.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vswitch::fuzzing::run(data);
});
