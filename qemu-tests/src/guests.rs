//! Building the sample guests (`guests/`, a separate cargo workspace of guest kernels) and
//! packing each one as a MetaROUTER import archive: a gzip'd tar holding `./kernel`. The MIPS
//! builds are `<name>.tgz`; the SDK samples built for the PowerPC e500 are `<name>-ppc.tgz`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::toolchain::CrossToolchain;
use crate::workspace_root;

/// The sample guests.
pub const NAMES: [&str; 4] = ["hello", "netguest", "attacker", "bare"];

/// The SDK samples that are also built for the PowerPC e500.
pub const E500_NAMES: [&str; 3] = ["hello", "netguest", "attacker"];

/// The e500 build's target specification (relative to the workspace root).
const E500_TARGET: &str = "targets/powerpc-e500v2-none.json";

/// Built guests: ELF kernels and their import archives.
#[derive(Clone, Debug)]
pub struct Guests {
    pub dir: PathBuf,
}

impl Guests {
    /// The kernel ELF of guest `name`.
    pub fn elf(&self, name: &str) -> PathBuf {
        self.dir.join("mips-mti-none-elf/release").join(name)
    }

    /// The import archive of guest `name` (`<name>.tgz`).
    pub fn archive(&self, name: &str) -> PathBuf {
        self.dir.join("archives").join(format!("{name}.tgz"))
    }

    /// The PowerPC e500 kernel ELF of SDK sample `name`.
    pub fn e500_elf(&self, name: &str) -> PathBuf {
        self.dir.join("powerpc-e500v2-none/release").join(name)
    }

    /// The import archive of the e500 build of `name` (`<name>-ppc.tgz`).
    pub fn e500_archive(&self, name: &str) -> PathBuf {
        self.dir.join("archives").join(format!("{name}-ppc.tgz"))
    }
}

/// Run the cross toolchain's cargo on the guest workspace `manifest` for `target` (with
/// `extra` arguments), output in `dir`; `what` names the build in an error.
fn cargo_build(
    manifest: &str,
    target: &[&str],
    extra: &[&str],
    dir: &Path,
    quiet: bool,
    what: &str,
) -> Result<(), String> {
    let tc = CrossToolchain::find()?;
    let mut cmd = tc.cargo();
    cmd.current_dir(workspace_root())
        .args([
            "build",
            "--manifest-path",
            manifest,
            "--release",
            "--target",
        ])
        .args(target)
        .args(["-Zbuild-std-features=compiler-builtins-mem"])
        .args(extra)
        .arg("--target-dir")
        .arg(dir);
    if quiet {
        cmd.arg("--quiet");
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", tc.cargo.display()))?;
    if !status.success() {
        return Err(format!("building {what} failed ({status})"));
    }
    Ok(())
}

/// `build()` at most once per process (`cell` is the caller's).
fn once<T: Clone>(
    cell: &'static OnceLock<Mutex<Option<T>>>,
    build: impl FnOnce() -> Result<T, String>,
) -> Result<T, String> {
    let mut built = cell
        .get_or_init(|| Mutex::new(None))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(done) = built.as_ref() {
        return Ok(done.clone());
    }
    let done = build()?;
    *built = Some(done.clone());
    Ok(done)
}

/// Build the SDK samples of [`E500_NAMES`] for the PowerPC e500 and pack their archives
/// (`<name>-ppc.tgz`). `quiet` hides cargo's progress.
pub fn build_e500_sdk(quiet: bool) -> Result<Guests, String> {
    let dir = workspace_root().join("target/guests");
    let packages: Vec<&str> = E500_NAMES.iter().flat_map(|n| ["--package", n]).collect();
    let mut extra = vec!["-Zbuild-std=core,alloc"];
    extra.extend(packages);
    cargo_build(
        "guests/Cargo.toml",
        &[E500_TARGET, "-Zjson-target-spec"],
        &extra,
        &dir,
        quiet,
        "the e500 guests",
    )?;
    let guests = Guests { dir };
    std::fs::create_dir_all(guests.dir.join("archives")).map_err(|e| e.to_string())?;
    for name in E500_NAMES {
        pack(&guests.e500_elf(name), &guests.e500_archive(name))?;
    }
    Ok(guests)
}

/// [`build_e500_sdk`] at most once per process.
pub fn build_e500_sdk_once() -> Result<Guests, String> {
    static BUILT: OnceLock<Mutex<Option<Guests>>> = OnceLock::new();
    once(&BUILT, || build_e500_sdk(true))
}

/// Build every guest and pack its archive. `quiet` hides cargo's progress.
pub fn build(quiet: bool) -> Result<Guests, String> {
    let dir = workspace_root().join("target/guests");
    cargo_build(
        "guests/Cargo.toml",
        &["mips-mti-none-elf"],
        &["-Zbuild-std=core,alloc"],
        &dir,
        quiet,
        "the guests",
    )?;
    let guests = Guests { dir };
    std::fs::create_dir_all(guests.dir.join("archives")).map_err(|e| e.to_string())?;
    for name in NAMES {
        pack(&guests.elf(name), &guests.archive(name))?;
    }
    Ok(guests)
}

/// Build the guests at most once per process.
pub fn build_once() -> Result<Guests, String> {
    static BUILT: OnceLock<Mutex<Option<Guests>>> = OnceLock::new();
    once(&BUILT, || build(true))
}

/// Write a MetaROUTER import archive with `kernel` as `./kernel`, like the archives
/// MetaROUTER's own images are.
pub fn pack(kernel: &Path, archive: &Path) -> Result<(), String> {
    let bytes = std::fs::read(kernel).map_err(|e| format!("{}: {e}", kernel.display()))?;
    // Unique per call, not only per process: tests of one binary run in threads, and two of
    // them may pack the same archive at once (each renames its own whole file into place).
    static PACKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = PACKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = archive.with_extension(format!("tmp{}-{n}", std::process::id()));
    let file = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o755);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, "./kernel", bytes.as_slice())
        .map_err(|e| e.to_string())?;
    let gz = tar.into_inner().map_err(|e| e.to_string())?;
    gz.finish().map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, archive).map_err(|e| format!("{}: {e}", archive.display()))
}

/// The PowerPC (e500v2) sample guest `guests/hello-e500` (its own workspace): build it and
/// return its kernel ELF. `quiet` hides cargo's progress.
pub fn build_e500(quiet: bool) -> Result<PathBuf, String> {
    let dir = workspace_root().join("target/guests-e500");
    cargo_build(
        "guests/hello-e500/Cargo.toml",
        &[E500_TARGET, "-Zjson-target-spec"],
        &["-Zbuild-std=core"],
        &dir,
        quiet,
        "hello-e500",
    )?;
    Ok(dir.join("powerpc-e500v2-none/release/hello-e500"))
}

/// [`build_e500`] at most once per process, packed as an import archive
/// (`hello-e500.tgz`); returns the archive.
pub fn build_e500_once() -> Result<PathBuf, String> {
    static BUILT: OnceLock<Mutex<Option<PathBuf>>> = OnceLock::new();
    once(&BUILT, || {
        let elf = build_e500(true)?;
        let dir = elf
            .ancestors()
            .nth(3)
            .ok_or("unexpected guest output path")?
            .join("archives");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let archive = dir.join("hello-e500.tgz");
        pack(&elf, &archive)?;
        Ok(archive)
    })
}
