//! Queue 2, metafs: the guest's file system, served over a file-level RPC.
//!
//! Guest side (`fs/metafs/inode.c`): 16 TX and 16 RX descriptors, no virq (`irq = -1`), polled
//! with `hc_yield()`. For each request the guest reserves its slots (both counters in lock step,
//! under a mutex), arms the reply slot(s) (`size = capacity`, DONE clear), then posts the request
//! (`size = len | DONE`; WRITEPAGE then posts the data in the next TX slot), then waits for DONE
//! on its reply slot. Replies are matched to requests by ring position only.
//!
//! The engine here (`poll`, behind `Metafs::serve`) walks both rings strictly in order. A request is taken
//! when it is posted, its reply slot(s) are armed and (WRITEPAGE) its data slot is posted;
//! otherwise it waits, untouched, for the next pass (the guest posts those a few instructions
//! later), and so does everything after it. The slot shape comes from the command word alone
//! ([`wire::Shape`]), so a malformed request takes exactly the slots the guest reserved for it.
//! READPAGE completes both reply slots, even on error (status in the first; page, possibly 0
//! bytes, in the second). Every reply is written within the posted capacity, then its
//! descriptor is set to `len | DONE`, then the TX descriptor(s) handed back.
//!
//! What answers a request is a backend: `server` (the file service against a
//! [`store::MetafsStore`]) or, for a guest without a disk, a refusal with ENOSYS in the guest's
//! numbering. A bad guest pointer faults the queue (see [`crate::QueueFault`]), nothing else.

pub mod errno;
pub mod exports;
#[cfg(feature = "reference-store")]
pub mod reference;
pub mod reply;
mod server;
pub mod store;
pub mod wire;

use crate::abi::QueueId;
use crate::fault::{DeviceError, RingError};
use crate::queue::{OnSide, SideError, Slot};
use crate::ring::{RxBuffer, TxBuffer};
use errno::{Errno, ErrnoTable};
use exports::Exports;
use guest_mem::GuestRam;
use store::{MetafsStore, Timestamp};
use wire::{Header, Shape};

pub use server::MetafsStats;

/// READPAGE: two reply slots.
pub const CMD_READPAGE: u16 = wire::Command::ReadPage as u16;
/// WRITEPAGE: two request descriptors.
pub const CMD_WRITEPAGE: u16 = wire::Command::WritePage as u16;

/// The ring slots of one request, all posted.
pub(crate) struct Slots {
    /// The request.
    pub(crate) request: TxBuffer,
    /// WRITEPAGE's data.
    pub(crate) data: Option<TxBuffer>,
    /// The (first) reply slot.
    pub(crate) reply: RxBuffer,
    /// READPAGE's page slot.
    pub(crate) page: Option<RxBuffer>,
}

/// Bytes written into the reply slots (each within its capacity).
pub(crate) struct Answer {
    pub(crate) reply: u32,
    pub(crate) page: u32,
}

