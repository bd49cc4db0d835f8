//! Replays the kept fuzz inputs of the FIB and RIB targets (`fuzz/corpus/`, `fuzz/regressions/`) through
//! their bodies: an input that once made a body fail stays fixed.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn fib_updates() {
    replay::replay("fib_updates", routing::fuzzing::fib_update_sequence);
}

#[test]
fn rib_changes() {
    replay::replay("rib_changes", routing::fuzzing::rib_change_sequence);
}

#[test]
fn rib_oracle() {
    replay::replay("rib_oracle", routing::fuzzing::rib_oracle_sequence);
}
