//! Building a board's hypervisor image.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::boards::{Arch, Board};
use crate::toolchain::CrossToolchain;
use crate::workspace_root;

/// The cargo profile images are built with (see the workspace Cargo.toml).
pub const PROFILE: &str = "firmware";

/// What the image profile says of the standard library's packages, which exist in cross
/// builds only (`-Zbuild-std`): in the workspace Cargo.toml, host builds would warn that the
/// entry matches no package. `compiler_builtins` holds `memcpy` and friends (every frame is
/// copied once), and the 64-bit division the 32-bit CPUs do in software.
pub const BUILD_STD_PROFILE: &str = "profile.firmware.package.compiler_builtins.opt-level=3";

/// A built image.
#[derive(Clone, Debug)]
pub struct Image {
    pub board: Board,
    /// The linked ELF with symbols and debug information (for debugging, `addr2line`).
    pub elf: PathBuf,
    /// The stripped ELF that QEMU and RouterBOOT load.
    pub image: PathBuf,
}

/// Where cross builds keep their artifacts (apart from host builds: another toolchain).
pub fn cross_target_dir() -> PathBuf {
    workspace_root().join("target/cross")
}

/// Cross-build the hypervisor for `board` and write its stripped image. `quiet` hides cargo's
/// progress output (errors are still shown).
pub fn build(board: Board, quiet: bool) -> Result<Image, String> {
    let tc = CrossToolchain::find()?;
    let root = workspace_root();
    let mut cmd = tc.cargo();
    cmd.current_dir(&root)
        .args([
            "build",
            "--package",
            &board.package(),
            "--bin",
            &board.binary(),
        ])
        .args(["--target", board.arch().target(), "--profile", PROFILE])
        .args([
            "-Zbuild-std=core,alloc",
            "-Zbuild-std-features=compiler-builtins-mem",
        ])
        .args(["--config", BUILD_STD_PROFILE])
        .arg("--target-dir")
        .arg(cross_target_dir());
    match board.arch() {
        Arch::PowerPc => {
            cmd.arg("-Zjson-target-spec");
            // PowerPC images carry `hello-e500`, booted when no image was imported.
            cmd.env("HV_BUILTIN_GUEST", crate::guests::build_e500(quiet)?);
        }
        Arch::Mips => {
            // MIPS images carry the `hello` guest, booted when no image was imported.
            let guests = crate::guests::build(quiet)?;
            cmd.env("HV_BUILTIN_GUEST", guests.elf("hello"));
        }
    }
    if quiet {
        cmd.arg("--quiet");
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", tc.cargo.display()))?;
    if !status.success() {
        return Err(format!("building {board} failed ({status})"));
    }
    let elf = cross_target_dir()
        .join(board.arch().target_dir_name())
        .join(PROFILE)
        .join(board.binary());
    let out_dir = root.join("target/images").join(board.name());
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let image = out_dir.join("hypervisor.elf");
    let tmp = out_dir.join(format!("hypervisor.elf.tmp{}", std::process::id()));
    let status = Command::new("llvm-objcopy")
        .arg("--strip-all")
        .arg(&elf)
        .arg(&tmp)
        .status()
        .map_err(|e| format!("cannot run llvm-objcopy (package llvm): {e}"))?;
    if !status.success() {
        return Err(format!("llvm-objcopy failed on {}", elf.display()));
    }
    std::fs::rename(&tmp, &image).map_err(|e| format!("{}: {e}", image.display()))?;
    Ok(Image { board, elf, image })
}

/// Build each board at most once per process (tests share images).
pub fn build_once(board: Board) -> Result<Image, String> {
    static BUILT: OnceLock<Mutex<Vec<Image>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(image) = built.iter().find(|i| i.board == board) {
        return Ok(image.clone());
    }
    let image = build(board, true)?;
    built.push(image.clone());
    Ok(image)
}

/// Sizes of an image's loaded sections, summed by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SectionSizes {
    /// Code and read-only data (everything allocated and not writable).
    pub text: u64,
    /// Initialised writable data.
    pub data: u64,
    /// Zero-initialised data: .bss, plus the stacks and heap the linker script reserves.
    pub bss: u64,
}

