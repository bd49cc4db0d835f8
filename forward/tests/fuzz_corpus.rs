//! Replays the kept fuzz inputs of the `forward` target (`fuzz/corpus/`, `fuzz/regressions/`)
//! through its body: an input that once made the body fail stays fixed.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn forward() {
    replay::replay("forward", forward::fuzzing::run);
}
