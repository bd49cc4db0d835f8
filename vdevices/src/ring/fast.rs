//! The frame path's fast lanes through a ring: the usual case of a TX peek, a TX completion and
//! an RX fill (the buffer claimed, then filled), written without calls (so that a frame-path function using them needs no stack
//! frame) and with every check made before anything is written. Each answers `None` / `false`,
//! having changed nothing, where the full operation would do anything else (fault, find no
//! buffer, refuse a frame); the caller then runs the full operation, which does that.

use super::{Ring, TxBuffer};
use crate::abi::{DESCRIPTOR_ALIGN, DESCRIPTOR_LEN, DONE};
use crate::descriptor::Descriptor;
use guest_mem::{Gpa, GuestRam, Gva};

impl Ring {
    /// [`Ring::tx_peek_at`] in the fast form: the descriptor at the cursor if the guest has
    /// handed it over and its buffer is inside the window; `None` for anything else (not
    /// handed over, or a fault for the full path to report). No call.
    #[inline(always)]
    pub(crate) fn tx_peek_fast(&self, ram: &GuestRam<'_>) -> Option<(TxBuffer, Gpa)> {
        let d = Descriptor::get_at_cursor(ram, self.cursor)?;
        if !d.done() {
            return None;
        }
        let len = d.length();
        let start = ram.get_range(d.addr, len)?;
        let tx = TxBuffer {
            descriptor: self.cursor,
            addr: d.addr,
            len,
            next: d.next,
            serial: self.handed_back,
        };
        Some((tx, start))
    }

    /// [`Ring::tx_complete_at`] when nothing in it can fail; otherwise `false`, with nothing
    /// done (the caller then takes the full path, which reports the fault). The frame path's
    /// fast lane: all checks are made before anything is written.
    #[inline(always)]
    pub(crate) fn tx_complete_fast(
        &mut self,
        ram: &mut GuestRam<'_>,
        descriptor: Gva,
        len: u32,
    ) -> bool {
        if descriptor != self.cursor {
            return false;
        }
        let Some(d) = Descriptor::get_at_cursor(ram, descriptor) else {
            return false;
        };
        let Some(position) = self.position_after(ram, d.next) else {
            return false;
        };
        if !Descriptor::put_size_at_cursor(ram, descriptor, len) {
            return false;
        }
        self.handed_back = self.handed_back.wrapping_add(1);
        self.cursor = d.next;
        self.position = position;
        true
    }

    /// Where [`Ring::advance_to`] would put the cursor's position for the link `next`, or `None`
    /// if it would fail (a bad link, or more links than the ring has).
    #[inline(always)]
    fn position_after(&self, ram: &GuestRam<'_>, next: Gva) -> Option<u32> {
        ram.get_array::<{ DESCRIPTOR_LEN as usize }>(next, DESCRIPTOR_ALIGN)?;
        if next == self.head {
            return Some(0);
        }
        let position = self.position.wrapping_add(1);
        (position < self.entries).then_some(position)
    }

    /// Whether [`Ring::rx_peek`] finds no buffer posted at the cursor (the descriptor reads
    /// well, and is DONE or of capacity 0): what [`Ring::rx_fill_prefixed`] answers with
    /// [`RxFill::NoBuffer`](super::RxFill::NoBuffer), changing nothing. `false` for anything
    /// else. The frame path's fast lane for a guest that has not posted a buffer yet (under a
    /// flood, most frames to a busy guest). No call.
    #[inline(always)]
    pub(crate) fn rx_unposted_fast(&self, ram: &GuestRam<'_>) -> bool {
        Descriptor::get_at_cursor(ram, self.cursor).is_some_and(|d| d.done() | (d.size == 0))
    }

    /// The first half of [`Ring::rx_fill_prefixed`] with a two-byte prefix and one part: when
    /// the buffer at the cursor is posted, large enough for `total` bytes and inside the window,
    /// and its link is good, hands it back as holding `total` bytes (its size written with
    /// DONE, the cursor moved on) and answers where the bytes go; otherwise `None`, with nothing
    /// done (the caller then takes the full path, which reports what happened). The caller
    /// writes the bytes with [`fill_claimed`] before the guest runs again: the guest sees the
    /// same ring as after `rx_fill_prefixed`. Claiming first means that nothing of the ring is
    /// still needed once the copy starts (the frame path's fast lane keeps no values across
    /// the copy's call).
    #[inline(always)]
    pub(crate) fn rx_claim_fast(&mut self, ram: &mut GuestRam<'_>, total: usize) -> Option<Gva> {
        let d = Descriptor::get_at_cursor(ram, self.cursor)?;
        // Posted (DONE clear, capacity not 0) and large enough.
        if d.done() | (d.size == 0) | (total > d.size as usize) {
            return None;
        }
        let position = self.position_after(ram, d.next)?;
        // `total` is at most the capacity, below 2^31.
        ram.get_range(d.addr, total as u32)?;
        // Cannot fail: the same descriptor was just read through the same RAM.
        if !Descriptor::put_size_at_cursor(ram, self.cursor, total as u32 | DONE) {
            return None;
        }
        self.handed_back = self.handed_back.wrapping_add(1);
        self.cursor = d.next;
        self.position = position;
        Some(d.addr)
    }
}

