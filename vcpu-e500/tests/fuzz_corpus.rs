//! Replays the kept fuzz inputs of the `trap_e500` target (`fuzz/corpus/`, `fuzz/regressions/`)
//! through their body: an input that once made the body fail stays fixed.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn trap_e500() {
    replay::replay("trap_e500", vcpu_e500::fuzz::run);
}
