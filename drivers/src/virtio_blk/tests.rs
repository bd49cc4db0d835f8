//! The virtio block driver against [`BlkModel`] over the non-coherent cache model, and the
//! capability walk against a configuration header.

extern crate std;

use std::cell::RefCell;
use std::vec::Vec;

use super::model::BlkModel;
use super::pci::{locate, Layout, Region};
use super::*;
use crate::pci::{PciConfig, PciFunction};
use crate::testing::dma_model::DmaModel;
use crate::testing::{CountingDelay, Rng};

type Driver<'a, 'm> = VirtioBlk<&'a BlkModel<'m>, &'m DmaModel, CountingDelay>;

fn memory() -> DmaModel {
    DmaModel::new(DESCRIPTOR_BYTES, BUFFER_BYTES)
}

fn driver<'a, 'm>(model: &'a BlkModel<'m>) -> Driver<'a, 'm> {
    VirtioBlk::new(
        model,
        model.dma,
        model.dma.ring_memory(),
        CountingDelay::default(),
    )
    .unwrap()
}

fn page(seed: u64) -> [u8; PAGE] {
    let mut rng = Rng::new(seed);
    core::array::from_fn(|_| rng.next_u32() as u8)
}

#[test]
fn setup_takes_version_1_and_flush_and_reads_the_capacity() {
    let dma = memory();
    let model = BlkModel::new(&dma, 4096);
    let d = driver(&model);
    assert_eq!(d.sectors(), 4096);
    assert!(d.has_flush() && !d.read_only());
    assert_eq!(model.accepted.get(), F_VERSION_1 | F_FLUSH);
    let all = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK;
    assert_eq!(model.status(), all);
}

#[test]
fn pages_written_read_back_through_a_dirty_cache_and_the_ring_wraps() {
    let dma = memory();
    let model = BlkModel::new(&dma, 1024);
    let mut d = driver(&model);
    // Ten requests each way: the four-slot rings wrap twice.
    for i in 0..10u64 {
        d.write(i * 8, &page(i)).unwrap();
    }
    for i in (0..10u64).rev() {
        // The CPU's cache holds the page read or written last: it must not be what is read.
        let mut back = [0; PAGE];
        d.read(i * 8, &mut back).unwrap();
        assert!(back == page(i), "page {i}");
    }
    let m = model.contents();
    assert!(m[3 * PAGE..4 * PAGE] == page(3));
    let requests = model.requests.borrow();
    assert_eq!(requests.len(), 20);
    assert_eq!(requests[0], (T_OUT, 0));
    assert_eq!(requests[10], (T_IN, 72));
}

#[test]
fn only_a_flush_makes_writes_survive_a_power_cut() {
    let dma = memory();
    let model = BlkModel::new(&dma, 64);
    let mut d = driver(&model);
    d.write(8, &page(1)).unwrap();
    assert!(model.power_cut()[PAGE..2 * PAGE] != page(1));
    d.flush().unwrap();
    assert!(model.power_cut()[PAGE..2 * PAGE] == page(1));
    assert_eq!(model.requests.borrow().last(), Some(&(T_FLUSH, 0)));
}

#[test]
fn a_device_without_flush_writes_through_and_flush_sends_nothing() {
    let dma = memory();
    let mut model = BlkModel::new(&dma, 64);
    model.offered &= !F_FLUSH;
    let mut d = driver(&model);
    assert!(!d.has_flush());
    d.flush().unwrap();
    assert!(model.requests.borrow().is_empty());
}

#[test]
fn a_legacy_only_device_is_refused_and_marked_failed() {
    let dma = memory();
    let mut model = BlkModel::new(&dma, 64);
    model.offered = F_FLUSH;
    let got = VirtioBlk::new(&model, &dma, dma.ring_memory(), CountingDelay::default()).err();
    assert_eq!(got, Some(VirtioError::NotModern));
    assert_ne!(model.status() & STATUS_FAILED, 0);
}

#[test]
fn a_queue_too_small_is_refused() {
    let dma = memory();
    let mut model = BlkModel::new(&dma, 64);
    model.queue_max = 2;
    let got = VirtioBlk::new(&model, &dma, dma.ring_memory(), CountingDelay::default()).err();
    assert_eq!(got, Some(VirtioError::NoQueue));
}

#[test]
fn requests_past_the_end_are_refused_before_the_device_sees_them() {
    let dma = memory();
    let model = BlkModel::new(&dma, 64);
    let mut d = driver(&model);
    let mut buf = [0; PAGE];
    assert_eq!(d.read(57, &mut buf), Err(VirtioError::OutOfRange));
    assert_eq!(d.write(u64::MAX - 3, &buf), Err(VirtioError::OutOfRange));
    d.read(56, &mut buf).unwrap();
    assert_eq!(model.requests.borrow().len(), 1);
}

