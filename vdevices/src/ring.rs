//! The vdma ring engine: one guest descriptor ring and the host's cursor in it.
//!
//! A ring is a circular list of descriptors linked by `next` (a one-entry ring links to itself).
//! [`Ring::attach`] walks it once from the head and refuses it if any link is outside the RAM
//! window or misaligned, if it enters a cycle that does not come back to the head (Brent's cycle
//! detection, no memory needed), or if it is longer than the bound. After that the host keeps a
//! cursor and its position from the head; every link followed later is checked again, and a
//! chain rewired so that more links than the ring had are followed without meeting the head is
//! reported as a loop. Nothing here panics on guest data.
//!
//! TX (guest to host): [`Ring::tx_peek`] returns the descriptor at the cursor once the guest has
//! set DONE; [`Ring::tx_complete`] clears DONE (leaving the length) and moves on.
//! RX (host to guest): a descriptor is posted when DONE is clear and `size` (the capacity) is
//! not zero; [`Ring::rx_fill`] writes at most that many bytes, sets `size = len | DONE` and moves
//! on. The cursor never skips a descriptor the guest has not handed over: guests consume RX
//! strictly in ring order, so skipping one would desynchronise them.

mod fast;
pub(crate) use fast::fill_claimed;

use crate::abi::{DESCRIPTOR_ALIGN, DESCRIPTOR_LEN, DONE};
use crate::descriptor::Descriptor;
use crate::fault::RingError;
use guest_mem::{Gpa, GuestRam, Gva};

/// The host's view of one guest ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ring {
    head: Gva,
    cursor: Gva,
    /// Descriptors on the cycle through the head, as found by `attach`.
    entries: u32,
    /// Links followed since the cursor was last at the head.
    position: u32,
    /// Descriptors handed back so far (wrapping); makes TX tokens single-use.
    handed_back: u32,
}

/// A TX descriptor the guest has handed over: `len` bytes at `addr` (already checked to be
/// inside the RAM window).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxBuffer {
    /// The descriptor.
    pub descriptor: Gva,
    /// The buffer.
    pub addr: Gva,
    /// Bytes in the buffer.
    pub len: u32,
    next: Gva,
    serial: u32,
}

impl TxBuffer {
    /// Descriptors the ring had handed back when this one was peeked (what makes it current).
    #[inline(always)]
    pub(crate) fn serial(&self) -> u32 {
        self.serial
    }
}

/// An RX descriptor the guest has posted: room for `capacity` bytes at `addr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxBuffer {
    /// The descriptor.
    pub descriptor: Gva,
    /// The buffer.
    pub addr: Gva,
    /// How many bytes the guest allows the host to write.
    pub capacity: u32,
    next: Gva,
}

/// What [`Ring::rx_fill`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxFill {
    /// `len` bytes were written into the buffer of `descriptor` and handed to the guest.
    Filled {
        /// The descriptor that was filled.
        descriptor: Gva,
        /// Bytes written.
        len: u32,
    },
    /// No buffer is posted at the cursor (`size` is 0 or DONE is still set): nothing written.
    NoBuffer,
    /// The data is longer than the posted buffer: nothing written, the buffer stays posted.
    TooLong {
        /// The posted capacity.
        capacity: u32,
    },
}

/// Checks that `at` can hold a descriptor.
#[inline]
fn check_descriptor(ram: &GuestRam<'_>, at: Gva) -> Result<(), RingError> {
    match ram.array_ref::<{ DESCRIPTOR_LEN as usize }>(at, DESCRIPTOR_ALIGN) {
        Ok(_) => Ok(()),
        Err(error) => Err(RingError::Descriptor(error)),
    }
}

#[inline]
fn read(ram: &GuestRam<'_>, at: Gva) -> Result<Descriptor, RingError> {
    Descriptor::read(ram, at).map_err(RingError::Descriptor)
}

/// Writes the `size` word of the descriptor at `at`, which the ring has checked already (the
/// write is still bounds-checked, like every access).
#[inline]
fn write_size(ram: &mut GuestRam<'_>, at: Gva, size: u32) -> Result<(), RingError> {
    Descriptor::write_size(ram, at, size).map_err(RingError::Descriptor)
}

/// The checked `next` link of the descriptor at `at`.
fn link_after(ram: &GuestRam<'_>, at: Gva) -> Result<Gva, RingError> {
    let next = read(ram, at)?.next;
    check_descriptor(ram, next)?;
    Ok(next)
}

impl Ring {
    /// Attaches to the ring whose first descriptor is at `head`, after checking the whole chain
    /// (see the module documentation). `max_entries` bounds the walk.
    pub fn attach(ram: &GuestRam<'_>, head: Gva, max_entries: u32) -> Result<Self, RingError> {
        check_descriptor(ram, head)?;
        // Brent: the tortoise jumps to the hare at powers of two; meeting it means a cycle.
        let (mut tortoise, mut hare) = (head, link_after(ram, head)?);
        let (mut power, mut lambda, mut entries) = (1u32, 1u32, 1u32);
        while hare != head {
            if hare == tortoise {
                return Err(RingError::Loop { at: hare });
            }
            if entries >= max_entries {
                return Err(RingError::TooLong { limit: max_entries });
            }
            if power == lambda {
                tortoise = hare;
                power = power.saturating_mul(2);
                lambda = 0;
            }
            hare = link_after(ram, hare)?;
            lambda += 1;
            entries += 1;
        }
        Ok(Self {
            head,
            cursor: head,
            entries,
            position: 0,
            handed_back: 0,
        })
    }

