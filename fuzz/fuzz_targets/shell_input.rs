//! Console input to the management CLI (interpreter, then shell): `sim::fuzz::shell_input`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sim::fuzz::shell_input(data));
