//! Replays the kept fuzz inputs of the `trap` target (`fuzz/corpus/`, `fuzz/regressions/`) through
//! their bodies: an input that once made a body fail stays fixed.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn trap() {
    replay::replay("trap", vcpu_mips::fuzz::run);
}