    /// The first descriptor, as the guest gave it.
    pub fn head(&self) -> Gva {
        self.head
    }

    /// The descriptor the host looks at next.
    pub fn cursor(&self) -> Gva {
        self.cursor
    }

    /// Descriptors on the ring, as found when attaching.
    pub fn entries(&self) -> u32 {
        self.entries
    }

    /// Moves the cursor to `next` (the cursor descriptor's link, read by the caller).
    #[inline]
    fn advance_to(&mut self, ram: &GuestRam<'_>, next: Gva) -> Result<(), RingError> {
        check_descriptor(ram, next)?;
        if next == self.head {
            self.position = 0;
        } else {
            self.position += 1;
            if self.position >= self.entries {
                return Err(RingError::Loop { at: next });
            }
        }
        self.cursor = next;
        Ok(())
    }

    /// The TX descriptor at the cursor if the guest has set DONE on it.
    #[inline]
    pub fn tx_peek(&self, ram: &GuestRam<'_>) -> Result<Option<TxBuffer>, RingError> {
        Ok(self.tx_peek_at(ram)?.map(|(tx, _)| tx))
    }

    /// [`Ring::tx_peek`], also giving where the buffer starts in the guest's RAM.
    #[inline(always)]
    pub(crate) fn tx_peek_at(
        &self,
        ram: &GuestRam<'_>,
    ) -> Result<Option<(TxBuffer, Gpa)>, RingError> {
        let d = read(ram, self.cursor)?;
        if !d.done() {
            return Ok(None);
        }
        let len = d.length();
        let start = ram.range(d.addr, len).map_err(|error| RingError::Buffer {
            descriptor: self.cursor,
            error,
        })?;
        let tx = TxBuffer {
            descriptor: self.cursor,
            addr: d.addr,
            len,
            next: d.next,
            serial: self.handed_back,
        };
        Ok(Some((tx, start)))
    }

    /// The TX descriptor after the cursor, if the guest has set DONE on it too (for requests
    /// that span two descriptors), with its buffer range checked (never on a one-descriptor
    /// ring). Complete the cursor's descriptor first, then this one.
    pub fn tx_peek_second(&self, ram: &GuestRam<'_>) -> Result<Option<TxBuffer>, RingError> {
        let second = link_after(ram, self.cursor)?;
        let d = read(ram, second)?;
        // A one-descriptor ring has no second descriptor to give.
        if !d.done() || second == self.cursor {
            return Ok(None);
        }
        let len = d.length();
        ram.range(d.addr, len).map_err(|error| RingError::Buffer {
            descriptor: second,
            error,
        })?;
        Ok(Some(TxBuffer {
            descriptor: second,
            addr: d.addr,
            len,
            next: d.next,
            serial: self.handed_back.wrapping_add(1),
        }))
    }

    /// Whether `tx` came from the latest [`Ring::tx_peek`] and has not been completed yet.
    pub fn is_current(&self, tx: &TxBuffer) -> bool {
        self.is_current_at(tx.descriptor, tx.serial)
    }

    /// [`Ring::is_current`] for the descriptor at `descriptor`, taken when the ring had handed
    /// `serial` descriptors back.
    #[inline(always)]
    pub(crate) fn is_current_at(&self, descriptor: Gva, serial: u32) -> bool {
        (descriptor == self.cursor) & (serial == self.handed_back)
    }

    /// Hands the TX descriptor `tx` (from [`Ring::tx_peek`]) back: clears DONE, keeping the
    /// length, and moves the cursor on. The caller checks [`Ring::is_current`] first.
    #[inline]
    pub fn tx_complete(&mut self, ram: &mut GuestRam<'_>, tx: &TxBuffer) -> Result<(), RingError> {
        write_size(ram, tx.descriptor, tx.len)?;
        self.handed_back = self.handed_back.wrapping_add(1);
        self.advance_to(ram, tx.next)
    }

    /// [`Ring::tx_complete`] for a descriptor known by its address and length: its `next` link
    /// is read again from the descriptor (which the guest has handed over and must not change).
    #[inline]
    pub(crate) fn tx_complete_at(
        &mut self,
        ram: &mut GuestRam<'_>,
        descriptor: Gva,
        len: u32,
    ) -> Result<(), RingError> {
        let next = read(ram, descriptor)?.next;
        write_size(ram, descriptor, len)?;
        self.handed_back = self.handed_back.wrapping_add(1);
        self.advance_to(ram, next)
    }

