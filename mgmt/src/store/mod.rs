//! The power-cut-safe configuration store on raw flash.
//!
//! The region is split in two halves, A and B. Each half holds at most one copy:
//!
//! ```text
//! offset 0:  magic "MGC1" | sequence u32 | length u32 | payload CRC-32 | 0 u32 | header CRC-32
//! offset 24: payload (length bytes)
//! ```
//!
//! (all big-endian). A save goes to the half that does not hold the newest good copy: erase,
//! program the payload, then program the header last. The header is the commit: until its last
//! byte is programmed the copy fails its checks, and the other half still holds the previous
//! copy untouched. Loading takes the good copy with the higher sequence number. So a power cut at
//! any step leaves the old or the new configuration, never a broken one.

pub mod crc32;
pub mod mem_flash;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::platform::{Flash, FlashError};
use crc32::crc32;

const MAGIC: [u8; 4] = *b"MGC1";
const HEADER: usize = 24;
const CHUNK: usize = 256;

/// Why a save failed. The previous copy is intact in every case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The flash region is smaller than two erase blocks (platform's configuration).
    RegionTooSmall,
    /// The configuration does not fit in half the region (the user's configuration is too big).
    TooLarge,
    /// The flash failed.
    Flash(FlashError),
}

impl From<FlashError> for StoreError {
    fn from(error: FlashError) -> StoreError {
        StoreError::Flash(error)
    }
}

/// What loading found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loaded {
    /// Nothing was ever saved (both halves erased).
    Empty,
    /// A good copy. `damaged_other` is set when the other half held a copy that failed its
    /// checks (an interrupted save, or corruption of an older copy).
    Config {
        text: String,
        sequence: u32,
        damaged_other: bool,
    },
    /// No good copy, but the region is not blank: the store is corrupt.
    Corrupt,
    /// The flash could not be read.
    Unreadable(FlashError),
}

/// State of one half.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Half {
    Blank,
    Bad,
    Good { sequence: u32, payload: Vec<u8> },
}

/// The store: remembers which half holds the newest copy.
#[derive(Clone, Debug)]
pub struct ConfigStore {
    newest: Option<(usize, u32)>,
}

fn half_size(flash: &dyn Flash) -> Result<u32, StoreError> {
    let block = flash.erase_block_size().max(1);
    let blocks = flash.size() / block;
    if blocks < 2 {
        return Err(StoreError::RegionTooSmall);
    }
    Ok(blocks / 2 * block)
}

fn read_half(flash: &mut dyn Flash, base: u32, size: u32) -> Result<Half, FlashError> {
    let mut header = [0u8; HEADER];
    flash.read(base, &mut header)?;
    if header.iter().all(|&b| b == 0xFF) {
        return Ok(Half::Blank);
    }
    let word =
        |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    if header[..4] != MAGIC || word(20) != crc32(0, &header[..20]) {
        return Ok(Half::Bad);
    }
    let (sequence, length, payload_crc) = (word(4), word(8), word(12));
    if length > size - HEADER as u32 {
        return Ok(Half::Bad);
    }
    let mut payload = vec![0u8; length as usize];
    flash.read(base + HEADER as u32, &mut payload)?;
    if crc32(0, &payload) != payload_crc {
        return Ok(Half::Bad);
    }
    Ok(Half::Good { sequence, payload })
}

