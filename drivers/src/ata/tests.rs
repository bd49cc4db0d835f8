//! The ATA driver against [`AtaModel`].

extern crate std;

use std::vec;
use std::vec::Vec;

use super::model::AtaModel;
use super::regs::*;
use super::{AtaDisk, AtaError};
use crate::testing::{CountingDelay, Rng};

fn disk(model: &AtaModel) -> AtaDisk<&AtaModel, CountingDelay> {
    AtaDisk::probe(model, CountingDelay::default()).unwrap()
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next_u32() as u8).collect()
}

#[test]
fn identify_gives_size_model_and_address_width_and_turns_the_interrupt_off() {
    let model = AtaModel::new(32_768, false);
    let d = disk(&model);
    assert_eq!(d.sectors(), 32_768);
    assert!(!d.lba48());
    assert_eq!(d.model(), "MODEL ATA DISK");
    assert!(model.interrupt_disabled());
    let wide = AtaModel::new(4096, true);
    assert!(disk(&wide).lba48());
}

#[test]
fn an_empty_channel_or_a_floating_bus_is_no_device() {
    let mut model = AtaModel::new(64, false);
    model.empty = true;
    let got = AtaDisk::probe(&model, CountingDelay::default()).err();
    assert_eq!(got, Some(AtaError::NoDevice));
}

#[test]
fn sectors_written_read_back_in_byte_order_across_several_commands() {
    let model = AtaModel::new(2048, false);
    let mut d = disk(&model);
    // 300 sectors: one command of 256 and one of 44.
    let data = pattern(300 * SECTOR_SIZE, 1);
    d.write(100, &data).unwrap();
    assert_eq!(model.cached(100, 300), data);
    let mut back = vec![0; data.len()];
    d.read(100, &mut back).unwrap();
    assert_eq!(back, data);
    let issued: Vec<_> = model.issued.borrow()[1..].to_vec();
    assert_eq!(
        issued,
        vec![
            (CMD_WRITE_SECTORS, 100, 256),
            (CMD_WRITE_SECTORS, 356, 44),
            (CMD_READ_SECTORS, 100, 256),
            (CMD_READ_SECTORS, 356, 44),
        ]
    );
}

#[test]
fn a_device_slow_to_clear_busy_is_waited_for() {
    let model = AtaModel::new(256, false);
    model.busy_looks.set(500);
    let mut d = disk(&model);
    let data = pattern(16 * SECTOR_SIZE, 2);
    d.write(7, &data).unwrap();
    d.flush().unwrap();
    let mut back = vec![0; data.len()];
    d.read(7, &mut back).unwrap();
    assert_eq!(back, data);
}

#[test]
fn lba28_keeps_the_top_nibble_in_the_device_register() {
    // IDENTIFY's 28-bit count ends at 2^28 - 1 sectors.
    let model = AtaModel::new(LBA28_LIMIT, false);
    let mut d = disk(&model);
    assert_eq!(d.sectors(), LBA28_LIMIT - 1);
    let top = d.sectors() - 8;
    let data = pattern(8 * SECTOR_SIZE, 3);
    d.write(top, &data).unwrap();
    let mut back = vec![0; data.len()];
    d.read(top, &mut back).unwrap();
    assert_eq!(back, data);
    assert_eq!(model.issued.borrow()[1], (CMD_WRITE_SECTORS, top, 8));
    assert_eq!(d.read(top + 1, &mut back), Err(AtaError::OutOfRange));
}