/// What answers requests.
pub(crate) trait Backend {
    /// Answers the request in `slots`, writing the reply bytes into guest RAM. A bad guest
    /// range is a fault of the side it is on.
    fn answer(&mut self, ram: &mut GuestRam<'_>, slots: &Slots) -> Result<Answer, SideError>;
}

/// Writes `parts` back to back at the start of reply slot `slot` if they fit its capacity;
/// returns the bytes written (0, writing nothing, when they do not fit).
pub(crate) fn put(
    ram: &mut GuestRam<'_>,
    slot: &RxBuffer,
    parts: &[&[u8]],
) -> Result<u32, SideError> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if total > slot.capacity as usize {
        return Ok(0);
    }
    let mut at = 0usize;
    let buf = ram
        .bytes_mut(slot.addr, total as u32)
        .map_err(|error| RingError::Buffer {
            descriptor: slot.descriptor,
            error,
        })
        .rx()?;
    for part in parts {
        buf[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    Ok(total as u32)
}

/// Writes an error status into reply slot `slot` (nothing if it is smaller than a status).
pub(crate) fn put_error(
    ram: &mut GuestRam<'_>,
    slot: &RxBuffer,
    error: Errno,
    table: ErrnoTable,
) -> Result<u32, SideError> {
    put(ram, slot, &[&error.status(table).to_be_bytes()])
}

/// Answers everything with ENOSYS: a guest without a disk fails its mount instead of waiting.
struct Refuse {
    table: ErrnoTable,
}

impl Backend for Refuse {
    fn answer(&mut self, ram: &mut GuestRam<'_>, slots: &Slots) -> Result<Answer, SideError> {
        let reply = put_error(ram, &slots.reply, Errno::NoSys, self.table)?;
        Ok(Answer { reply, page: 0 })
    }
}

/// Queue 2 of one guest: its rings, its exports and the counters.
#[derive(Debug)]
pub(crate) struct Metafs {
    pub(crate) slot: Slot,
    pub(crate) exports: Exports,
    pub(crate) table: ErrnoTable,
    pub(crate) stats: MetafsStats,
}

impl Metafs {
    pub(crate) const fn new() -> Self {
        Self {
            slot: Slot::new(QueueId::Metafs),
            exports: Exports::none(),
            table: ErrnoTable::NATIVE,
            stats: MetafsStats::new(),
        }
    }

    /// Whether the guest has a disk (an export): then only [`Metafs::serve`] answers.
    pub(crate) fn has_disk(&self) -> bool {
        !self.exports.is_empty()
    }

    /// Refuses up to `budget` pending requests with ENOSYS; returns how many.
    pub(crate) fn refuse(
        &mut self,
        ram: &mut GuestRam<'_>,
        budget: u32,
    ) -> Result<u32, DeviceError> {
        let mut backend = Refuse { table: self.table };
        let done = poll(&mut self.slot, ram, budget, &mut backend)?;
        self.stats.refused += u64::from(done);
        Ok(done)
    }

    /// Serves up to `budget` pending requests from `store`; returns how many.
    pub(crate) fn serve<S: MetafsStore + ?Sized>(
        &mut self,
        ram: &mut GuestRam<'_>,
        budget: u32,
        store: &mut S,
        now: Timestamp,
    ) -> Result<u32, DeviceError> {
        let mut backend = server::Serve {
            exports: &self.exports,
            table: self.table,
            stats: &mut self.stats,
            store,
            now,
        };
        poll(&mut self.slot, ram, budget, &mut backend)
    }
}

/// Answers up to `budget` requests in ring order with `backend` (see the module
/// documentation); returns how many.
fn poll<B: Backend>(
    slot: &mut Slot,
    ram: &mut GuestRam<'_>,
    budget: u32,
    backend: &mut B,
) -> Result<u32, DeviceError> {
    slot.run(|ch| {
        let mut done = 0;
        while done < budget {
            let Some(request) = ch.tx.tx_peek(ram).tx()? else {
                break;
            };
            let cmd = ram
                .get(request.addr, request.len.min(4))
                .and_then(Header::of)
                .map(|h| h.cmd);
            let shape = Shape::of(cmd);
            let data = if shape.tx == 2 {
                match ch.tx.tx_peek_second(ram).tx()? {
                    Some(data) => Some(data),
                    None => break,
                }
            } else {
                None
            };
            let Some(reply) = ch.rx.rx_peek(ram).rx()? else {
                break;
            };
            let page = if shape.rx == 2 {
                match ch.rx.rx_peek_second(ram).rx()? {
                    Some(page) => Some(page),
                    None => break,
                }
            } else {
                None
            };
            let slots = Slots {
                request,
                data,
                reply,
                page,
            };
            let answer = backend.answer(ram, &slots)?;
            ch.rx.rx_commit(ram, &slots.reply, answer.reply).rx()?;
            if let Some(page) = &slots.page {
                ch.rx.rx_commit(ram, page, answer.page).rx()?;
            }
            ch.tx.tx_complete(ram, &slots.request).tx()?;
            if let Some(data) = &slots.data {
                ch.tx.tx_complete(ram, data).tx()?;
            }
            done += 1;
        }
        Ok(done)
    })
}
