//! Property tests: the window check accepts exactly the ranges inside the window, and the bytes it
//! returns are the right ones.

use guest_mem::{GuestRam, GuestWindow, Gva, MemError};
use proptest::prelude::*;

fn inside(base: u32, size: u32, addr: u32, len: u32) -> bool {
    let (base, size, addr, len) = (base as u64, size as u64, addr as u64, len as u64);
    addr >= base && addr + len <= base + size
}

proptest! {
    #[test]
    fn range_accepts_exactly_the_inside(
        base in prop_oneof![Just(0xC000_0000u32), Just(0x8000_0000u32), any::<u32>()],
        size in 0u32..0x1000_0000,
        addr in any::<u32>(),
        len in prop_oneof![0u32..64, any::<u32>()],
    ) {
        let Ok(w) = GuestWindow::new(Gva::new(base), size) else {
            prop_assert!(base as u64 + size as u64 > 1 << 32);
            return Ok(());
        };
        let got = w.range(Gva::new(addr), len);
        match got {
            Ok(gpa) => {
                prop_assert!(inside(base, size, addr, len));
                prop_assert_eq!(gpa.get(), addr - base);
            }
            Err(MemError::Overflow { .. }) => prop_assert!(addr as u64 + len as u64 > 1 << 32),
            Err(MemError::OutOfWindow { .. }) => {
                prop_assert!(!inside(base, size, addr, len));
                prop_assert!(addr as u64 + len as u64 <= 1 << 32);
            }
            Err(MemError::Misaligned { .. }) => prop_assert!(false, "no alignment asked"),
        }
    }

    #[test]
    fn addresses_near_the_window_edges(
        size in 1u32..4096,
        delta in -64i64..64,
        len in 0u32..80,
        at_end in any::<bool>(),
    ) {
        let base = 0xC000_0000u32;
        let edge = if at_end { base as i64 + size as i64 } else { base as i64 };
        let addr = (edge + delta) as u32;
        let mut mem = vec![0u8; size as usize];
        let ram = GuestRam::new(&mut mem, Gva::new(base)).unwrap();
        prop_assert_eq!(ram.bytes(Gva::new(addr), len).is_ok(), inside(base, size, addr, len));
    }

    #[test]
    fn bytes_are_the_right_bytes(
        mem in proptest::collection::vec(any::<u8>(), 1..512),
        off in 0usize..512,
        len in 0usize..64,
    ) {
        let mut mem = mem;
        let expected = mem.get(off..off + len).map(|s| s.to_vec());
        let ram = GuestRam::new(&mut mem, Gva::new(0x8000_0000)).unwrap();
        let got = ram.bytes(Gva::new(0x8000_0000 + off as u32), len as u32).ok().map(|s| s.to_vec());
        prop_assert_eq!(got, expected);
    }
}

/// The fast accessors (`get`, `get_range`, `get_array`, as used by the frame path) accept exactly
/// the non-empty ranges that the full checks accept, and return the same bytes.
mod fast_forms {
    use super::*;
    use guest_mem::GuestWindow;

    proptest! {
        #[test]
        fn fast_forms_agree_with_the_full_checks(
            size in 1u32..512,
            base in prop_oneof![Just(0xC000_0000u32), Just(0x8000_0000u32), any::<u32>()],
            delta in -80i64..600,
            far in any::<u32>(),
            use_far in any::<bool>(),
            len in prop_oneof![0u32..80, any::<u32>()],
        ) {
            // Windows that end exactly at 4 GiB are included (base chosen freely, then clamped).
            let base = base.min(u32::MAX - size + 1);
            let addr = if use_far { far } else { (base as i64 + delta) as u32 };
            let mut mem: Vec<u8> = (0..size).map(|i| i as u8).collect();
            let ram = GuestRam::new(&mut mem, Gva::new(base)).unwrap();
            let w = GuestWindow::new(Gva::new(base), size).unwrap();
            let a = Gva::new(addr);
            let full = w.range(a, len);
            prop_assert_eq!(ram.range(a, len), full);
            prop_assert_eq!(ram.get_range(a, len), full.ok().filter(|_| len > 0));
            prop_assert_eq!(
                ram.get(a, len),
                ram.bytes(a, len).ok().filter(|_| len > 0)
            );
            let expected = ram.aligned_bytes(a, 12, 16).ok();
            prop_assert_eq!(ram.get_array::<12>(a, 16).map(|b| &b[..]), expected);
            prop_assert_eq!(ram.array_ref::<12>(a, 16).map(|b| &b[..]), ram.aligned_bytes(a, 12, 16));
            prop_assert_eq!(ram.get_array::<4>(a, 1).map(|b| &b[..]), ram.bytes(a, 4).ok());
        }
    }

    #[test]
    fn writable_fast_forms_write_where_the_full_forms_do() {
        let mut mem = [0u8; 64];
        let mut ram = GuestRam::new(&mut mem, Gva::new(0xC000_0000)).unwrap();
        *ram.get_array_mut::<4>(Gva::new(0xC000_003C), 4).unwrap() = [1, 2, 3, 4];
        assert!(
            ram.get_array_mut::<4>(Gva::new(0xC000_003E), 2).is_none(),
            "runs past the end"
        );
        assert!(
            ram.get_array_mut::<4>(Gva::new(0xC000_0002), 4).is_none(),
            "misaligned"
        );
        ram.get_mut(Gva::new(0xC000_0001), 2)
            .unwrap()
            .copy_from_slice(&[9, 9]);
        assert!(
            ram.get_mut(Gva::new(0xC000_0001), 0).is_none(),
            "empty ranges go the full way"
        );
        assert!(ram.get_mut(Gva::new(0xBFFF_FFFF), 2).is_none());
        *ram.array_mut::<4>(Gva::new(0xC000_0010), 4).unwrap() = [5; 4];
        assert_eq!(
            ram.array_mut::<4>(Gva::new(0xC000_0012), 4).map(|_| ()),
            Err(MemError::Misaligned {
                addr: Gva::new(0xC000_0012),
                align: 4
            })
        );
        assert_eq!(&mem[60..], &[1, 2, 3, 4]);
        assert_eq!(&mem[..4], &[0, 9, 9, 0]);
        assert_eq!(&mem[16..20], &[5; 4]);
    }
}