/// The second half of [`Ring::rx_claim_fast`]: `prefix` then `data` into the buffer at `addr`
/// that it claimed for `prefix.len() + data.len()` bytes.
#[inline(always)]
pub(crate) fn fill_claimed(ram: &mut GuestRam<'_>, addr: Gva, prefix: [u8; 2], data: &[u8]) {
    let total = data.len().wrapping_add(prefix.len());
    // Always there: `rx_claim_fast` checked this range through the same RAM, whose size and
    // window do not change.
    if let Some(buf) = ram.get_mut(addr, total as u32) {
        let (head, body) = buf.split_at_mut(prefix.len());
        head.copy_from_slice(&prefix);
        guest_mem::copy(body, data);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::ring::RxFill;
    use guest_mem::MIPS_RAM_WINDOW;
    use proptest::prelude::*;
    use std::vec::Vec;

    const BASE: u32 = 0xC000_0000;

    /// The fast lane's fill: claim, then fill; whether the buffer was taken.
    fn rx_fill_fast(rx: &mut Ring, ram: &mut GuestRam<'_>, prefix: [u8; 2], data: &[u8]) -> bool {
        match rx.rx_claim_fast(ram, data.len() + prefix.len()) {
            Some(addr) => {
                fill_claimed(ram, addr, prefix, data);
                true
            }
            None => false,
        }
    }
    const RAM: usize = 2048;

    /// What a descriptor's fields are set to.
    fn field(choice: u8, good: u32) -> u32 {
        match choice % 8 {
            0 => BASE + RAM as u32 - 8, // buffer runs past the end / link outside
            1 => good + 4,              // misaligned link
            2 => BASE - 16,             // below the window
            3 => 0xFFFF_FFF0,           // near 4 GiB
            _ => good,
        }
    }

    fn put_word(mem: &mut [u8], at: u32, value: u32) {
        let at = (at - BASE) as usize;
        mem[at..at + 4].copy_from_slice(&value.to_be_bytes());
    }

    /// A ring of `n` descriptors at 0x100 with 160-byte buffers from 0x200, then damage.
    fn layout(n: u32, sizes: &[u32], damage: &[(u8, u8, u8)]) -> Vec<u8> {
        let mut mem = std::vec![0x5Au8; RAM];
        for i in 0..n {
            let at = BASE + 0x100 + 16 * i;
            let next = BASE + 0x100 + 16 * ((i + 1) % n);
            put_word(&mut mem, at, BASE + 0x200 + 160 * i);
            put_word(&mut mem, at + 4, sizes[i as usize % sizes.len()]);
            put_word(&mut mem, at + 8, next);
        }
        for &(which, what, choice) in damage {
            let at = BASE + 0x100 + 16 * (u32::from(which) % n);
            let good_next = BASE + 0x100 + 16 * ((u32::from(which) + 1) % n);
            match what % 3 {
                0 => put_word(&mut mem, at, field(choice, BASE + 0x200)),
                1 => put_word(&mut mem, at + 8, field(choice, good_next)),
                _ => {
                    // A link back into the ring that skips the head (a loop after rewiring).
                    let back = BASE + 0x100 + 16 * (u32::from(choice) % n);
                    put_word(&mut mem, at + 8, back);
                }
            }
        }
        mem
    }

    fn sizes() -> impl Strategy<Value = Vec<u32>> {
        proptest::collection::vec(
            prop_oneof![
                Just(0u32),
                Just(160),
                Just(20),
                Just(DONE | 60),
                Just(DONE | 16),
                Just(DONE | 4000),
                Just(DONE),
            ],
            1..6,
        )
    }

    proptest! {
        /// Each fast lane either does exactly what the full operation does (same result, same
        /// RAM, same ring) or nothing at all, over rings damaged after they were attached, with
        /// the RAM seen through a shorter slice at times.
        #[test]
        fn fast_lanes_do_what_the_full_operations_do_or_nothing(
            n in 1u32..6,
            sizes in sizes(),
            damage in proptest::collection::vec((0..6u8, 0..3u8, 0..12u8), 0..4),
            ops in proptest::collection::vec((0..3u8, 0..200usize, 0..9u8), 1..24),
            short in prop_oneof![Just(RAM), 0x100..RAM],
        ) {
            let mut mem = layout(n, &[160], &[]);
            let head = Gva::new(BASE + 0x100);
            let ring0 = {
                let ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
                Ring::attach(&ram, head, 16).unwrap()
            };
            let mut mem = layout(n, &sizes, &damage);
            let (mut tx, mut rx) = (ring0, ring0);
            let data: Vec<u8> = (0..200u8).collect();
            let mut fast_hits = 0;
            for (op, len, repost) in ops {
                // The guest reposts or hands over one descriptor between operations.
                let i = u32::from(repost) % n;
                put_word(&mut mem, BASE + 0x104 + 16 * i, sizes[repost as usize % sizes.len()]);
                let view = if op == 2 { short } else { RAM };
                let before = mem.clone();
                match op {
                    0 => {
                        let (mut fast_mem, mut full_mem) = (mem.clone(), mem.clone());
                        let (mut fast, mut full) = (rx, rx);
                        let ok = {
                            let mut ram = GuestRam::new(&mut fast_mem[..view], MIPS_RAM_WINDOW).unwrap();
                            rx_fill_fast(&mut fast, &mut ram, [0, 1], &data[..len])
                        };
                        let expected = {
                            let mut ram = GuestRam::new(&mut full_mem[..view], MIPS_RAM_WINDOW).unwrap();
                            full.rx_fill_prefixed(&mut ram, &[0, 1], &[&data[..len]])
                        };
                        if ok {
                            fast_hits += 1;
                            let filled = matches!(expected, Ok(RxFill::Filled { len: l, .. }) if l as usize == len + 2);
                            prop_assert!(filled);
                            prop_assert_eq!(&fast_mem, &full_mem);
                            prop_assert_eq!(fast, full);
                        } else {
                            let filled = matches!(expected, Ok(RxFill::Filled { .. }));
                            prop_assert!(!filled);
                            prop_assert_eq!(&fast_mem, &before);
                            prop_assert_eq!(fast, rx);
                            // No buffer: exactly where the full operation finds none.
                            let ram = GuestRam::new(&mut fast_mem[..view], MIPS_RAM_WINDOW).unwrap();
                            let unposted = matches!(expected, Ok(RxFill::NoBuffer));
                            prop_assert_eq!(fast.rx_unposted_fast(&ram), unposted);
                            if unposted {
                                prop_assert_eq!(&full_mem, &before);
                                prop_assert_eq!(full, rx);
                            }
                        }
                        if expected.is_ok() {
                            (mem, rx) = (full_mem, full);
                        }
                    }
                    _ => {
                        let ram = GuestRam::new(&mut mem[..view], MIPS_RAM_WINDOW).unwrap();
                        let peeked = tx.tx_peek_at(&ram);
                        // `None` sends the caller the full way (a zero-length transfer, for
                        // one, is handed over but not a frame); `Some` must be what it finds.
                        if let Some(fast) = tx.tx_peek_fast(&ram) {
                            prop_assert_eq!(peeked, Ok(Some(fast)));
                        }
                        let Ok(Some((taken, _))) = peeked else { continue };
                        let done_len = taken.len.min(len as u32);
                        let (mut fast_mem, mut full_mem) = (mem.clone(), mem.clone());
                        let (mut fast, mut full) = (tx, tx);
                        let ok = {
                            let mut ram = GuestRam::new(&mut fast_mem[..view], MIPS_RAM_WINDOW).unwrap();
                            fast.tx_complete_fast(&mut ram, taken.descriptor, done_len)
                        };
                        let expected = {
                            let mut ram = GuestRam::new(&mut full_mem[..view], MIPS_RAM_WINDOW).unwrap();
                            full.tx_complete_at(&mut ram, taken.descriptor, done_len)
                        };
                        if ok {
                            fast_hits += 1;
                            prop_assert_eq!(expected, Ok(()));
                            prop_assert_eq!(&fast_mem, &full_mem);
                            prop_assert_eq!(fast, full);
                        } else {
                            prop_assert!(expected.is_err());
                            prop_assert_eq!(&fast_mem, &before);
                            prop_assert_eq!(fast, tx);
                        }
                        if expected.is_ok() {
                            (mem, tx) = (full_mem, full);
                        }
                    }
                }
            }
            let _ = fast_hits;
        }
    }

    /// The lanes are taken in the usual case (so the property above is not vacuous).
    #[test]
    fn usual_frames_take_the_fast_lanes() {
        let mut mem = layout(3, &[160], &[]);
        let head = Gva::new(BASE + 0x100);
        let mut ram = GuestRam::new(&mut mem, MIPS_RAM_WINDOW).unwrap();
        let mut rx = Ring::attach(&ram, head, 16).unwrap();
        for _ in 0..7 {
            assert!(rx_fill_fast(&mut rx, &mut ram, [0, 1], &[7; 100]));
            let at = rx.cursor();
            Descriptor::write_size(&mut ram, at, 160).unwrap();
        }
        let mut tx = rx;
        for i in 0..3 {
            Descriptor::write_size(&mut ram, Gva::new(BASE + 0x100 + 16 * i), DONE | 60).unwrap();
        }
        for _ in 0..3 {
            let (taken, start) = tx.tx_peek_fast(&ram).unwrap();
            assert_eq!(start.get(), taken.addr.get() - BASE);
            assert!(tx.tx_complete_fast(&mut ram, taken.descriptor, 60));
        }
        assert!(tx.tx_peek_fast(&ram).is_none(), "all handed back");
    }
}
