//! Link with the shared guest linker script (`sdk/guest.ld`): image at 0xC010_0000.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = std::path::Path::new(&dir).join("../sdk/guest.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    // One 4 KiB-aligned segment instead of 64 KiB of file padding.
    println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
}
