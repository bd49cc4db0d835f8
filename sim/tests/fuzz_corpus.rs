//! Replays the kept fuzz inputs of the `shell_input` target (`fuzz/corpus/`, `fuzz/regressions/`) through
//! their bodies: an input that once made a body fail stays fixed.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn shell_input() {
    replay::replay("shell_input", sim::fuzz::shell_input);
}
