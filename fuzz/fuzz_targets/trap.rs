//! The MIPS vcpu's trap path against the isolation invariants: `vcpu_mips::fuzz::run`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vcpu_mips::fuzz::run(data));
