//! Writes seed inputs for the fuzz targets into the workspace's `fuzz/corpus/<target>/`
//! (`./x fuzz` then keeps what adds coverage).
//!
//! `cargo run -p guest-loader --features std --example fuzz-seeds`

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for target in ["elf", "archive", "tar_stream", "store"] {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for (i, seed) in guest_loader::fuzz::samples::seeds(target)
            .iter()
            .enumerate()
        {
            std::fs::write(dir.join(format!("seed-{i}")), seed)?;
        }
        println!("{}: seeds written to {}", target, dir.display());
    }
    Ok(())
}
