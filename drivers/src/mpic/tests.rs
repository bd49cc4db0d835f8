//! [`Mpic`] programming a register window in host memory, checked against the register
//! layout of the Freescale MPIC (MPC8544 reference manual, chapter "Programmable Interrupt
//! Controller"): source n's vector/priority register at 0x1_0000 + 0x20 n, its destination at
//! +0x10; CPU 0's IACK at 0x2_00A0 and EOI at 0x2_00B0; all big-endian.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::{Mpic, MpicError, Sense, Source, SourceConfig, SPURIOUS_VECTOR, WINDOW_LEN};
use crate::mmio::Mmio;

struct Window {
    words: Vec<u32>,
}

impl Window {
    fn new() -> Self {
        Window {
            words: vec![0; WINDOW_LEN / 4],
        }
    }
    fn mpic(&mut self) -> Mpic {
        // SAFETY: the window is this test's own heap buffer, alive for the whole test, and
        // every access is an aligned u32 inside it.
        Mpic::new(unsafe { Mmio::new(self.words.as_mut_ptr() as usize, WINDOW_LEN) })
    }
    fn get(&self, offset: usize) -> u32 {
        u32::from_be(self.words[offset / 4])
    }
    fn set(&mut self, offset: usize, value: u32) {
        self.words[offset / 4] = value.to_be();
    }
}

const DUART: Source = Source(42);
const DUART_VPR: usize = 0x1_0000 + 0x20 * 42;
const DUART_DR: usize = DUART_VPR + 0x10;
const CPU0_IACK: usize = 0x2_00A0;
const CPU0_EOI: usize = 0x2_00B0;
const CPU0_CTPR: usize = 0x2_0080;
const FRR: usize = 0x1000;

fn console_config() -> SourceConfig {
    SourceConfig {
        vector: 42,
        priority: 8,
        sense: Sense::LevelHigh,
        cpus: 1,
    }
}

#[test]
fn configure_writes_vector_priority_sense_and_destination_masked() {
    let mut w = Window::new();
    let mpic = w.mpic();
    mpic.configure(DUART, console_config()).unwrap();
    // MSK | P (active high) | S (level) | priority 8 | vector 42
    assert_eq!(
        w.get(DUART_VPR),
        0x8000_0000 | 0x0080_0000 | 0x0040_0000 | (8 << 16) | 42
    );
    assert_eq!(w.get(DUART_DR), 1, "CPU 0, normal (not critical) output");
}

#[test]
fn sense_encodings() {
    let mut w = Window::new();
    let mpic = w.mpic();
    for (sense, bits) in [
        (Sense::EdgeRising, 0x0080_0000),
        (Sense::EdgeFalling, 0),
        (Sense::LevelHigh, 0x00C0_0000),
        (Sense::LevelLow, 0x0040_0000),
    ] {
        mpic.configure(
            DUART,
            SourceConfig {
                sense,
                ..console_config()
            },
        )
        .unwrap();
        assert_eq!(w.get(DUART_VPR) & 0x00C0_0000, bits, "{sense:?}");
    }
    assert_eq!(Sense::from_tree_cell(0), Some(Sense::EdgeRising));
    assert_eq!(Sense::from_tree_cell(1), Some(Sense::LevelLow));
    assert_eq!(Sense::from_tree_cell(2), Some(Sense::LevelHigh));
    assert_eq!(Sense::from_tree_cell(3), Some(Sense::EdgeFalling));
    assert_eq!(Sense::from_tree_cell(4), None);
}

#[test]
fn unmask_and_mask_touch_only_the_mask_bit() {
    let mut w = Window::new();
    let mpic = w.mpic();
    mpic.configure(DUART, console_config()).unwrap();
    let configured = w.get(DUART_VPR);
    mpic.unmask(DUART).unwrap();
    assert_eq!(w.get(DUART_VPR), configured & !0x8000_0000);
    mpic.mask(DUART).unwrap();
    assert_eq!(w.get(DUART_VPR), configured);
}

#[test]
fn acknowledge_and_end_of_interrupt() {
    let mut w = Window::new();
    let mpic = w.mpic();
    w.set(CPU0_IACK, 42);
    assert_eq!(mpic.acknowledge(0), Some(42));
    w.set(CPU0_IACK, u32::from(SPURIOUS_VECTOR));
    assert_eq!(
        mpic.acknowledge(0),
        None,
        "the spurious vector means nothing pending"
    );
    w.set(CPU0_EOI, 0xDEAD);
    mpic.end_of_interrupt(0);
    assert_eq!(w.get(CPU0_EOI), 0);
}

#[test]
fn task_priority_and_counts_from_the_feature_register() {
    let mut w = Window::new();
    w.set(FRR, (79 << 16) | 2); // NIRQ 79 (80 sources), NCPU 0 (1 CPU), version 2
    let mpic = w.mpic();
    assert_eq!(mpic.source_count(), 80);
    assert_eq!(mpic.cpu_count(), 1);
    mpic.set_task_priority(0, 0).unwrap();
    assert_eq!(w.get(CPU0_CTPR), 0);
    assert_eq!(mpic.set_task_priority(1, 0), Err(MpicError::NoSuchCpu(1)));
    assert_eq!(
        mpic.set_task_priority(0, 16),
        Err(MpicError::BadPriority(16))
    );
}

#[test]
fn bad_requests_are_refused_without_writing() {
    let mut w = Window::new();
    let mpic = w.mpic();
    assert_eq!(
        mpic.configure(Source(256), console_config()),
        Err(MpicError::NoSuchSource(256))
    );
    assert_eq!(
        mpic.configure(
            DUART,
            SourceConfig {
                priority: 16,
                ..console_config()
            }
        ),
        Err(MpicError::BadPriority(16))
    );
    assert_eq!(
        mpic.configure(
            DUART,
            SourceConfig {
                vector: SPURIOUS_VECTOR,
                ..console_config()
            }
        ),
        Err(MpicError::ReservedVector)
    );
    assert_eq!(mpic.unmask(Source(300)), Err(MpicError::NoSuchSource(300)));
    assert_eq!(w.get(DUART_VPR), 0);
}
