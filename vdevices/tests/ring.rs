//! The ring engine on its own: attach checks, TX ownership and wrap, RX capacity, faults.

mod common;

use common::{Guest, MIPS_BASE};
use guest_mem::{Gva, MemError};
use vdevices::abi::{DONE, MAX_RING_ENTRIES};
use vdevices::ring::{Ring, RxFill};
use vdevices::RingError;

fn gva(v: u32) -> Gva {
    Gva::new(v)
}

#[test]
fn attach_measures_the_ring() {
    let mut g = Guest::new(1 << 20);
    let r = g.ring(1024, 0, 0);
    let one = g.ring(1, 16, 0);
    let ring = Ring::attach(&g.ram(), gva(r.head), MAX_RING_ENTRIES).unwrap();
    assert_eq!(
        (ring.entries(), ring.cursor(), ring.head()),
        (1024, gva(r.head), gva(r.head))
    );
    assert_eq!(
        Ring::attach(&g.ram(), gva(one.head), MAX_RING_ENTRIES)
            .unwrap()
            .entries(),
        1
    );
}

#[test]
fn attach_refuses_bad_heads_and_links() {
    let mut g = Guest::new(1 << 16);
    let r = g.ring(4, 0, 0);
    let misaligned = r.head + 4;
    assert_eq!(
        Ring::attach(&g.ram(), gva(misaligned), 16),
        Err(RingError::Descriptor(MemError::Misaligned {
            addr: gva(misaligned),
            align: 16
        }))
    );
    assert_eq!(
        Ring::attach(&g.ram(), gva(0x8000_1000), 16),
        Err(RingError::Descriptor(MemError::OutOfWindow {
            addr: gva(0x8000_1000),
            len: 12
        }))
    );
    // A link leaving the window (into the hypervisor's kseg0, say).
    g.w32(r.desc(2) + 8, 0x8000_0000);
    assert_eq!(
        Ring::attach(&g.ram(), gva(r.head), 16),
        Err(RingError::Descriptor(MemError::OutOfWindow {
            addr: gva(0x8000_0000),
            len: 12
        }))
    );
    // A link just past the end of RAM.
    g.w32(r.desc(2) + 8, g.end());
    assert_eq!(
        Ring::attach(&g.ram(), gva(r.head), 16),
        Err(RingError::Descriptor(MemError::OutOfWindow {
            addr: gva(g.end()),
            len: 12
        }))
    );
    // A link to the last 8 bytes of a RAM whose size is not a multiple of 16: an aligned
    // address where no whole descriptor fits.
    let mut odd = Guest::new((1 << 16) - 8);
    let r2 = odd.ring(4, 0, 0);
    let last = odd.end() - 8;
    odd.w32(r2.desc(2) + 8, last);
    assert_eq!(
        Ring::attach(&odd.ram(), gva(r2.head), 16),
        Err(RingError::Descriptor(MemError::OutOfWindow {
            addr: gva(last),
            len: 12
        }))
    );
    // A misaligned link.
    g.w32(r.desc(2) + 8, r.desc(3) + 8);
    assert!(matches!(
        Ring::attach(&g.ram(), gva(r.head), 16),
        Err(RingError::Descriptor(MemError::Misaligned { .. }))
    ));
}

#[test]
fn attach_detects_cycles_that_miss_the_head() {
    let mut g = Guest::new(1 << 16);
    for (len, back_to) in [(2u32, 1u32), (5, 1), (5, 3), (7, 6), (64, 10), (100, 99)] {
        let r = g.ring(len, 0, 0);
        // Last descriptor links back into the middle instead of to the head.
        g.w32(r.desc(len - 1) + 8, r.desc(back_to));
        match Ring::attach(&g.ram(), gva(r.head), MAX_RING_ENTRIES) {
            Err(RingError::Loop { at }) => {
                let index = (at.get() - r.head) / 16;
                assert!(index >= back_to && index < len, "loop reported at {at}");
            }
            other => panic!("ring of {len} looping to {back_to}: {other:?}"),
        }
    }
}

