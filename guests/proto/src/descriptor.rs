//! vdma descriptors and ring cursors.
//!
//! A descriptor is `{ u32 addr; u32 size; u32 next; }`, 16-byte aligned, big-endian (native on
//! the guest), with guest-virtual addresses. Bit 31 of `size` is DONE (ownership):
//! - TX (guest to host): the guest fills the buffer, sets `addr` and `size = len | DONE`; the host
//!   consumes it and clears DONE. A slot whose DONE is still set is busy.
//! - RX (host to guest): the guest posts `size = capacity` (DONE clear); the host writes at most
//!   `capacity` bytes and sets `size = len | DONE`; the guest reads and posts the slot again.
//!
//! Rings are arrays linked into a circle through `next`, walked in array order (as the Linux
//! guest drivers do), so a cursor is an index modulo the ring length. The storage is abstracted
//! by [`DescriptorTable`] so the same cursor code runs on guest memory and on test tables.

/// Ownership bit of the `size` word.
pub const DONE: u32 = 1 << 31;
/// Required alignment of a descriptor in guest memory.
pub const DESCRIPTOR_ALIGN: u32 = 16;

/// Whether a `size` word has DONE set.
pub const fn is_done(size: u32) -> bool {
    size & DONE != 0
}

/// The byte count of a `size` word (DONE removed).
pub const fn length(size: u32) -> u32 {
    size & !DONE
}

/// A `size` word handing `len` bytes over (DONE set).
pub const fn done(len: u32) -> u32 {
    len | DONE
}

/// Descriptor storage: `len()` descriptors, each with a guest-virtual address.
///
/// Methods take `&self`: the guest implementation stores through atomics (the host changes the
/// words behind the compiler's back), test implementations through `Cell`.
pub trait DescriptorTable {
    /// Number of descriptors.
    fn len(&self) -> usize;
    /// Whether the table is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Guest-virtual address of descriptor `i` (what `next` and hypercalls carry).
    fn address_of(&self, i: usize) -> u32;
    /// Read `addr` of descriptor `i`.
    fn addr(&self, i: usize) -> u32;
    /// Read `size` of descriptor `i` (acquire: buffer contents written by the host are visible).
    fn size(&self, i: usize) -> u32;
    /// Read `next` of descriptor `i`.
    fn next(&self, i: usize) -> u32;
    /// Write `addr` of descriptor `i`.
    fn set_addr(&self, i: usize, value: u32);
    /// Write `size` of descriptor `i` (release: buffer contents written before are visible).
    fn set_size(&self, i: usize, value: u32);
    /// Write `next` of descriptor `i`.
    fn set_next(&self, i: usize, value: u32);
}

/// Link descriptors `0..len` into a circle (`next` of the last points at the first; a one-entry
/// ring points at itself) and clear every `size` (no buffer posted, nothing to send).
pub fn link_ring<T: DescriptorTable + ?Sized>(table: &T) {
    let n = table.len();
    for i in 0..n {
        table.set_addr(i, 0);
        table.set_size(i, 0);
        table.set_next(i, table.address_of((i + 1) % n));
    }
}

/// The guest's send cursor on a TX ring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxCursor {
    next: usize,
}

impl TxCursor {
    /// A cursor at slot 0.
    pub const fn new() -> Self {
        Self { next: 0 }
    }

    /// The slot the next frame goes to, if the host has released it (DONE clear).
    pub fn free_slot<T: DescriptorTable + ?Sized>(&self, table: &T) -> Option<usize> {
        (!is_done(table.size(self.next))).then_some(self.next)
    }

    /// Hand `len` bytes at `buffer` in the current slot to the host and move on.
    pub fn commit<T: DescriptorTable + ?Sized>(&mut self, table: &T, buffer: u32, len: u32) {
        table.set_addr(self.next, buffer);
        table.set_size(self.next, done(length(len)));
        self.next = (self.next + 1) % table.len();
    }

    /// The slot the cursor points at.
    pub const fn slot(&self) -> usize {
        self.next
    }

    /// How many slots the host still owns (DONE set).
    pub fn in_flight<T: DescriptorTable + ?Sized>(table: &T) -> usize {
        (0..table.len()).filter(|&i| is_done(table.size(i))).count()
    }
}

/// The guest's receive cursor on an RX ring whose slots all have the same capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RxCursor {
    next: usize,
    capacity: u32,
}

/// A filled RX slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filled {
    /// Slot index.
    pub slot: usize,
    /// Bytes the host wrote, clamped to the posted capacity (a host that reports more is
    /// not believed: the guest never reads past its own buffer).
    pub len: u32,
    /// Whether the host reported more than the capacity.
    pub overrun: bool,
}

impl RxCursor {
    /// A cursor at slot 0 for buffers of `capacity` bytes.
    pub const fn new(capacity: u32) -> Self {
        Self { next: 0, capacity }
    }