/// Read the section sizes of a big-endian ELF32 file.
pub fn section_sizes(elf: &[u8]) -> Result<SectionSizes, String> {
    let be16 = |o: usize| elf.get(o..o + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let be32 = |o: usize| {
        elf.get(o..o + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    if elf.get(0..6) != Some(&[0x7F, b'E', b'L', b'F', 1, 2][..]) {
        return Err("not a big-endian ELF32 file".into());
    }
    let shoff = be32(0x20).ok_or("truncated header")? as usize;
    let shentsize = be16(0x2E).ok_or("truncated header")? as usize;
    let shnum = be16(0x30).ok_or("truncated header")? as usize;
    let mut sizes = SectionSizes::default();
    for i in 0..shnum {
        let sh = shoff + i * shentsize;
        let kind = be32(sh + 4).ok_or("truncated section header")?;
        let flags = be32(sh + 8).ok_or("truncated section header")?;
        let size = u64::from(be32(sh + 20).ok_or("truncated section header")?);
        const SHF_WRITE: u32 = 1;
        const SHF_ALLOC: u32 = 2;
        const SHT_NOBITS: u32 = 8;
        if flags & SHF_ALLOC == 0 {
            continue;
        }
        if kind == SHT_NOBITS {
            sizes.bss += size;
        } else if flags & SHF_WRITE != 0 {
            sizes.data += size;
        } else {
            sizes.text += size;
        }
    }
    Ok(sizes)
}

/// A loadable segment (`PT_LOAD`) of an ELF32 file: where it goes and how many bytes it takes
/// there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadSegment {
    pub vaddr: u32,
    /// Bytes from the file.
    pub file_size: u32,
    /// Bytes in memory (file bytes, then zeroes: `.bss`, stacks, heap).
    pub mem_size: u32,
}

/// The `PT_LOAD` segments of a big-endian ELF32 file: what the image takes in memory.
pub fn load_segments(elf: &[u8]) -> Result<Vec<LoadSegment>, String> {
    let be16 = |o: usize| elf.get(o..o + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let be32 = |o: usize| {
        elf.get(o..o + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    if elf.get(0..6) != Some(&[0x7F, b'E', b'L', b'F', 1, 2][..]) {
        return Err("not a big-endian ELF32 file".into());
    }
    let phoff = be32(0x1C).ok_or("truncated header")? as usize;
    let phentsize = be16(0x2A).ok_or("truncated header")? as usize;
    let phnum = be16(0x2C).ok_or("truncated header")? as usize;
    let mut out = Vec::new();
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        const PT_LOAD: u32 = 1;
        if be32(ph).ok_or("truncated program header")? != PT_LOAD {
            continue;
        }
        out.push(LoadSegment {
            vaddr: be32(ph + 8).ok_or("truncated program header")?,
            file_size: be32(ph + 16).ok_or("truncated program header")?,
            mem_size: be32(ph + 20).ok_or("truncated program header")?,
        });
    }
    Ok(out)
}

/// The value of symbol `name` in a big-endian ELF32 file's symbol table (the unstripped ELF).
pub fn symbol(elf: &[u8], name: &str) -> Option<u32> {
    symbols(elf)?
        .into_iter()
        .find_map(|(n, value, _)| (n == name).then_some(value))
}

/// Every named symbol of a big-endian ELF32 file's symbol table: name, value, size.
pub fn symbols(elf: &[u8]) -> Option<Vec<(String, u32, u32)>> {
    let be16 = |o: usize| elf.get(o..o + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let be32 = |o: usize| {
        elf.get(o..o + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let shoff = be32(0x20)? as usize;
    let shentsize = be16(0x2E)? as usize;
    let shnum = be16(0x30)? as usize;
    const SHT_SYMTAB: u32 = 2;
    let section = |i: usize| shoff + i * shentsize;
    let symtab = (0..shnum)
        .map(section)
        .find(|&sh| be32(sh + 4) == Some(SHT_SYMTAB))?;
    let strtab = section(be32(symtab + 24)? as usize);
    let (sym_off, sym_size) = (be32(symtab + 16)? as usize, be32(symtab + 20)? as usize);
    let str_off = be32(strtab + 16)? as usize;
    let named = (0..sym_size / 16).filter_map(|k| {
        let sym = sym_off + 16 * k;
        let at = str_off + be32(sym)? as usize;
        let end = at + elf.get(at..)?.iter().position(|&b| b == 0)?;
        let name = std::str::from_utf8(elf.get(at..end)?).ok()?;
        (!name.is_empty()).then(|| Some((name.to_string(), be32(sym + 4)?, be32(sym + 8)?)))?
    });
    Some(named.collect())
}
