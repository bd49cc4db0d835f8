//! Link with `guest.ld`: linked at 0x8010_0000 (the guest's RAM window, `PAGE_OFFSET`
//! 0x8000_0000), loaded at guest-physical 0x0010_0000 (`p_paddr`).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = std::path::Path::new(&dir).join("guest.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
}
