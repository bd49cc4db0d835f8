//! The e500 vcpu's trap path against the isolation invariants: `vcpu_e500::fuzz::run`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vcpu_e500::fuzz::run(data));
