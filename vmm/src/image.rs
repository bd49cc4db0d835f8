//! Guest images: loading a guest's kernel into its partition at boot, and checking an
//! `import-image` archive step by step with progress.
//!
//! A guest boots from its imported archive (a file in the file store: the kernel is inflated
//! straight into the guest's RAM, the file tree is skipped) or, without one, from the built-in
//! guest linked into the hypervisor image ([`crate::Machine::builtin_guest`]). Its boot arguments are written as its architecture
//! says (`guest_loader::bootargs::write_boot_args`: MIPS argv in the last page of RAM, a PowerPC
//! device tree at the top).

use core::fmt;

use guest_loader::archive::{
    ArchiveImporter, ImportError, ImportSink, ImportSummary, SinkError, TreeEntry,
};
use guest_loader::bootargs::{write_boot_args, BootError, BootInfo, EntryState};
use guest_loader::elf::{load_elf, ElfError, ElfSpec, ElfStream, LoadedImage};
use guest_loader::store::StoredFile;
use guest_mem::GuestArch;

/// Compressed bytes inflated per import step (one step per shell poll).
const IMPORT_STEP: usize = 64 * 1024;

/// Where a guest's kernel comes from.
pub enum Source {
    /// The built-in guest (an ELF; empty when the build has none).
    Builtin(&'static [u8]),
    /// An imported archive in the file store.
    Archive(StoredFile<'static>),
}

/// Why a guest cannot boot from its image.
#[derive(Clone, Copy, Debug)]
pub enum LoadError {
    /// No image was imported and the build has no built-in guest.
    NoBuiltin,
    /// The memory size is no window the guest's architecture can have.
    Window,
    /// The kernel is no valid ELF image for the guest.
    Elf(ElfError),
    /// The archive is no valid import archive.
    Archive(ImportError),
    /// The boot arguments could not be written.
    Boot(BootError),
    /// The timer rate does not fit the boot arguments.
    Arguments,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NoBuiltin => {
                f.write_str("no image imported and this build has no built-in guest")
            }
            LoadError::Window => f.write_str("memory size is not a valid guest RAM window"),
            LoadError::Elf(e) => write!(f, "kernel: {e}"),
            LoadError::Archive(e) => write!(f, "image: {e}"),
            LoadError::Boot(e) => write!(f, "{e}"),
            LoadError::Arguments => f.write_str("the boot arguments do not fit"),
        }
    }
}

/// Where the guest starts.
pub struct Boot {
    /// Its registers at entry.
    pub entry: EntryState,
    /// Bytes of the archive's file tree (an imported image), for `used-disk`.
    pub tree_bytes: Option<u64>,
}

fn spec(arch: &GuestArch, memory_mib: u32) -> Result<ElfSpec, LoadError> {
    ElfSpec::for_guest(arch, memory_mib << 20).map_err(|_| LoadError::Window)
}

/// Streams the kernel of an archive into guest RAM; keeps nothing of the tree.
struct KernelIntoRam<'r> {
    ram: &'r mut [u8],
    elf: Option<ElfStream>,
    spec: ElfSpec,
}

impl ImportSink for KernelIntoRam<'_> {
    fn kernel_start(&mut self, size: u64) -> Result<(), SinkError> {
        self.elf = Some(ElfStream::new(self.spec, size));
        Ok(())
    }
    fn kernel_data(&mut self, data: &[u8]) -> Result<(), SinkError> {
        let elf = self.elf.as_mut().ok_or(SinkError::WriteFailed)?;
        elf.push(data, Some(self.ram))
            .map_err(|_| SinkError::WriteFailed)
    }
    fn entry_start(&mut self, _: &TreeEntry<'_>) -> Result<(), SinkError> {
        Ok(())
    }
    fn file_data(&mut self, _: &[u8]) -> Result<(), SinkError> {
        Ok(())
    }
}

/// The host's clocks as a guest is told them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clocks {
    /// The CPU timer (MIPS Count, e500 time base) in Hz.
    pub timer_hz: u64,
    /// The core clock in Hz, when known.
    pub cpu_hz: Option<u64>,
}

impl Clocks {
    /// The e500's bus (CCB) clock as a PowerPC guest is told it: on the MPC85xx the time base
    /// counts every 8 CCB clocks (`HID0[SEL_TBCLK]` = 0).
    fn bus_hz(&self) -> u64 {
        self.timer_hz.saturating_mul(8)
    }
}