    /// The posted capacity of every slot.
    pub const fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Post buffer `buffer` (guest-virtual) in slot `i` with this cursor's capacity.
    pub fn post<T: DescriptorTable + ?Sized>(&self, table: &T, i: usize, buffer: u32) {
        table.set_addr(i, buffer);
        table.set_size(i, self.capacity);
    }

    /// The next filled slot, if the host has filled it (DONE set).
    pub fn filled<T: DescriptorTable + ?Sized>(&self, table: &T) -> Option<Filled> {
        let size = table.size(self.next);
        if !is_done(size) {
            return None;
        }
        let len = length(size);
        Some(Filled {
            slot: self.next,
            len: len.min(self.capacity),
            overrun: len > self.capacity,
        })
    }

    /// Give the current slot back to the host (capacity posted again) and move on.
    pub fn release<T: DescriptorTable + ?Sized>(&mut self, table: &T) {
        table.set_size(self.next, self.capacity);
        self.next = (self.next + 1) % table.len();
    }

    /// The slot the cursor points at.
    pub const fn slot(&self) -> usize {
        self.next
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use core::cell::Cell;

    /// A descriptor table in a plain array, at a pretend guest address.
    pub struct TestTable<const N: usize> {
        pub base: u32,
        pub words: [[Cell<u32>; 3]; N],
    }

    impl<const N: usize> TestTable<N> {
        pub fn new(base: u32) -> Self {
            Self {
                base,
                words: core::array::from_fn(|_| {
                    [Cell::new(0xDEAD), Cell::new(0xBEEF), Cell::new(0xF00D)]
                }),
            }
        }
    }

    impl<const N: usize> DescriptorTable for TestTable<N> {
        fn len(&self) -> usize {
            N
        }
        fn address_of(&self, i: usize) -> u32 {
            self.base + 16 * i as u32
        }
        fn addr(&self, i: usize) -> u32 {
            self.words[i][0].get()
        }
        fn size(&self, i: usize) -> u32 {
            self.words[i][1].get()
        }
        fn next(&self, i: usize) -> u32 {
            self.words[i][2].get()
        }
        fn set_addr(&self, i: usize, v: u32) {
            self.words[i][0].set(v)
        }
        fn set_size(&self, i: usize, v: u32) {
            self.words[i][1].set(v)
        }
        fn set_next(&self, i: usize, v: u32) {
            self.words[i][2].set(v)
        }
    }

    #[test]
    fn ring_is_linked_in_a_circle() {
        let t = TestTable::<3>::new(0xC010_0000);
        link_ring(&t);
        assert_eq!(
            [t.next(0), t.next(1), t.next(2)],
            [0xC010_0010, 0xC010_0020, 0xC010_0000]
        );
        assert!((0..3).all(|i| t.size(i) == 0 && t.addr(i) == 0));
        let one = TestTable::<1>::new(0xC020_0000);
        link_ring(&one);
        assert_eq!(
            one.next(0),
            0xC020_0000,
            "a one-entry ring points at itself"
        );
    }

    #[test]
    fn tx_slots_wait_for_the_host() {
        let t = TestTable::<2>::new(0xC010_0000);
        link_ring(&t);
        let mut tx = TxCursor::new();
        assert_eq!(tx.free_slot(&t), Some(0));
        tx.commit(&t, 0xC011_0000, 60);
        assert_eq!((t.addr(0), t.size(0)), (0xC011_0000, 60 | DONE));
        tx.commit(&t, 0xC011_1000, 61);
        assert_eq!(tx.free_slot(&t), None, "slot 0 still owned by the host");
        assert_eq!(TxCursor::in_flight(&t), 2);
        t.set_size(0, 60); // host consumed it
        assert_eq!(tx.free_slot(&t), Some(0));
        assert_eq!(TxCursor::in_flight(&t), 1);
    }

    #[test]
    fn rx_slots_clamp_a_lying_host() {
        let t = TestTable::<2>::new(0xC010_0000);
        link_ring(&t);
        let mut rx = RxCursor::new(1600);
        rx.post(&t, 0, 0xC012_0000);
        rx.post(&t, 1, 0xC012_1000);
        assert_eq!(rx.filled(&t), None);
        t.set_size(0, 100 | DONE);
        assert_eq!(
            rx.filled(&t),
            Some(Filled {
                slot: 0,
                len: 100,
                overrun: false
            })
        );
        rx.release(&t);
        assert_eq!(t.size(0), 1600);
        t.set_size(1, 5000 | DONE);
        assert_eq!(
            rx.filled(&t),
            Some(Filled {
                slot: 1,
                len: 1600,
                overrun: true
            })
        );
        rx.release(&t);
        assert_eq!(rx.slot(), 0, "cursor wraps");
    }
}
