//! Replays the kept fuzz inputs of the `filestore_ops` and `filestore_image` targets
//! (`fuzz/corpus/`, `fuzz/regressions/`) through their bodies: an input that once made a body
//! fail stays fixed.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn filestore_ops() {
    replay::replay("filestore_ops", filestore::fuzz::operations);
}

#[test]
fn filestore_image() {
    replay::replay("filestore_image", filestore::fuzz::image);
}
