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
