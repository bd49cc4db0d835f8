//! Links the built-in guest into the image: the ELF named by `HV_BUILTIN_GUEST` (set by
//! `./x build` to the guest SDK's `hello`), or nothing when it is unset.
fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("builtin-guest.elf");
    println!("cargo:rerun-if-env-changed=HV_BUILTIN_GUEST");
    let bytes = match std::env::var("HV_BUILTIN_GUEST") {
        Ok(path) if !path.is_empty() => {
            println!("cargo:rerun-if-changed={path}");
            std::fs::read(&path).unwrap_or_else(|e| panic!("HV_BUILTIN_GUEST={path}: {e}"))
        }
        _ => Vec::new(),
    };
    std::fs::write(&out, bytes).unwrap();
}
