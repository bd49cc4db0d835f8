//! Replays the kept fuzz inputs of the `tftp` target (`fuzz/corpus/`, `fuzz/regressions/`)
//! through its body.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn tftp() {
    replay::replay("tftp", tftp::fuzzing::run);
}

/// The replay is not vacuous: a body that fails on every input fails it.
#[test]
#[should_panic(expected = "inputs made the body panic")]
fn a_failing_body_fails_the_replay() {
    replay::replay("tftp", |_| panic!("failing on purpose"));
}
