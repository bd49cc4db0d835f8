//! A push-based gzip (RFC 1952) decoder with fixed memory: the header is parsed byte by byte,
//! the DEFLATE data goes through `miniz_oxide`'s core inflater into a 32 KiB wrapping window
//! (the dictionary), and each piece of output is handed to a callback as soon as it exists.
//! The trailer's CRC-32 and length are checked. One gzip member per file; only zero bytes may
//! follow it.

use super::error::{GzipError, ImportError};
use crate::crc32::Crc32;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

/// DEFLATE's window: the dictionary must hold this much recent output.
const DICT_SIZE: usize = 32 * 1024;

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The 10 fixed header bytes.
    Fixed,
    /// The 2-byte FEXTRA length.
    ExtraLen,
    /// FEXTRA payload bytes left.
    Extra(u16),
    /// Inside the zero-terminated file name.
    Name,
    /// Inside the zero-terminated comment.
    Comment,
    /// The 2-byte header CRC.
    HeaderCrc,
    /// DEFLATE data.
    Body,
    /// The 8-byte trailer.
    Trailer,
    /// After the trailer: only zero padding may follow.
    Done,
}

/// Decodes one gzip member pushed in arbitrary pieces.
pub(crate) struct GzipDecoder {
    stage: Stage,
    /// Bytes collected for the fixed header, FEXTRA length, header CRC or trailer.
    small: [u8; 10],
    small_len: usize,
    flags: u8,
    header_crc: Crc32,
    inflater: Box<DecompressorOxide>,
    dict: Vec<u8>,
    dict_pos: usize,
    data_crc: Crc32,
    data_len: u64,
    /// Compressed bytes consumed so far.
    consumed: u64,
}

impl GzipDecoder {
    pub(crate) fn new() -> Self {
        Self {
            stage: Stage::Fixed,
            small: [0; 10],
            small_len: 0,
            flags: 0,
            header_crc: Crc32::new(),
            inflater: Box::default(),
            dict: vec![0; DICT_SIZE],
            dict_pos: 0,
            data_crc: Crc32::new(),
            data_len: 0,
            consumed: 0,
        }
    }

    /// Decompressed bytes produced so far.
    pub(crate) const fn output_len(&self) -> u64 {
        self.data_len
    }

    /// Feeds compressed bytes; `out` receives every decompressed piece in order.
    pub(crate) fn push(
        &mut self,
        mut input: &[u8],
        out: &mut dyn FnMut(&[u8]) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        while !input.is_empty() {
            let used = match self.stage {
                Stage::Body => self.inflate(input, true, out)?,
                Stage::Done => {
                    if let Some(i) = input.iter().position(|&b| b != 0) {
                        return Err(GzipError::TrailingData {
                            at: self.consumed + i as u64,
                        }
                        .into());
                    }
                    input.len()
                }
                _ => {
                    self.header_or_trailer_byte(input[0])?;
                    1
                }
            };
            self.consumed += used as u64;
            input = &input[used..];
        }
        Ok(())
    }

    /// Ends the input: the member must be complete.
    pub(crate) fn finish(
        &mut self,
        out: &mut dyn FnMut(&[u8]) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        if self.stage == Stage::Body {
            // Let the inflater finish with what it holds, now told no more input comes.
            self.inflate(&[], false, out)?;
        }
        match self.stage {
            Stage::Done => Ok(()),
            _ => Err(GzipError::Truncated.into()),
        }
    }

