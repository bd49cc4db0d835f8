//! Replays the kept fuzz inputs of the `hostip` target (`fuzz/corpus/`, `fuzz/regressions/`)
//! through its body: an input that once made the body fail stays fixed.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn hostip() {
    replay::replay("hostip", hostip::fuzzing::run);
}

/// The replay is not vacuous: a body that fails on every input fails it.
#[test]
#[should_panic(expected = "inputs made the body panic")]
fn a_failing_body_fails_the_replay() {
    replay::replay("hostip", |_| panic!("failing on purpose"));
}
