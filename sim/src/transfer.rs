//! The simulated board's side of `/file receive` and `/file send`: files received are kept in
//! memory with their bytes (and listed in `/file print`); the modelled files read as a
//! pattern of their size. The store's free space is [`SimTransfers::capacity`] less what the
//! received files hold.

use std::collections::BTreeMap;

use mgmt::{FileInfo, PlatformError};

use crate::board::{SimBoard, SimFile};

/// What `/file receive` and `/file send` see of the simulated store.
#[derive(Clone, Debug)]
pub struct SimTransfers {
    /// Bytes the store holds.
    pub capacity: u64,
    /// The file being received.
    pub receiving: Option<(String, Vec<u8>)>,
    /// Files received whole, by name.
    pub contents: BTreeMap<String, Vec<u8>>,
}

impl Default for SimTransfers {
    fn default() -> SimTransfers {
        SimTransfers {
            capacity: 64 << 20,
            receiving: None,
            contents: BTreeMap::new(),
        }
    }
}

impl SimTransfers {
    fn free(&self) -> u64 {
        let used: u64 = self.contents.values().map(|d| d.len() as u64).sum();
        self.capacity.saturating_sub(used)
    }
}

impl SimBoard {
    pub(crate) fn receive_begin(
        &mut self,
        name: &str,
        size: Option<u64>,
    ) -> Result<(), PlatformError> {
        let t = &mut self.transfers;
        if t.receiving.is_some() {
            return Err(PlatformError::WrongState);
        }
        if name.is_empty() || name.contains('/') || name.contains('\0') || name.len() > 255 {
            return Err(PlatformError::BadName);
        }
        if size.is_some_and(|s| s > t.free()) {
            return Err(PlatformError::NoSpace);
        }
        t.receiving = Some((String::from(name), Vec::new()));
        Ok(())
    }

    pub(crate) fn receive_write(&mut self, offset: u64, data: &[u8]) -> Result<(), PlatformError> {
        let free = self.transfers.free();
        let (_, file) = self
            .transfers
            .receiving
            .as_mut()
            .ok_or(PlatformError::WrongState)?;
        if offset != file.len() as u64 {
            return Err(PlatformError::Hardware);
        }
        if (file.len() + data.len()) as u64 > free {
            return Err(PlatformError::NoSpace);
        }
        file.extend_from_slice(data);
        Ok(())
    }

    pub(crate) fn receive_end(&mut self, keep: bool) -> Result<(), PlatformError> {
        let (name, data) = self
            .transfers
            .receiving
            .take()
            .ok_or(PlatformError::WrongState)?;
        if !keep {
            return Ok(());
        }
        let info = FileInfo {
            name: name.clone(),
            kind: String::from("file"),
            size: data.len() as u64,
            created: Some(self.now / 1000),
        };
        self.files.retain(|f| f.info.name != name);
        self.files.push(SimFile {
            info,
            unpacked_kib: None,
        });
        self.transfers.contents.insert(name, data);
        Ok(())
    }

    pub(crate) fn read_file(
        &mut self,
        name: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, PlatformError> {
        if let Some(data) = self.transfers.contents.get(name) {
            let rest = data.get(offset as usize..).unwrap_or(&[]);
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            return Ok(n);
        }
        let file = self
            .files
            .iter()
            .find(|f| f.info.name == name)
            .ok_or(PlatformError::NoSuchFile)?;
        let n = file.info.size.saturating_sub(offset).min(buf.len() as u64) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = ((offset + i as u64) % 251) as u8;
        }
        Ok(n)
    }
}
