//! Fuzz the vcpu's trap path: arbitrary virtual CP0 state, registers, instruction words and trap
//! causes. The body lives in the crate (`vcpu_mips::fuzz::run`) so `cargo test` runs it too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vcpu_mips::fuzz::run(data);
});