#[test]
fn a_device_error_is_reported_and_the_next_request_works() {
    let dma = memory();
    let model = BlkModel::new(&dma, 64);
    let mut d = driver(&model);
    model.fail_with.set(Some(1));
    assert_eq!(d.write(0, &page(2)), Err(VirtioError::Status(1)));
    model.fail_with.set(None);
    d.write(0, &page(2)).unwrap();
    let mut back = [0; PAGE];
    d.read(0, &mut back).unwrap();
    assert!(back == page(2));
}

#[test]
fn a_hung_device_times_out_after_a_bounded_wait() {
    let dma = memory();
    let model = BlkModel::new(&dma, 64);
    let d = VirtioBlk::new(&model, &dma, dma.ring_memory(), CountingDelay::default());
    let mut d = d.unwrap();
    model.hung.set(true);
    let mut buf = [0; PAGE];
    assert_eq!(d.read(0, &mut buf), Err(VirtioError::Timeout));
    let waited = d.delay.total_us.get();
    assert!((9_000_000..=11_000_000).contains(&waited), "{waited} us");
    // The device may still complete the chain it holds: nothing is queued behind it, and
    // the late completion is never taken for another request's.
    model.hung.set(false);
    assert_eq!(d.write(8, &page(4)), Err(VirtioError::Stopped));
    assert_eq!(d.read(0, &mut buf), Err(VirtioError::Stopped));
    assert_eq!(model.requests.borrow().len(), 0);
}

/// A function's configuration space as bytes (little-endian dwords).
struct Config(RefCell<[u8; 256]>);

impl PciConfig for Config {
    fn read32(&self, _: PciFunction, reg: u8) -> u32 {
        let c = self.0.borrow();
        let at = usize::from(reg & 0xFC);
        u32::from_le_bytes(c[at..at + 4].try_into().unwrap())
    }
    fn write32(&self, _: PciFunction, _: u8, _: u32) {}
}

/// QEMU's virtio-blk-pci capabilities: MSI-X first, then common (BAR 4 + 0), ISR (0x1000),
/// device (0x2000), notify (0x3000, multiplier 4), and the PCI configuration access one.
fn qemu_header() -> Config {
    let mut c = [0u8; 256];
    c[0..4].copy_from_slice(&0x1042_1AF4u32.to_le_bytes());
    c[6] = 0x10; // status: capabilities list
    c[0x34] = 0x98;
    let caps: [(u8, u8, &[u8]); 6] = [
        (0x98, 0x84, &[0x11, 0, 0, 0]),
        (
            0x84,
            0x74,
            &[0x09, 0, 0x14, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0],
        ),
        (
            0x74,
            0x64,
            &[0x09, 0, 0x14, 3, 4, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 0],
        ),
        (
            0x64,
            0x50,
            &[0x09, 0, 0x14, 4, 4, 0, 0, 0, 0, 0x20, 0, 0, 0, 0x10, 0, 0],
        ),
        (
            0x50,
            0x40,
            &[
                0x09, 0, 0x14, 2, 4, 0, 0, 0, 0, 0x30, 0, 0, 0, 0x10, 0, 0, 4, 0, 0, 0,
            ],
        ),
        (
            0x40,
            0,
            &[0x09, 0, 0x14, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ),
    ];
    for (at, next, body) in caps {
        let at = usize::from(at);
        c[at..at + body.len()].copy_from_slice(body);
        c[at + 1] = next;
    }
    Config(RefCell::new(c))
}

const F: PciFunction = PciFunction {
    device: 1,
    function: 0,
};

#[test]
fn the_capabilities_give_the_three_regions_and_the_multiplier() {
    let layout = locate(&qemu_header(), F).unwrap();
    let region = |offset| Region {
        bar: 4,
        offset,
        len: 0x1000,
    };
    assert_eq!(
        layout,
        Layout {
            common: region(0),
            notify: region(0x3000),
            notify_multiplier: 4,
            device: region(0x2000),
        }
    );
    assert_eq!(layout.bars().collect::<Vec<_>>(), [4]);
}

#[test]
fn a_device_without_capabilities_or_a_looping_list_has_no_layout() {
    let cfg = qemu_header();
    cfg.0.borrow_mut()[6] = 0;
    assert_eq!(locate(&cfg, F), None);
    let cfg = qemu_header();
    // The device region's capability points back at the first: a loop, the list is walked a
    // bounded number of times and the notify region is never reached.
    cfg.0.borrow_mut()[0x65] = 0x98;
    assert_eq!(locate(&cfg, F), None);
}
