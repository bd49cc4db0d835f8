//! Link with the shared guest linker script: `sdk/guest.ld` (MIPS, image at 0xC010_0000) or
//! `sdk/guest-e500.ld` (PowerPC e500, image at 0x8010_0000, placed at guest-physical
//! 0x0010_0000). The `qemu-malta` test build enters at the kseg0 alias of the boot stub instead.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let script_name = if arch == "powerpc" {
        "../sdk/guest-e500.ld"
    } else {
        "../sdk/guest.ld"
    };
    let script = std::path::Path::new(&dir).join(script_name);
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    // One 4 KiB-aligned segment instead of 64 KiB of file padding.
    println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
    if std::env::var_os("CARGO_FEATURE_QEMU_MALTA").is_some() {
        println!("cargo:rustc-link-arg-bins=--defsym=__mr_qemu_entry=__mr_qemu_boot-0x40000000");
        println!("cargo:rustc-link-arg-bins=-e__mr_qemu_entry");
    }
}