    /// The RX buffer posted at the cursor: DONE clear and a non-zero capacity.
    #[inline]
    pub fn rx_peek(&self, ram: &GuestRam<'_>) -> Result<Option<RxBuffer>, RingError> {
        let d = read(ram, self.cursor)?;
        if d.done() || d.size == 0 {
            return Ok(None);
        }
        Ok(Some(RxBuffer {
            descriptor: self.cursor,
            addr: d.addr,
            capacity: d.size,
            next: d.next,
        }))
    }

    /// Writes `parts` back to back into the buffer posted at the cursor, if they fit its
    /// capacity, hands it to the guest (`size = len | DONE`) and moves on. Only the bytes written
    /// must be inside the RAM window, not the whole capacity.
    #[inline]
    pub fn rx_fill(
        &mut self,
        ram: &mut GuestRam<'_>,
        parts: &[&[u8]],
    ) -> Result<RxFill, RingError> {
        self.rx_fill_prefixed(ram, &[], parts)
    }

    /// Like [`Ring::rx_fill`], with `prefix` written before the parts.
    #[inline]
    pub fn rx_fill_prefixed(
        &mut self,
        ram: &mut GuestRam<'_>,
        prefix: &[u8],
        parts: &[&[u8]],
    ) -> Result<RxFill, RingError> {
        let Some(rx) = self.rx_peek(ram)? else {
            return Ok(RxFill::NoBuffer);
        };
        let total = prefix.len() + parts.iter().map(|p| p.len()).sum::<usize>();
        if total > rx.capacity as usize {
            return Ok(RxFill::TooLong {
                capacity: rx.capacity,
            });
        }
        let total = total as u32;
        let buf = ram
            .bytes_mut(rx.addr, total)
            .map_err(|error| RingError::Buffer {
                descriptor: rx.descriptor,
                error,
            })?;
        let (head, mut rest) = buf.split_at_mut(prefix.len());
        head.copy_from_slice(prefix);
        for part in parts {
            let (this, tail) = rest.split_at_mut(part.len());
            guest_mem::copy(this, part);
            rest = tail;
        }
        self.hand_over(ram, &rx, total)
    }

    /// Like [`Ring::rx_fill`], for data that is already in this guest's RAM: writes `header`,
    /// then copies `len` bytes from `src` (checked) after it.
    pub fn rx_fill_from_own(
        &mut self,
        ram: &mut GuestRam<'_>,
        header: &[u8],
        src: Gva,
        len: u32,
    ) -> Result<RxFill, RingError> {
        let Some(rx) = self.rx_peek(ram)? else {
            return Ok(RxFill::NoBuffer);
        };
        let buffer_error = |error| RingError::Buffer {
            descriptor: rx.descriptor,
            error,
        };
        let total = header.len() as u64 + len as u64;
        if total > rx.capacity as u64 {
            return Ok(RxFill::TooLong {
                capacity: rx.capacity,
            });
        }
        let total = total as u32;
        ram.window().range(rx.addr, total).map_err(buffer_error)?;
        let body = Gva::new(rx.addr.get() + header.len() as u32);
        // The source is guest data too: a bad source range is this guest's fault as well.
        ram.copy_within(src, len, body).map_err(buffer_error)?;
        ram.write_from(rx.addr, header).map_err(buffer_error)?;
        self.hand_over(ram, &rx, total)
    }

    /// The RX buffer posted after the cursor's (for replies that take two descriptors), if the
    /// cursor's is posted too (never on a one-descriptor ring).
    pub fn rx_peek_second(&self, ram: &GuestRam<'_>) -> Result<Option<RxBuffer>, RingError> {
        if self.rx_peek(ram)?.is_none() {
            return Ok(None);
        }
        let second = link_after(ram, self.cursor)?;
        let d = read(ram, second)?;
        if d.done() || d.size == 0 || second == self.cursor {
            return Ok(None);
        }
        Ok(Some(RxBuffer {
            descriptor: second,
            addr: d.addr,
            capacity: d.size,
            next: d.next,
        }))
    }

    /// Hands the posted buffer `rx` (the cursor's, from [`Ring::rx_peek`] or the last
    /// [`Ring::rx_peek_second`] once the first is handed over) to the guest with `len` bytes
    /// that the caller has written into it (`len` at most its capacity), and moves on.
    pub(crate) fn rx_commit(
        &mut self,
        ram: &mut GuestRam<'_>,
        rx: &RxBuffer,
        len: u32,
    ) -> Result<RxFill, RingError> {
        debug_assert_eq!(rx.descriptor, self.cursor);
        self.hand_over(ram, rx, len.min(rx.capacity))
    }

    #[inline]
    fn hand_over(
        &mut self,
        ram: &mut GuestRam<'_>,
        rx: &RxBuffer,
        len: u32,
    ) -> Result<RxFill, RingError> {
        debug_assert!(len <= rx.capacity && len & DONE == 0);
        write_size(ram, rx.descriptor, len | DONE)?;
        self.handed_back = self.handed_back.wrapping_add(1);
        self.advance_to(ram, rx.next)?;
        Ok(RxFill::Filled {
            descriptor: rx.descriptor,
            len,
        })
    }
}
