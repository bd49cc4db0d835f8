//! Replays a fuzz target's kept inputs through its body, for `cargo test`: every file in
//! `fuzz/corpus/<target>/` (minimised by `./x fuzz`) and in `fuzz/regressions/<target>/` (inputs
//! that once made a body fail, kept as they are). Each fuzzed crate includes this file by path
//! from its `tests/fuzz_corpus.rs`, so the replay needs no fuzzer and no extra crate.

use std::path::{Path, PathBuf};

/// The kept inputs of `target`, sorted by path.
pub fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        files.extend(
            entries
                .map(|e| e.expect("readable corpus directory").path())
                .filter(|p| p.is_file()),
        );
    }
    files.sort();
    files
}

/// Runs `body` on every kept input of `target`. Panics, naming the files, if the body panicked
/// on any of them, or if `target` has no kept input at all. Returns how many inputs ran.
pub fn replay(target: &str, body: fn(&[u8])) -> usize {
    let files = inputs(target);
    assert!(
        !files.is_empty(),
        "no corpus for fuzz target `{target}` in fuzz/corpus/{target}/"
    );
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("readable corpus file");
            std::panic::catch_unwind(|| body(&data)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} `{target}` inputs made the body panic:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
    println!("{target}: {} kept inputs replayed", files.len());
    files.len()
}
