//! Queue 2, metafs: the guest's file RPC. The file service is NOT implemented; this device
//! refuses every request, in protocol order, so that guests fail their mount instead of hanging.
//!
//! Guest side (`fs/metafs/inode.c`): 16 TX and 16 RX descriptors, no virq (`irq = -1`), polled
//! with `hc_yield()`. A request is `u16 id, u16 cmd, ...` (big-endian, packed). Before posting a
//! request the guest posts its reply buffers (`size = capacity`, DONE clear); replies are
//! matched to requests purely by ring position. READPAGE posts two reply slots (the status
//! `int`, then the page) and does not wait for the page when the status is non-zero. WRITEPAGE
//! sends two TX descriptors (the request, then the data) and takes one reply (an `int`).
//! Every other command takes one reply slot that starts with an `int` status; the guest checks
//! the reply length and the status and fails the operation on either.
//!
//! So a refusal writes the `int` -ENOSYS (4 bytes, big-endian; nothing if the slot is smaller)
//! into the first reply slot, steps over the second slot of a READPAGE, and hands back the one
//! or two TX descriptors. A request waits, untouched, until its reply slot is posted and (for
//! WRITEPAGE) its data descriptor is handed over.

use crate::abi::{errno::ENOSYS, QueueId};
use crate::fault::{DeviceError, RingError};
use crate::queue::{OnSide, Slot};
use crate::ring::RxFill;
use guest_mem::GuestRam;

/// READPAGE: two reply slots.
pub const CMD_READPAGE: u16 = 3;
/// WRITEPAGE: two request descriptors.
pub const CMD_WRITEPAGE: u16 = 6;

/// Queue 2 of one guest.
#[derive(Debug)]
pub(crate) struct Metafs {
    pub(crate) slot: Slot,
    /// Requests refused so far.
    pub(crate) refused: u64,
}

impl Metafs {
    pub(crate) const fn new() -> Self {
        Self {
            slot: Slot::new(QueueId::Metafs),
            refused: 0,
        }
    }

    /// Refuses up to `budget` pending requests; returns how many.
    pub(crate) fn poll(&mut self, ram: &mut GuestRam<'_>, budget: u32) -> Result<u32, DeviceError> {
        let refused = &mut self.refused;
        self.slot.run(|ch| {
            let mut done = 0;
            while done < budget {
                let Some(request) = ch.tx.tx_peek(ram).tx()? else {
                    break;
                };
                let cmd = match ram.bytes(request.addr, request.len.min(4)) {
                    Ok(&[_, _, hi, lo]) => Some(u16::from_be_bytes([hi, lo])),
                    Ok(_) => None,
                    Err(error) => {
                        return Err(RingError::Buffer {
                            descriptor: request.descriptor,
                            error,
                        })
                        .tx();
                    }
                };
                let two_requests = cmd == Some(CMD_WRITEPAGE);
                if two_requests && !ch.tx.tx_peek_second_done(ram).tx()? {
                    break;
                }
                if ch.rx.rx_peek(ram).rx()?.is_none() {
                    break;
                }
                let status = (-ENOSYS).to_be_bytes();
                if let RxFill::TooLong { .. } = ch.rx.rx_fill(ram, &[&status]).rx()? {
                    // Posted, but smaller than an int: hand it back empty.
                    ch.rx.rx_fill(ram, &[]).rx()?;
                }
                if cmd == Some(CMD_READPAGE) {
                    ch.rx.rx_skip(ram).rx()?;
                }
                ch.tx.tx_complete(ram, &request).tx()?;
                if two_requests {
                    if let Some(data) = ch.tx.tx_peek(ram).tx()? {
                        ch.tx.tx_complete(ram, &data).tx()?;
                    }
                }
                done += 1;
                *refused += 1;
            }
            Ok(done)
        })
    }
}
