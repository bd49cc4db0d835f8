//! Replays the kept fuzz inputs of the `devices` target (`fuzz/corpus/`, `fuzz/regressions/`) through
//! their bodies: an input that once made a body fail stays fixed.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn devices() {
    replay::replay("devices", |data| {
        vdevices::fuzzing::run(data);
    });
}