/// Whether sequence `a` is newer than `b` (wrapping).
fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl ConfigStore {
    /// Reads both halves and returns the newest good copy.
    pub fn load(flash: &mut dyn Flash) -> (ConfigStore, Loaded) {
        let mut store = ConfigStore { newest: None };
        let size = match half_size(flash) {
            Ok(size) => size,
            Err(_) => return (store, Loaded::Corrupt),
        };
        let mut halves = Vec::with_capacity(2);
        for index in 0..2u32 {
            match read_half(flash, index * size, size) {
                Ok(half) => halves.push(half),
                Err(error) => return (store, Loaded::Unreadable(error)),
            }
        }
        let best = (0..2)
            .filter_map(|i| match &halves[i] {
                Half::Good { sequence, .. } => Some((i, *sequence)),
                _ => None,
            })
            .reduce(|a, b| if newer(b.1, a.1) { b } else { a });
        let Some((index, sequence)) = best else {
            let blank = halves.iter().all(|h| *h == Half::Blank);
            return (
                store,
                if blank {
                    Loaded::Empty
                } else {
                    Loaded::Corrupt
                },
            );
        };
        store.newest = Some((index, sequence));
        let damaged_other = halves[1 - index] == Half::Bad;
        let Half::Good { payload, .. } = halves.swap_remove(index) else {
            unreachable!()
        };
        match String::from_utf8(payload) {
            Ok(text) => (
                store,
                Loaded::Config {
                    text,
                    sequence,
                    damaged_other,
                },
            ),
            Err(_) => (ConfigStore { newest: None }, Loaded::Corrupt),
        }
    }

    /// Saves `payload` as the new newest copy.
    pub fn save(&mut self, flash: &mut dyn Flash, payload: &[u8]) -> Result<(), StoreError> {
        let size = half_size(flash)?;
        if payload.len() > (size as usize).saturating_sub(HEADER) {
            return Err(StoreError::TooLarge);
        }
        let (target, sequence) = match self.newest {
            Some((index, sequence)) => (1 - index, sequence.wrapping_add(1)),
            None => (0, 1),
        };
        let base = target as u32 * size;
        let block = flash.erase_block_size();
        let used = (HEADER + payload.len()) as u32;
        let mut offset = 0;
        while offset < used {
            flash.erase(base + offset)?;
            offset += block;
        }
        for (i, chunk) in payload.chunks(CHUNK).enumerate() {
            flash.program(base + (HEADER + i * CHUNK) as u32, chunk)?;
        }
        let mut header = [0u8; HEADER];
        header[..4].copy_from_slice(&MAGIC);
        header[4..8].copy_from_slice(&sequence.to_be_bytes());
        header[8..12].copy_from_slice(&(payload.len() as u32).to_be_bytes());
        header[12..16].copy_from_slice(&crc32(0, payload).to_be_bytes());
        let header_crc = crc32(0, &header[..20]);
        header[20..24].copy_from_slice(&header_crc.to_be_bytes());
        flash.program(base, &header)?;
        self.newest = Some((target, sequence));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::mem_flash::MemFlash;
    use super::*;

    fn text(loaded: &Loaded) -> Option<&str> {
        match loaded {
            Loaded::Config { text, .. } => Some(text),
            _ => None,
        }
    }

    #[test]
    fn empty_then_saved_then_newer() {
        let mut flash = MemFlash::new(4096, 4);
        let (mut store, loaded) = ConfigStore::load(&mut flash);
        assert_eq!(loaded, Loaded::Empty);
        store.save(&mut flash, b"one").unwrap();
        store.save(&mut flash, b"two").unwrap();
        store.save(&mut flash, b"three").unwrap();
        let (_, loaded) = ConfigStore::load(&mut flash);
        assert_eq!(text(&loaded), Some("three"));
    }

    #[test]
    fn too_large_and_too_small() {
        let mut flash = MemFlash::new(4096, 2);
        let (mut store, _) = ConfigStore::load(&mut flash);
        assert_eq!(
            store.save(&mut flash, &[b'x'; 4096]),
            Err(StoreError::TooLarge)
        );
        let mut tiny = MemFlash::new(4096, 1);
        assert_eq!(store.save(&mut tiny, b"x"), Err(StoreError::RegionTooSmall));
        assert_eq!(ConfigStore::load(&mut tiny).1, Loaded::Corrupt);
    }

    /// A power cut at every erase/program step of a save leaves the old or the new copy.
    #[test]
    fn power_cut_at_every_step() {
        let old: Vec<u8> = (0..3000u32).map(|i| (i % 26) as u8 + b'A').collect();
        let new: Vec<u8> = (0..5000u32).map(|i| (i % 13) as u8 + b'a').collect();
        for prior_saves in 1..=2 {
            let mut base = MemFlash::new(1024, 16);
            let (mut store, _) = ConfigStore::load(&mut base);
            for _ in 0..prior_saves {
                store.save(&mut base, &old).unwrap();
            }
            let mut probe = base.clone();
            let mut probe_store = store.clone();
            let before = probe.steps();
            probe_store.save(&mut probe, &new).unwrap();
            let steps = probe.steps() - before;
            assert!(steps > 5);
            for cut in 0..steps {
                let mut flash = base.clone();
                let mut store = store.clone();
                flash.cut_power_at(cut);
                assert!(store.save(&mut flash, &new).is_err());
                flash.power_on();
                let (_, loaded) = ConfigStore::load(&mut flash);
                let got = text(&loaded).map(|t| t.as_bytes().to_vec());
                assert!(
                    got.as_deref() == Some(&old[..]) || got.as_deref() == Some(&new[..]),
                    "cut at step {cut}: {loaded:?}"
                );
            }
        }
    }

    #[test]
    fn corruption_is_reported() {
        let mut flash = MemFlash::new(1024, 4);
        let (mut store, _) = ConfigStore::load(&mut flash);
        store.save(&mut flash, b"first").unwrap();
        store.save(&mut flash, b"second").unwrap();
        // Damage the newest copy's payload: the older one is used and the damage reported.
        flash.bytes_mut()[2048 + HEADER] ^= 0x01;
        let (_, loaded) = ConfigStore::load(&mut flash);
        assert_eq!(
            loaded,
            Loaded::Config {
                text: String::from("first"),
                sequence: 1,
                damaged_other: true
            }
        );
        flash.bytes_mut()[HEADER] ^= 0x01;
        assert_eq!(ConfigStore::load(&mut flash).1, Loaded::Corrupt);
    }
}
