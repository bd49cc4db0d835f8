//! Build-script helper for board crates: link with the shared `sections.ld` and the board's own
//! `memory.ld` (in the board crate's directory).
//!
//! A board's `build.rs` is one line: `fn main() { board_link::configure(); }`.

use std::path::PathBuf;

/// Emit the cargo directives that link the calling board crate's binaries.
pub fn configure() {
    let board_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("run from a build script"));
    let memory = board_dir.join("memory.ld");
    assert!(
        memory.exists(),
        "{} is missing: every board describes its memory there",
        memory.display()
    );
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    println!("cargo:rustc-link-search={}", board_dir.display());
    println!("cargo:rustc-link-search={}", shared.display());
    println!("cargo:rustc-link-arg-bins=-Tsections.ld");
    println!("cargo:rerun-if-changed={}", memory.display());
    println!(
        "cargo:rerun-if-changed={}",
        shared.join("sections.ld").display()
    );
}