    /// Runs the inflater on `input`; returns how many input bytes it consumed.
    fn inflate(
        &mut self,
        input: &[u8],
        more_input: bool,
        out: &mut dyn FnMut(&[u8]) -> Result<(), ImportError>,
    ) -> Result<usize, ImportError> {
        let flags = if more_input {
            TINFL_FLAG_HAS_MORE_INPUT
        } else {
            0
        };
        let mut used = 0;
        loop {
            let (status, read, written) = decompress(
                &mut self.inflater,
                &input[used..],
                &mut self.dict,
                self.dict_pos,
                flags,
            );
            used += read;
            if written > 0 {
                let piece = &self.dict[self.dict_pos..self.dict_pos + written];
                self.data_crc.update(piece);
                self.data_len += written as u64;
                out(piece)?;
                self.dict_pos = (self.dict_pos + written) & (DICT_SIZE - 1);
            }
            match status {
                TINFLStatus::Done => {
                    self.stage = Stage::Trailer;
                    return Ok(used);
                }
                TINFLStatus::HasMoreOutput => continue,
                TINFLStatus::NeedsMoreInput if more_input => {
                    if used == input.len() {
                        return Ok(used);
                    }
                    if read == 0 && written == 0 {
                        return Err(GzipError::CorruptData {
                            at: self.consumed + used as u64,
                        }
                        .into());
                    }
                }
                TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                    return Err(GzipError::Truncated.into())
                }
                _ => {
                    return Err(GzipError::CorruptData {
                        at: self.consumed + used as u64,
                    }
                    .into())
                }
            }
        }
    }

    /// Consumes one byte of the header or trailer.
    fn header_or_trailer_byte(&mut self, b: u8) -> Result<(), ImportError> {
        if self.stage != Stage::Trailer && self.stage != Stage::HeaderCrc {
            self.header_crc.update(&[b]);
        }
        match self.stage {
            Stage::Fixed => {
                self.collect(b);
                if self.small_len == 2 && self.small[..2] != [0x1F, 0x8B] {
                    return Err(GzipError::NotGzip.into());
                }
                if self.small_len == 10 {
                    if self.small[2] != 8 {
                        return Err(GzipError::UnsupportedMethod {
                            method: self.small[2],
                        }
                        .into());
                    }
                    self.flags = self.small[3];
                    if self.flags & 0xE0 != 0 {
                        return Err(GzipError::ReservedFlags { flags: self.flags }.into());
                    }
                    self.small_len = 0;
                    self.stage = if self.flags & FEXTRA != 0 {
                        Stage::ExtraLen
                    } else {
                        Stage::Extra(0)
                    };
                    self.after_optional_fields();
                }
            }
            Stage::ExtraLen => {
                self.collect(b);
                if self.small_len == 2 {
                    self.small_len = 0;
                    self.stage = Stage::Extra(u16::from_le_bytes([self.small[0], self.small[1]]));
                    self.after_optional_fields();
                }
            }
            Stage::Extra(left) => {
                self.stage = Stage::Extra(left - 1);
                self.after_optional_fields();
            }
            Stage::Name | Stage::Comment => {
                if b == 0 {
                    self.after_optional_fields();
                }
            }
            Stage::HeaderCrc => {
                self.collect(b);
                if self.small_len == 2 {
                    // FHCRC: the two least significant bytes of the header's CRC-32.
                    let crc = self.header_crc.value().to_le_bytes();
                    if self.small[..2] != crc[..2] {
                        return Err(GzipError::HeaderCrcMismatch.into());
                    }
                    self.small_len = 0;
                    self.stage = Stage::Body;
                }
            }
            Stage::Trailer => {
                self.collect(b);
                if self.small_len == 8 {
                    self.check_trailer()?;
                    self.stage = Stage::Done;
                }
            }
            Stage::Body | Stage::Done => {}
        }
        Ok(())
    }

    fn collect(&mut self, b: u8) {
        self.small[self.small_len] = b;
        self.small_len += 1;
    }

    /// Moves past a finished optional header field to the next one present (or to the body).
    fn after_optional_fields(&mut self) {
        let next = match self.stage {
            Stage::Extra(0) => Some(Stage::Name),
            Stage::Name => Some(Stage::Comment),
            Stage::Comment => Some(Stage::HeaderCrc),
            _ => None,
        };
        let Some(mut stage) = next else { return };
        loop {
            let present = match stage {
                Stage::Name => self.flags & FNAME != 0,
                Stage::Comment => self.flags & FCOMMENT != 0,
                Stage::HeaderCrc => self.flags & FHCRC != 0,
                _ => true,
            };
            if present {
                break;
            }
            stage = match stage {
                Stage::Name => Stage::Comment,
                Stage::Comment => Stage::HeaderCrc,
                _ => Stage::Body,
            };
        }
        self.stage = stage;
    }

    fn check_trailer(&self) -> Result<(), ImportError> {
        let t = &self.small;
        let stored_crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let stored_len = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        let computed = self.data_crc.value();
        if stored_crc != computed {
            return Err(GzipError::CrcMismatch {
                stored: stored_crc,
                computed,
            }
            .into());
        }
        // ISIZE is the length modulo 2^32 (RFC 1952, 2.3.1).
        #[allow(clippy::cast_possible_truncation)]
        let computed = self.data_len as u32;
        if stored_len != computed {
            return Err(GzipError::LengthMismatch {
                stored: stored_len,
                computed,
            }
            .into());
        }
        Ok(())
    }
}
