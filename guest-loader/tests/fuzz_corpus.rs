//! Replays the kept fuzz inputs of the image targets (ELF, archive, tar stream, file store) (`fuzz/corpus/`, `fuzz/regressions/`) through
//! their bodies: an input that once made a body fail stays fixed.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn elf() {
    replay::replay("elf", guest_loader::fuzz::elf);
}

#[test]
fn archive() {
    replay::replay("archive", guest_loader::fuzz::archive);
}

#[test]
fn tar_stream() {
    replay::replay("tar_stream", guest_loader::fuzz::tar_stream);
}

#[test]
fn store() {
    replay::replay("store", guest_loader::fuzz::store);
}