#[test]
fn attach_bounds_the_walk() {
    let mut g = Guest::new(1 << 20);
    let r = g.ring(300, 0, 0);
    assert_eq!(
        Ring::attach(&g.ram(), gva(r.head), 299),
        Err(RingError::TooLong { limit: 299 })
    );
    assert_eq!(
        Ring::attach(&g.ram(), gva(r.head), 300).map(|r| r.entries()),
        Ok(300)
    );
}

/// TX: only DONE descriptors are taken, DONE is cleared (length kept) and the cursor wraps.
#[test]
fn tx_takes_done_descriptors_in_order_and_wraps() {
    let mut g = Guest::new(1 << 20);
    let r = g.ring(4, 64, 0);
    let mut ring = Ring::attach(&g.ram(), gva(r.head), 16).unwrap();
    let mut seen = Vec::new();
    for round in 0..5u32 {
        // The guest fills three descriptors per round.
        for k in 0..3 {
            let i = round * 3 + k;
            let d = r.desc(i);
            g.write(r.bufs[(i % 4) as usize], &[i as u8; 10]);
            assert_eq!(g.d_size(d) & DONE, 0, "guest must own descriptor {i}");
            g.w32(d + 4, (10 + k) | DONE);
        }
        loop {
            let mut ram = g.ram();
            let Some(tx) = ring.tx_peek(&ram).unwrap() else {
                break;
            };
            seen.push((ram.bytes(tx.addr, tx.len).unwrap()[0], tx.len));
            assert!(ring.is_current(&tx));
            ring.tx_complete(&mut ram, &tx).unwrap();
            assert!(!ring.is_current(&tx), "a token is good for one completion");
        }
        for k in 0..3 {
            let d = r.desc(round * 3 + k);
            assert_eq!(g.d_size(d), 10 + k, "DONE cleared, length kept");
        }
    }
    let expected: Vec<(u8, u32)> = (0..15u32).map(|i| (i as u8, 10 + i % 3)).collect();
    assert_eq!(seen, expected);
    assert_eq!(ring.cursor(), gva(r.desc(15)));
}

#[test]
fn tx_buffer_outside_the_window_is_a_fault() {
    let mut g = Guest::new(1 << 16);
    let r = g.ring(2, 64, 0);
    let ring = Ring::attach(&g.ram(), gva(r.head), 16).unwrap();
    g.set_desc(r.head, g.end() - 10, 11 | DONE, r.desc(1));
    assert_eq!(
        ring.tx_peek(&g.ram()),
        Err(RingError::Buffer {
            descriptor: gva(r.head),
            error: MemError::OutOfWindow {
                addr: gva(g.end() - 10),
                len: 11
            }
        })
    );
    g.set_desc(r.head, 0xFFFF_FFF0, 0x20 | DONE, r.desc(1));
    assert_eq!(
        ring.tx_peek(&g.ram()),
        Err(RingError::Buffer {
            descriptor: gva(r.head),
            error: MemError::Overflow {
                addr: gva(0xFFFF_FFF0),
                len: 0x20
            }
        })
    );
}

