//! A push-based tar reader with fixed buffers: POSIX ustar (with `prefix`), GNU (`L`/`K` long
//! names) and pax (`x` headers: `path`, `linkpath`, `size`, `mtime`, `uid`, `gid`). Regular files,
//! directories, symbolic and hard links are reported to a [`TarVisitor`]; device nodes and FIFOs
//! are skipped (and counted); anything else is refused. The first all-zero block ends the archive
//! and only zero bytes may follow it.

use super::error::{ImportError, TarError};
use super::path::{normalize, PathProblem};
use super::tar_fields::{check_checksum, field_str, number, parse_pax, PaxFields, BLOCK};
use super::{EntryKind, TreeEntry, MAX_PATH, MAX_PAX};
use crate::bytes::index;
use alloc::boxed::Box;

/// Receives what the tar stream holds, in order.
pub(crate) trait TarVisitor {
    /// An entry starts; for regular files, `entry.size` bytes follow through `data`.
    fn entry(&mut self, entry: &TreeEntry<'_>, at: u64) -> Result<(), ImportError>;
    /// Bytes of the current regular file.
    fn data(&mut self, bytes: &[u8]) -> Result<(), ImportError>;
    /// The current entry is complete.
    fn entry_end(&mut self) -> Result<(), ImportError>;
    /// A device node or FIFO was skipped.
    fn skipped(&mut self);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Meta {
    LongName,
    LongLink,
    Pax,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Header,
    FileData { left: u64, pad: u64 },
    Collect { meta: Meta, left: u64, pad: u64 },
    Skip { left: u64 },
    End,
}

/// The fixed buffers: one header block, pending GNU/pax metadata, and normalized outputs.
struct Buffers {
    block: [u8; BLOCK],
    long_name: [u8; MAX_PATH + 1],
    long_link: [u8; MAX_PATH + 1],
    pax: [u8; MAX_PAX],
    path: [u8; MAX_PATH + 1],
    link: [u8; MAX_PATH + 1],
}

/// Pending metadata lengths, for the next real entry.
#[derive(Clone, Copy, Debug, Default)]
struct Pending {
    long_name: Option<usize>,
    long_link: Option<usize>,
    pax: Option<usize>,
}

pub(crate) struct TarReader {
    buf: Box<Buffers>,
    block_len: usize,
    collected: usize,
    state: State,
    pending: Pending,
    /// Tar stream bytes consumed.
    offset: u64,
    /// Offset of the current entry's header.
    header_at: u64,
}

impl TarReader {
    pub(crate) fn new() -> Self {
        Self {
            buf: Box::new(Buffers {
                block: [0; BLOCK],
                long_name: [0; MAX_PATH + 1],
                long_link: [0; MAX_PATH + 1],
                pax: [0; MAX_PAX],
                path: [0; MAX_PATH + 1],
                link: [0; MAX_PATH + 1],
            }),
            block_len: 0,
            collected: 0,
            state: State::Header,
            pending: Pending::default(),
            offset: 0,
            header_at: 0,
        }
    }

    /// Feeds the next decompressed bytes.
    pub(crate) fn push(
        &mut self,
        mut input: &[u8],
        v: &mut dyn TarVisitor,
    ) -> Result<(), ImportError> {
        while !input.is_empty() {
            let used = self.step(input, v)?;
            self.offset += used as u64;
            input = &input[used..];
        }
        Ok(())
    }

    /// The stream is over: it must have ended with the end-of-archive marker.
    pub(crate) fn finish(&self) -> Result<(), ImportError> {
        match self.state {
            State::End => Ok(()),
            _ => Err(TarError::Truncated { at: self.offset }.into()),
        }
    }

    /// Consumes a prefix of `input` in the current state; returns its length.
    fn step(&mut self, input: &[u8], v: &mut dyn TarVisitor) -> Result<usize, ImportError> {
        match self.state {
            State::Header => {
                let n = (BLOCK - self.block_len).min(input.len());
                self.buf.block[self.block_len..self.block_len + n].copy_from_slice(&input[..n]);
                self.block_len += n;
                if self.block_len == BLOCK {
                    self.block_len = 0;
                    self.header_at = self.offset + n as u64 - BLOCK as u64;
                    self.header(v)?;
                }
                Ok(n)
            }
            State::FileData { left, pad } => {
                let n = clamp(left, input.len());
                v.data(&input[..n])?;
                let left = left - n as u64;
                self.state = State::FileData { left, pad };
                if left == 0 {
                    v.entry_end()?;
                    self.state = skip(pad);
                }
                Ok(n)
            }
            State::Collect { meta, left, pad } => {
                let n = clamp(left, input.len());
                let dst = match meta {
                    Meta::LongName => &mut self.buf.long_name[..],
                    Meta::LongLink => &mut self.buf.long_link[..],
                    Meta::Pax => &mut self.buf.pax[..],
                };
                dst[self.collected..self.collected + n].copy_from_slice(&input[..n]);
                self.collected += n;
                let left = left - n as u64;
                self.state = State::Collect { meta, left, pad };
                if left == 0 {
                    self.meta_complete(meta);
                    self.state = skip(pad);
                }
                Ok(n)
            }
            State::Skip { left } => {
                let n = clamp(left, input.len());
                self.state = skip(left - n as u64);
                Ok(n)
            }
            State::End => match input.iter().position(|&b| b != 0) {
                Some(i) => Err(TarError::DataAfterEnd {
                    at: self.offset + i as u64,
                }
                .into()),
                None => Ok(input.len()),
            },
        }
    }

    fn meta_complete(&mut self, meta: Meta) {
        let len = self.collected;
        match meta {
            // GNU long names end with a NUL inside their data.
            Meta::LongName => {
                let name = &self.buf.long_name[..len];
                self.pending.long_name = Some(name.iter().position(|&b| b == 0).unwrap_or(len));
            }
            Meta::LongLink => {
                let name = &self.buf.long_link[..len];
                self.pending.long_link = Some(name.iter().position(|&b| b == 0).unwrap_or(len));
            }
            Meta::Pax => self.pending.pax = Some(len),
        }
    }

    /// A complete 512-byte header is in `buf.block`.
    fn header(&mut self, v: &mut dyn TarVisitor) -> Result<(), ImportError> {
        let at = self.header_at;
        let Buffers {
            block,
            long_name,
            long_link,
            pax: pax_data,
            path,
            link,
        } = &mut *self.buf;
        if block.iter().all(|&b| b == 0) {
            self.state = State::End;
            return Ok(());
        }
        check_checksum(block, at)?;
        let posix = &block[257..263] == b"ustar\0";
        let gnu = &block[257..265] == b"ustar  \0";
        if !posix && !gnu && block[257..265].iter().any(|&b| b != 0) {
            return Err(TarError::BadMagic { at }.into());
        }
        let typeflag = block[156];
        let mut size = number(&block[124..136], at, "size")?;
        let meta = match typeflag {
            b'L' => Some((Meta::LongName, MAX_PATH as u64 + 1)),
            b'K' => Some((Meta::LongLink, MAX_PATH as u64 + 1)),
            b'x' => Some((Meta::Pax, MAX_PAX as u64)),
            _ => None,
        };
        if let Some((meta, max)) = meta {
            if size > max {
                return Err(match meta {
                    Meta::Pax => TarError::BadPaxHeader { at },
                    _ => TarError::PathTooLong { at },
                }
                .into());
            }
            // Metadata applies to the next real entry; what is already pending stays.
            self.collected = 0;
            self.state = State::Collect {
                meta,
                left: size,
                pad: padding(size),
            };
            if size == 0 {
                self.meta_complete(meta);
                self.state = State::Header;
            }
            return Ok(());
        }
        let pending = core::mem::take(&mut self.pending);
        let pax = match pending.pax {
            Some(len) => parse_pax(&pax_data[..len]).ok_or(TarError::BadPaxHeader { at })?,
            None => PaxFields::default(),
        };
        if let Some(s) = pax.size {
            size = s;
        }
        let skip_all = skip(size.saturating_add(padding(size)));
        match typeflag {
            b'g' | b'V' => {
                self.state = skip_all;
                return Ok(());
            }
            b'3' | b'4' | b'6' => {
                v.skipped();
                self.state = skip_all;
                return Ok(());
            }
            b'0' | 0 | b'7' | b'1' | b'2' | b'5' => {}
            _ => return Err(TarError::UnsupportedType { at, typeflag }.into()),
        }
        let name = field_str(&block[0..100]);
        let prefix = if posix {
            field_str(&block[345..500])
        } else {
            &[][..]
        };
        let raw: [&[u8]; 3] = match (pax.path, pending.long_name) {
            (Some(p), _) => [p, b"", b""],
            (None, Some(len)) => [&long_name[..len], b"", b""],
            (None, None) if !prefix.is_empty() => [prefix, b"/", name],
            (None, None) => [name, b"", b""],
        };
        let trailing_slash = raw
            .iter()
            .rev()
            .find(|p| !p.is_empty())
            .is_some_and(|p| p.ends_with(b"/"));
        let path_len = normalize(&raw, path).map_err(|e| path_error(e, at))?;
        let target: &[u8] = match (pax.linkpath, pending.long_link) {
            (Some(p), _) => p,
            (None, Some(len)) => &long_link[..len],
            (None, None) => field_str(&block[157..257]),
        };
        let kind = match typeflag {
            b'5' => EntryKind::Directory,
            b'0' | 0 if trailing_slash => EntryKind::Directory,
            b'0' | 0 | b'7' => EntryKind::File,
            b'2' => {
                if target.is_empty() || target.contains(&0) {
                    return Err(TarError::BadPath { at }.into());
                }
                if target.len() > MAX_PATH {
                    return Err(TarError::PathTooLong { at }.into());
                }
                EntryKind::Symlink { target }
            }
            _ => {
                let n = normalize(&[target], link).map_err(|e| path_error(e, at))?;
                if n == 0 {
                    return Err(TarError::BadPath { at }.into());
                }
                EntryKind::HardLink { target: &link[..n] }
            }
        };
        if path_len == 0 {
            // The root directory itself ("./"): it always exists.
            if kind == EntryKind::Directory {
                self.state = skip_all;
                return Ok(());
            }
            return Err(TarError::BadPath { at }.into());
        }
        let is_file = kind == EntryKind::File;
        let entry = TreeEntry {
            path: &path[..path_len],
            kind,
            mode: (number(&block[100..108], at, "mode")? & 0o7777) as u16,
            uid: owner_id(
                pax.uid
                    .map_or_else(|| number(&block[108..116], at, "uid"), Ok)?,
                at,
                "uid",
            )?,
            gid: owner_id(
                pax.gid
                    .map_or_else(|| number(&block[116..124], at, "gid"), Ok)?,
                at,
                "gid",
            )?,
            mtime: pax
                .mtime
                .map_or_else(|| number(&block[136..148], at, "mtime"), Ok)?,
            size: if is_file { size } else { 0 },
        };
        v.entry(&entry, at)?;
        if is_file && size > 0 {
            self.state = State::FileData {
                left: size,
                pad: padding(size),
            };
        } else {
            v.entry_end()?;
            self.state = skip_all;
        }
        Ok(())
    }
}

/// A user or group id (`field`) as the entry keeps it: 32 bits, as on the guest.
fn owner_id(value: u64, at: u64, field: &'static str) -> Result<u32, TarError> {
    u32::try_from(value).map_err(|_| TarError::BadNumber { at, field })
}

/// Zero bytes that follow `size` data bytes up to the next block.
fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// The state that skips `left` bytes (none: straight to the next header).
fn skip(left: u64) -> State {
    if left == 0 {
        State::Header
    } else {
        State::Skip { left }
    }
}

fn clamp(left: u64, available: usize) -> usize {
    index(left.min(available as u64))
}

fn path_error(p: PathProblem, at: u64) -> ImportError {
    match p {
        PathProblem::TooLong => TarError::PathTooLong { at },
        PathProblem::Bad => TarError::BadPath { at },
    }
    .into()
}
