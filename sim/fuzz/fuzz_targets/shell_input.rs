//! Fuzz target: console input to the management shell (parser, interpreter, line editor,
//! attach, confirmations). The body is `sim::fuzz::shell_input`, also run by `cargo test`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sim::fuzz::shell_input(data);
});