#[test]
fn past_lba28_the_ext_commands_carry_the_high_bytes_and_a_28_bit_disk_refuses() {
    let model = AtaModel::new(LBA28_LIMIT + 64, true);
    let mut d = disk(&model);
    let at = LBA28_LIMIT + 8;
    let data = pattern(4 * SECTOR_SIZE, 4);
    d.write(at, &data).unwrap();
    let mut back = vec![0; data.len()];
    d.read(at, &mut back).unwrap();
    assert_eq!(back, data);
    d.flush().unwrap();
    let issued = model.issued.borrow().clone();
    assert_eq!(issued[1], (CMD_WRITE_SECTORS_EXT, at, 4));
    assert_eq!(issued[2], (CMD_READ_SECTORS_EXT, at, 4));
    assert_eq!(issued[3].0, CMD_FLUSH_CACHE_EXT);
    // Below the limit the short form is used even on a 48-bit disk.
    d.read(0, &mut back).unwrap();
    assert_eq!(model.issued.borrow()[4], (CMD_READ_SECTORS, 0, 4));
}

#[test]
fn writes_are_durable_only_after_a_flush() {
    let model = AtaModel::new(64, false);
    let mut d = disk(&model);
    let data = pattern(2 * SECTOR_SIZE, 5);
    d.write(10, &data).unwrap();
    assert_ne!(model.durable(10, 2), data);
    d.flush().unwrap();
    assert_eq!(model.durable(10, 2), data);
    assert_eq!(model.issued.borrow().last().unwrap().0, CMD_FLUSH_CACHE);
}

#[test]
fn a_bad_sector_fails_its_command_with_the_error_register_and_the_disk_goes_on() {
    let model = AtaModel::new(64, false);
    let mut d = disk(&model);
    model.bad_sector.set(Some(12));
    let mut buf = vec![0; 8 * SECTOR_SIZE];
    let got = d.read(8, &mut buf);
    assert_eq!(
        got,
        Err(AtaError::Device {
            status: ST_DRDY | ST_ERR,
            error: ERR_UNC
        })
    );
    let got = d.write(10, &buf[..4 * SECTOR_SIZE]);
    assert!(matches!(got, Err(AtaError::Device { error: ERR_UNC, .. })));
    model.bad_sector.set(None);
    d.read(8, &mut buf).unwrap();
}

#[test]
fn out_of_range_and_bad_lengths_are_refused_before_any_command() {
    let model = AtaModel::new(64, false);
    let mut d = disk(&model);
    let before = model.issued.borrow().len();
    let mut buf = vec![0; 2 * SECTOR_SIZE];
    assert_eq!(d.read(63, &mut buf), Err(AtaError::OutOfRange));
    assert_eq!(d.read(u64::MAX, &mut buf), Err(AtaError::OutOfRange));
    assert_eq!(d.write(0, &buf[..100]), Err(AtaError::BadLength));
    assert_eq!(d.read(0, &mut []), Err(AtaError::BadLength));
    assert_eq!(model.issued.borrow().len(), before);
}

#[test]
fn a_device_that_stays_busy_times_out_after_a_bounded_wait() {
    let model = AtaModel::new(64, false);
    let mut d = disk(&model);
    model.stuck.set(true);
    let mut buf = vec![0; SECTOR_SIZE];
    assert_eq!(d.read(0, &mut buf), Err(AtaError::Timeout));
    let waited = d.delay.total_us.get();
    assert!((10_000_000..=10_100_000).contains(&waited), "{waited}");
}

#[test]
fn random_requests_agree_with_a_plain_copy_of_the_disk() {
    let model = AtaModel::new(1024, true);
    let mut d = disk(&model);
    let mut mirror = vec![0u8; 1024 * SECTOR_SIZE];
    let mut rng = Rng::new(9);
    for step in 0..200 {
        let count = 1 + rng.below(300);
        let lba = rng.below(1024 - count) as u64;
        let range = lba as usize * SECTOR_SIZE..(lba as usize + count) * SECTOR_SIZE;
        if rng.chance(2) {
            let data = pattern(count * SECTOR_SIZE, step);
            d.write(lba, &data).unwrap();
            mirror[range].copy_from_slice(&data);
        } else {
            let mut buf = vec![0; count * SECTOR_SIZE];
            d.read(lba, &mut buf).unwrap();
            assert_eq!(buf, mirror[range]);
        }
    }
}
