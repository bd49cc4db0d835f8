//! Replays the kept fuzz inputs of the `switch` target (`fuzz/corpus/`, `fuzz/regressions/`) through
//! their bodies: an input that once made a body fail stays fixed.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn switch() {
    replay::replay("switch", vswitch::fuzzing::run);
}

/// The replay is not vacuous: a body that fails on every input fails it.
#[test]
#[should_panic(expected = "inputs made the body panic")]
fn a_failing_body_fails_the_replay() {
    replay::replay("switch", |_| panic!("failing on purpose"));
}
