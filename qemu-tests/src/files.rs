//! The file store handed to QEMU (`./x run --file`): files packed in the `guest_loader::store`
//! format, which the hypervisor lists in `/file print` and imports images from.

use std::path::{Path, PathBuf};

use guest_loader::store::StoreBuilder;

/// Pack `files` (stored under their base names) into a store blob at `out`.
pub fn build_store(files: &[PathBuf], out: &Path) -> Result<(), String> {
    let mut builder = StoreBuilder::new();
    for f in files {
        builder
            .add_file(f)
            .map_err(|e| format!("{}: {e}", f.display()))?;
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(out, builder.build()).map_err(|e| format!("{}: {e}", out.display()))
}
