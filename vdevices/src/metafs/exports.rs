//! A guest's metafs exports: which file trees it may mount, by export id.
//!
//! Export 0 is the guest's root file system: its kernel mounts it read-only at boot (the
//! driver forces read-only for id 0) and its init remounts it read-write, so the host serves it
//! read-write. A guest may mount other ids (`mount -t metafs /N /mnt`); the host decides what
//! they are (another volume of the store, read-only or not). Requests for an id that is not in
//! the table are answered ENODEV. A guest reaches nothing but the volumes of its own table.

use super::store::Volume;

/// Export ids a guest may be given: `0..MAX_EXPORTS`.
pub const MAX_EXPORTS: usize = 8;

/// One export: the volume served and whether the guest may change it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Export {
    /// The store's volume.
    pub volume: Volume,
    /// Refuse every change with EROFS.
    pub read_only: bool,
}

impl Export {
    /// A read-write export of `volume`.
    pub const fn read_write(volume: Volume) -> Self {
        Self {
            volume,
            read_only: false,
        }
    }

    /// A read-only export of `volume`.
    pub const fn read_only(volume: Volume) -> Self {
        Self {
            volume,
            read_only: true,
        }
    }
}

/// Why an export cannot be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportError {
    /// The id is not below [`MAX_EXPORTS`].
    BadId(u16),
}

impl core::fmt::Display for ExportError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ExportError::BadId(id) => {
                write!(f, "export id {id} out of range (0..{MAX_EXPORTS})")
            }
        }
    }
}

/// The export table of one guest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exports {
    slots: [Option<Export>; MAX_EXPORTS],
}

impl Exports {
    /// No exports: the guest has no disk.
    pub const fn none() -> Self {
        Self {
            slots: [None; MAX_EXPORTS],
        }
    }

    /// Sets (or, with `None`, removes) export `id`.
    pub fn set(&mut self, id: u16, export: Option<Export>) -> Result<(), ExportError> {
        let slot = self
            .slots
            .get_mut(usize::from(id))
            .ok_or(ExportError::BadId(id))?;
        *slot = export;
        Ok(())
    }

    /// Export `id`, if the guest has it.
    pub fn get(&self, id: u16) -> Option<Export> {
        self.slots.get(usize::from(id)).copied().flatten()
    }

    /// Whether the guest has any export.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }
}