/// RX: never past the posted capacity, never into an unposted descriptor, never skipping.
#[test]
fn rx_respects_capacity_and_ownership() {
    let mut g = Guest::new(1 << 16);
    let r = g.ring(3, 64, 0);
    // Post 32 bytes in descriptor 0, with canaries after them; descriptor 1 not posted.
    g.write(r.bufs[0], &[0xEE; 64]);
    g.w32(r.desc(0) + 4, 32);
    let mut ring = Ring::attach(&g.ram(), gva(r.head), 16).unwrap();
    let big = [0x11u8; 33];
    assert_eq!(
        ring.rx_fill(&mut g.ram(), &[&big]),
        Ok(RxFill::TooLong { capacity: 32 })
    );
    assert_eq!(
        g.read(r.bufs[0], 64),
        vec![0xEE; 64],
        "nothing written when too long"
    );
    assert_eq!(g.d_size(r.desc(0)), 32, "still posted");
    assert_eq!(
        ring.rx_fill(&mut g.ram(), &[&[1, 2], &[3; 30]]),
        Ok(RxFill::Filled {
            descriptor: gva(r.desc(0)),
            len: 32
        })
    );
    assert_eq!(g.d_size(r.desc(0)), 32 | DONE);
    assert_eq!(
        &g.read(r.bufs[0], 33)[..],
        &[&[1u8, 2][..], &[3; 30], &[0xEE]].concat()[..]
    );
    // Descriptor 1 has size 0: no buffer; the host waits there.
    assert_eq!(ring.rx_fill(&mut g.ram(), &[&[9]]), Ok(RxFill::NoBuffer));
    g.w32(r.desc(2) + 4, 64);
    assert_eq!(
        ring.rx_fill(&mut g.ram(), &[&[9]]),
        Ok(RxFill::NoBuffer),
        "never skips to 2"
    );
    // Descriptor 0 still DONE when we come round: not posted either.
    g.w32(r.desc(1) + 4, 64);
    assert!(matches!(
        ring.rx_fill(&mut g.ram(), &[&[9]]),
        Ok(RxFill::Filled { .. })
    ));
    assert!(matches!(
        ring.rx_fill(&mut g.ram(), &[&[9]]),
        Ok(RxFill::Filled { .. })
    ));
    assert_eq!(ring.rx_fill(&mut g.ram(), &[&[9]]), Ok(RxFill::NoBuffer));
    assert_eq!(ring.cursor(), gva(r.desc(0)));
}

#[test]
fn rx_checks_only_the_bytes_it_writes() {
    let mut g = Guest::new(1 << 16);
    let r = g.ring(1, 0, 0);
    // A buffer near the end of RAM with a capacity running past it.
    let near_end = g.end() - 8;
    g.set_desc(r.head, near_end, 1600, r.head);
    let mut ring = Ring::attach(&g.ram(), gva(r.head), 16).unwrap();
    assert!(matches!(
        ring.rx_fill(&mut g.ram(), &[&[7; 8]]),
        Ok(RxFill::Filled { len: 8, .. })
    ));
    g.w32(r.head + 4, 1600);
    assert_eq!(
        ring.rx_fill(&mut g.ram(), &[&[7; 9]]),
        Err(RingError::Buffer {
            descriptor: gva(r.head),
            error: MemError::OutOfWindow {
                addr: gva(near_end),
                len: 9
            }
        })
    );
}

#[test]
fn rewiring_after_attach_is_caught_as_a_loop() {
    let mut g = Guest::new(1 << 16);
    let r = g.ring(4, 16, 0);
    let mut ring = Ring::attach(&g.ram(), gva(r.head), 16).unwrap();
    // The guest now links 3 -> 1: 1, 2, 3, 1, ... never the head again.
    g.w32(r.desc(3) + 8, r.desc(1));
    let mut result = Ok(());
    for i in 0..8 {
        g.w32(r.desc(i) + 4, 4 | DONE);
        let mut ram = g.ram();
        let tx = ring.tx_peek(&ram).unwrap().unwrap();
        result = ring.tx_complete(&mut ram, &tx);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(RingError::Loop { at: gva(r.desc(1)) }));
}

#[test]
fn rx_fill_from_own_copies_inside_one_guest() {
    let mut g = Guest::new(1 << 16);
    let r = g.ring(1, 64, 64);
    let src = g.alloc(20, 4);
    g.write(src, &[5; 20]);
    let mut ring = Ring::attach(&g.ram(), gva(r.head), 16).unwrap();
    assert_eq!(
        ring.rx_fill_from_own(&mut g.ram(), &[0, 1], gva(src), 20),
        Ok(RxFill::Filled {
            descriptor: gva(r.head),
            len: 22
        })
    );
    assert_eq!(g.read(r.bufs[0], 22), [&[0u8, 1][..], &[5; 20]].concat());
    g.w32(r.head + 4, 21);
    assert_eq!(
        ring.rx_fill_from_own(&mut g.ram(), &[0, 1], gva(src), 20),
        Ok(RxFill::TooLong { capacity: 21 })
    );
    g.w32(r.head + 4, 64);
    assert!(matches!(
        ring.rx_fill_from_own(&mut g.ram(), &[0, 1], gva(MIPS_BASE - 4), 20),
        Err(RingError::Buffer { .. })
    ));
}
