//! The frame path's fast lanes for the virtual ethernet queue: taking the usual frame from the
//! TX ring, handing its descriptor back, delivering a frame into the posted RX buffer. Written
//! without calls (see `ring::fast`), each answers `None` / `false`, having changed nothing, where
//! the full operation would do anything else; the caller then runs the full operation.

use super::{Delivery, Taken, TxToken, Veth, ID_LEN, MIN_TRANSFER};
use crate::ring::fill_claimed;
use guest_mem::GuestRam;

impl Veth {
    /// The usual case of [`Veth::next_tx`]: a well-formed frame on an interface that is up, at
    /// the cursor of an open queue; counted and taken. `None`, with nothing done, for anything
    /// else (nothing sent, a fault, a drop): the full path then handles the same descriptor.
    /// Free of calls, so that the fast path needs no saved registers.
    #[inline(always)]
    pub(crate) fn take_fast(&mut self, ram: &GuestRam<'_>) -> Option<Taken> {
        let ch = self.slot.open_mut()?;
        let (tx, start) = ch.tx.tx_peek_fast(ram)?;
        // MIN_TRANSFER <= len <= max_transfer (which is at least MIN_TRANSFER).
        if tx.len.wrapping_sub(MIN_TRANSFER) > self.max_transfer - MIN_TRANSFER {
            return None;
        }
        let &[hi, lo] = ram.get(tx.addr, ID_LEN)? else {
            return None;
        };
        let iface = u16::from_be_bytes([hi, lo]);
        if !self.is_up(iface) {
            return None;
        }
        self.stats.tx_frames += 1;
        Some(Taken { iface, tx, start })
    }

    /// [`Veth::complete_tx`] when nothing in it can fail; `false`, with nothing done, otherwise.
    /// Free of calls, so that the fast path needs few saved registers.
    #[inline(always)]
    pub(crate) fn complete_tx_fast(&mut self, ram: &mut GuestRam<'_>, token: &TxToken) -> bool {
        let Some(ch) = self.slot.open_mut() else {
            return false;
        };
        let current = ch.tx.is_current_at(token.descriptor, token.serial);
        if !current || !ch.tx.tx_complete_fast(ram, token.descriptor, token.len) {
            return false;
        }
        self.handed_back = true;
        true
    }

    /// [`Veth::deliver`] of one frame in the usual cases: it goes into the posted buffer
    /// without anything unusual (see [`Ring::rx_claim_fast`](crate::ring::Ring)), or the guest
    /// has no buffer posted (dropped and counted, as `deliver` does); `None`, with nothing done,
    /// otherwise. A delivered frame is noted in [`Veth::unraised`] (`deliver` raises virq 3
    /// through its caller; here the caller may raise it once for several frames). The copy
    /// comes last, so that nothing waits across its call.
    #[inline(always)]
    pub(crate) fn deliver_fast(
        &mut self,
        ram: &mut GuestRam<'_>,
        iface: u16,
        frame: &[u8],
    ) -> Option<Delivery> {
        if !self.in_sync() | !self.is_up(iface) {
            return None;
        }
        let ch = self.slot.open_mut()?;
        let total = frame.len().wrapping_add(ID_LEN as usize);
        if let Some(buffer) = ch.rx.rx_claim_fast(ram, total) {
            self.stats.rx_frames += 1;
            self.unraised = true;
            fill_claimed(ram, buffer, iface.to_be_bytes(), frame);
            return Some(Delivery::Delivered);
        }
        if ch.rx.rx_unposted_fast(ram) {
            self.stats.rx_no_buffer += 1;
            return Some(Delivery::NoBuffer);
        }
        None
    }

    /// The virq bit of the queue, if it is open and has one.
    #[inline(always)]
    pub(crate) fn irq(&self) -> Option<u8> {
        self.slot.irq()
    }
}
