//! Queue 1, the console (`hvc0` in Linux guests).
//!
//! Guest side (`drivers/tty/hvc/hvc_meta.c`, metaDIE `console.c`): one 4096-byte descriptor
//! each way, each linked to itself. Output: while the host has not drained the TX buffer (DONE
//! still set) the guest appends to it and writes back `size = total | DONE` (Linux takes `size`
//! with `xchg(size, 0)` first; metaDIE just rewrites it), so the host must drain whatever
//! `size & ~DONE` says at the time it looks, all of it from the start of the buffer, and then
//! clear DONE; the guest then starts again at offset 0. Input: the host fills the posted RX
//! buffer (DONE clear, `size` = capacity), sets `size = len | DONE` and raises virq 1; the guest
//! reads it (possibly over several calls) and re-posts it with `size = 4096`.

use crate::abi::QueueId;
use crate::fault::{DeviceError, RingError};
use crate::queue::{OnSide, Slot};
use crate::ring::RxFill;
use guest_mem::GuestRam;

/// Longest console transfer the host drains (known guests use 4096-byte buffers); a longer one
/// is handed back undrained and counted.
pub const CONSOLE_MAX_TRANSFER: u32 = 64 * 1024;

/// Queue 1 of one guest.
#[derive(Debug)]
pub(crate) struct Console {
    pub(crate) slot: Slot,
    /// Output transfers longer than [`CONSOLE_MAX_TRANSFER`], dropped.
    pub(crate) oversized: u64,
    /// Output descriptors were handed back since virq 1 was last raised for that.
    pub(crate) handed_back: bool,
}

impl Console {
    pub(crate) const fn new() -> Self {
        Self {
            slot: Slot::new(QueueId::Console),
            oversized: 0,
            handed_back: false,
        }
    }

    /// Drains up to `budget` TX descriptors into `sink`; returns the bytes drained.
    pub(crate) fn drain(
        &mut self,
        ram: &mut GuestRam<'_>,
        budget: u32,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<usize, DeviceError> {
        let (oversized, handed_back) = (&mut self.oversized, &mut self.handed_back);
        self.slot.run(|ch| {
            let mut drained = 0;
            for _ in 0..budget {
                let Some(tx) = ch.tx.tx_peek(ram).tx()? else {
                    break;
                };
                if tx.len <= CONSOLE_MAX_TRANSFER {
                    let bytes = ram
                        .bytes(tx.addr, tx.len)
                        .map_err(|error| RingError::Buffer {
                            descriptor: tx.descriptor,
                            error,
                        })
                        .tx()?;
                    sink(bytes);
                    drained += bytes.len();
                } else {
                    *oversized += 1;
                }
                ch.tx.tx_complete(ram, &tx).tx()?;
                *handed_back = true;
            }
            Ok(drained)
        })
    }

    /// Puts as much of `input` as fits into the posted RX buffer; returns how many bytes were
    /// taken (0 when the guest has not re-posted its buffer yet: try again later).
    pub(crate) fn input(
        &mut self,
        ram: &mut GuestRam<'_>,
        input: &[u8],
    ) -> Result<usize, DeviceError> {
        if input.is_empty() {
            return Ok(0);
        }
        self.slot.run(|ch| {
            let Some(rx) = ch.rx.rx_peek(ram).rx()? else {
                return Ok(0);
            };
            let take = input.len().min(rx.capacity as usize);
            match ch.rx.rx_fill(ram, &[&input[..take]]).rx()? {
                RxFill::Filled { len, .. } => Ok(len as usize),
                RxFill::NoBuffer | RxFill::TooLong { .. } => Ok(0),
            }
        })
    }
}