/// Load `source` into `ram` (zeroed, the guest's whole RAM) and write the boot arguments.
pub fn load(
    arch: &GuestArch,
    source: &Source,
    ram: &mut [u8],
    memory_mib: u32,
    clocks: Clocks,
    kmac: [u8; 6],
) -> Result<Boot, LoadError> {
    let spec = spec(arch, memory_mib)?;
    let (image, tree_bytes): (LoadedImage, Option<u64>) = match source {
        Source::Builtin(elf) => {
            if elf.is_empty() {
                return Err(LoadError::NoBuiltin);
            }
            (load_elf(elf, &spec, ram).map_err(LoadError::Elf)?, None)
        }
        Source::Archive(file) => {
            let mut sink = KernelIntoRam {
                ram: &mut *ram,
                elf: None,
                spec,
            };
            let mut importer = ArchiveImporter::new(spec, file.data.len() as u64);
            for chunk in file.data.chunks(IMPORT_STEP) {
                importer
                    .push(chunk, &mut sink)
                    .map_err(LoadError::Archive)?;
            }
            let summary = importer.finish(&mut sink).map_err(LoadError::Archive)?;
            let elf = sink
                .elf
                .ok_or(LoadError::Archive(ImportError::MissingKernel))?;
            (
                elf.finish(None).map_err(LoadError::Elf)?,
                Some(summary.file_bytes),
            )
        }
    };
    let info = BootInfo {
        memory: memory_mib << 20,
        timer_hz: u32::try_from(clocks.timer_hz).map_err(|_| LoadError::Arguments)?,
        // Unknown core clock: the bus clock (a guest only shows it in /proc/cpuinfo).
        cpu_hz: u32::try_from(clocks.cpu_hz.unwrap_or(clocks.bus_hz())).unwrap_or(u32::MAX),
        bus_hz: u32::try_from(clocks.bus_hz()).unwrap_or(u32::MAX),
        kmac,
        command_line: "",
    };
    let entry = write_boot_args(arch, &spec.window, ram, &image, &info).map_err(LoadError::Boot)?;
    Ok(Boot { entry, tree_bytes })
}

/// An [`ImportSink`] behind a `dyn` reference (the importer takes a sized sink).
struct DynSink<'s>(&'s mut dyn ImportSink);

impl ImportSink for DynSink<'_> {
    fn kernel_start(&mut self, size: u64) -> Result<(), SinkError> {
        self.0.kernel_start(size)
    }
    fn kernel_data(&mut self, data: &[u8]) -> Result<(), SinkError> {
        self.0.kernel_data(data)
    }
    fn entry_start(&mut self, entry: &TreeEntry<'_>) -> Result<(), SinkError> {
        self.0.entry_start(entry)
    }
    fn file_data(&mut self, data: &[u8]) -> Result<(), SinkError> {
        self.0.file_data(data)
    }
    fn entry_end(&mut self) -> Result<(), SinkError> {
        self.0.entry_end()
    }
}

/// An import in progress: the archive is checked a step at a time.
pub struct Import {
    file: StoredFile<'static>,
    importer: ArchiveImporter,
    pos: usize,
}

/// What an import found.
pub struct Imported {
    /// Bytes of the guest's file tree.
    pub tree_bytes: u64,
}

impl Import {
    /// Start checking `file` for a guest of `arch` with `memory_mib` MiB.
    pub fn new(
        arch: &GuestArch,
        file: StoredFile<'static>,
        memory_mib: u32,
    ) -> Result<Self, LoadError> {
        let importer = ArchiveImporter::new(spec(arch, memory_mib)?, file.data.len() as u64);
        Ok(Self {
            file,
            importer,
            pos: 0,
        })
    }

    /// The archive's file name.
    pub fn file_name(&self) -> &'static str {
        self.file.name
    }

    /// How far the check has come.
    pub fn percent(&self) -> u8 {
        self.importer.percent()
    }

    /// Inflate the next piece into `sink` (the guest's disk, or a sink that keeps nothing);
    /// `Some` once the whole archive checked out.
    pub fn step(&mut self, sink: &mut dyn ImportSink) -> Result<Option<Imported>, ImportError> {
        let data = self.file.data;
        let mut sink = DynSink(sink);
        if self.pos < data.len() {
            let end = (self.pos + IMPORT_STEP).min(data.len());
            self.importer.push(&data[self.pos..end], &mut sink)?;
            self.pos = end;
            return Ok(None);
        }
        let summary: ImportSummary = self.importer.finish(&mut sink)?;
        Ok(Some(Imported {
            tree_bytes: summary.file_bytes,
        }))
    }
}
