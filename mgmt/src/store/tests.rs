//! The store against a simulated NOR flash: generations, journals, compaction, power cuts at
//! every step, damage, the first format, and word-granular flash.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::mem_flash::MemFlash;
use super::*;

fn contents(loaded: &Loaded) -> Option<(String, Vec<String>)> {
    match loaded {
        Loaded::Config {
            snapshot, journal, ..
        } => Some((snapshot.clone(), journal.clone())),
        _ => None,
    }
}

fn record(i: usize) -> Vec<u8> {
    // Lengths that are not multiples of the alignment on purpose.
    format!(
        "/ip route add dst-address=10.{}.{}.0/24 gateway=10.0.0.{}",
        i / 256,
        i % 256,
        i % 7 + 1
    )
    .into_bytes()
}

#[test]
fn empty_then_snapshot_then_journal() {
    let mut flash = MemFlash::new(4096, 8);
    let (mut store, loaded) = ConfigStore::load(&mut flash);
    assert_eq!(loaded, Loaded::Empty);
    assert!(store.sealed());
    assert_eq!(
        store.append(&mut flash, b"x"),
        Err(StoreError::NeedsCompaction)
    );
    store.compact(&mut flash, b"base").unwrap();
    for i in 0..3 {
        store.append(&mut flash, &record(i)).unwrap();
    }
    let (again, loaded) = ConfigStore::load(&mut flash);
    let (snapshot, journal) = contents(&loaded).unwrap();
    assert_eq!(snapshot, "base");
    let expected: Vec<String> = (0..3)
        .map(|i| String::from_utf8(record(i)).unwrap())
        .collect();
    assert_eq!(journal, expected);
    assert_eq!(again.sizes(), store.sizes());
    assert!(!again.sealed());
}

#[test]
fn a_full_journal_asks_for_compaction_and_the_next_generation_takes_over() {
    let mut flash = MemFlash::new(1024, 4);
    let (mut store, _) = ConfigStore::load(&mut flash);
    store.compact(&mut flash, b"gen1").unwrap();
    let mut appended = 0;
    while store.append(&mut flash, &record(appended)).is_ok() {
        appended += 1;
    }
    assert!(appended > 10, "only {appended} records fit");
    assert_eq!(
        store.append(&mut flash, &record(appended)),
        Err(StoreError::NeedsCompaction)
    );
    // The refused record changed nothing.
    let (_, loaded) = ConfigStore::load(&mut flash);
    assert_eq!(contents(&loaded).unwrap().1.len(), appended);
    store.compact(&mut flash, b"gen2").unwrap();
    store.append(&mut flash, b"after").unwrap();
    let (_, loaded) = ConfigStore::load(&mut flash);
    assert_eq!(
        contents(&loaded),
        Some((String::from("gen2"), alloc::vec![String::from("after")]))
    );
    let Loaded::Config { generation, .. } = loaded else {
        panic!()
    };
    assert_eq!(generation, 2);
}

#[test]
fn too_large_and_too_small() {
    let mut flash = MemFlash::new(4096, 2);
    let (mut store, _) = ConfigStore::load(&mut flash);
    assert_eq!(
        store.compact(&mut flash, &[b'x'; 4096]),
        Err(StoreError::TooLarge)
    );
    let mut tiny = MemFlash::new(4096, 1);
    assert_eq!(
        store.compact(&mut tiny, b"x"),
        Err(StoreError::RegionTooSmall)
    );
    assert_eq!(ConfigStore::load(&mut tiny).1, Loaded::Corrupt);
}

/// The state a store holds: its snapshot and journal as loading sees them.
fn state_of(flash: &MemFlash) -> Option<(String, Vec<String>)> {
    let mut copy = flash.clone();
    copy.power_on();
    contents(&ConfigStore::load(&mut copy).1)
}

/// A power cut at every step of an append leaves the journal with or without the record,
/// never a broken one; the next save after such a cut writes a new generation, and that
/// one is complete.
#[test]
fn power_cut_at_every_step_of_an_append() {
    let mut base = MemFlash::new(512, 8).with_word(4);
    let (mut store, _) = ConfigStore::load(&mut base);
    store.compact(&mut base, b"snapshot").unwrap();
    for i in 0..3 {
        store.append(&mut base, &record(i)).unwrap();
    }
    let before = state_of(&base).unwrap();
    let new = record(99);
    let mut after = before.clone();
    after.1.push(String::from_utf8(new.clone()).unwrap());
    let steps = {
        let (mut probe, mut probe_store) = (base.clone(), store.clone());
        let start = probe.steps();
        probe_store.append(&mut probe, &new).unwrap();
        probe.steps() - start
    };
    assert!(steps >= 3);
    for cut in 0..steps {
        let (mut flash, mut live) = (base.clone(), store.clone());
        flash.cut_power_at(cut);
        assert!(live.append(&mut flash, &new).is_err());
        flash.power_on();
        let (mut reloaded, loaded) = ConfigStore::load(&mut flash);
        let got = contents(&loaded);
        assert!(
            got.as_ref() == Some(&before) || got.as_ref() == Some(&after),
            "cut at step {cut}: {loaded:?}"
        );
        // Saving goes on: a new generation first, then appends.
        let mut current = got.unwrap();
        if reloaded.append(&mut flash, b"next").is_err() {
            assert!(
                reloaded.sealed(),
                "cut at step {cut}: append refused while not sealed"
            );
            let whole = format!("{}|{}", current.0, current.1.join("|"));
            reloaded.compact(&mut flash, whole.as_bytes()).unwrap();
            current = (whole, Vec::new());
            reloaded.append(&mut flash, b"next").unwrap();
        }
        current.1.push(String::from("next"));
        assert_eq!(state_of(&flash), Some(current), "cut at step {cut}");
    }
}

/// A power cut at every step of a compaction leaves the old generation (with its journal) or
/// the new one.
#[test]
fn power_cut_at_every_step_of_a_compaction() {
    let old: Vec<u8> = (0..3000u32).map(|i| (i % 26) as u8 + b'A').collect();
    let new: Vec<u8> = (0..2500u32).map(|i| (i % 13) as u8 + b'a').collect();
    for prior in 1..=2 {
        let mut base = MemFlash::new(1024, 16).with_word(4);
        let (mut store, _) = ConfigStore::load(&mut base);
        for _ in 0..prior {
            store.compact(&mut base, &old).unwrap();
        }
        store.append(&mut base, b"journal entry").unwrap();
        let before = state_of(&base).unwrap();
        let after = (String::from_utf8(new.clone()).unwrap(), Vec::new());
        let steps = {
            let (mut probe, mut probe_store) = (base.clone(), store.clone());
            let start = probe.steps();
            probe_store.compact(&mut probe, &new).unwrap();
            probe.steps() - start
        };
        assert!(steps > 5);
        for cut in 0..steps {
            let (mut flash, mut live) = (base.clone(), store.clone());
            flash.cut_power_at(cut);
            assert!(live.compact(&mut flash, &new).is_err());
            let got = state_of(&flash);
            assert!(
                got.as_ref() == Some(&before) || got.as_ref() == Some(&after),
                "prior {prior}, cut at step {cut}: {got:?}"
            );
        }
    }
}

#[test]
fn damage_is_reported_and_the_last_good_state_used() {
    let mut flash = MemFlash::new(1024, 4);
    let (mut store, _) = ConfigStore::load(&mut flash);
    store.compact(&mut flash, b"first").unwrap();
    store.compact(&mut flash, b"second").unwrap();
    // Damage the newest snapshot's payload: the older generation is used and the damage
    // reported.
    flash.bytes_mut()[2048 + SNAPSHOT_HEADER as usize] ^= 0x01;
    let (_, loaded) = ConfigStore::load(&mut flash);
    let Loaded::Config {
        snapshot,
        damaged_other,
        ..
    } = loaded
    else {
        panic!("{loaded:?}")
    };
    assert_eq!((snapshot.as_str(), damaged_other), ("first", true));
    flash.bytes_mut()[SNAPSHOT_HEADER as usize] ^= 0x01;
    assert_eq!(ConfigStore::load(&mut flash).1, Loaded::Corrupt);
}

#[test]
fn a_damaged_record_in_the_middle_ends_the_journal_and_is_reported() {
    let mut flash = MemFlash::new(1024, 4);
    let (mut store, _) = ConfigStore::load(&mut flash);
    store.compact(&mut flash, b"base").unwrap();
    for i in 0..4 {
        store.append(&mut flash, &record(i)).unwrap();
    }
    // The second record's payload: header (24) + "base" padded to 8, one record, its header.
    let first_len = align(record(0).len() as u32);
    let second_payload = 32 + RECORD_HEADER + first_len + RECORD_TRAILER + RECORD_HEADER;
    flash.bytes_mut()[second_payload as usize] ^= 0x20;
    let (reloaded, loaded) = ConfigStore::load(&mut flash);
    let Loaded::Config {
        journal,
        torn_tail,
        damaged_journal,
        ..
    } = loaded
    else {
        panic!()
    };
    assert_eq!(journal, alloc::vec![String::from_utf8(record(0)).unwrap()]);
    assert!(damaged_journal && !torn_tail);
    assert!(reloaded.sealed());
}

#[test]
fn the_first_format_loads_as_a_snapshot_and_the_next_save_starts_a_generation() {
    let mut flash = MemFlash::new(1024, 4);
    let payload = b"/system identity\nset name=old\n";
    let mut header = [0u8; 24];
    header[..4].copy_from_slice(b"MGC1");
    header[4..8].copy_from_slice(&7u32.to_be_bytes());
    header[8..12].copy_from_slice(&(payload.len() as u32).to_be_bytes());
    header[12..16].copy_from_slice(&crc32(0, payload).to_be_bytes());
    let crc = crc32(0, &header[..20]);
    header[20..].copy_from_slice(&crc.to_be_bytes());
    flash.program(0, &header).unwrap();
    flash.program(24, payload).unwrap();
    // Old data in the rest of the half, as the first format could leave.
    flash.program(1024, b"stale").unwrap();
    let (mut store, loaded) = ConfigStore::load(&mut flash);
    assert_eq!(
        contents(&loaded),
        Some((String::from_utf8(payload.to_vec()).unwrap(), Vec::new()))
    );
    assert_eq!(
        store.append(&mut flash, b"x"),
        Err(StoreError::NeedsCompaction)
    );
    store.compact(&mut flash, b"new").unwrap();
    store.append(&mut flash, b"x").unwrap();
    assert_eq!(
        state_of(&flash),
        Some((String::from("new"), alloc::vec![String::from("x")]))
    );
}

/// On a flash whose words are programmed whole (QEMU's CFI flash, 4-byte bus), records of
/// every length survive the records written after them.
#[test]
fn word_granular_flash_keeps_every_record() {
    for word in [2, 4, 8] {
        let mut flash = MemFlash::new(4096, 4).with_word(word);
        let (mut store, _) = ConfigStore::load(&mut flash);
        store.compact(&mut flash, b"odd-sized snapshot").unwrap();
        let records: Vec<Vec<u8>> = (0..40)
            .map(|n| alloc::vec![b'a' + (n % 26) as u8; n])
            .collect();
        for r in &records {
            store.append(&mut flash, r).unwrap();
        }
        let (_, loaded) = ConfigStore::load(&mut flash);
        let (_, journal) = contents(&loaded).unwrap();
        let expected: Vec<String> = records
            .iter()
            .map(|r| String::from_utf8(r.clone()).unwrap())
            .collect();
        assert_eq!(journal, expected, "word {word}");
    }
}

/// A first-format copy written in the header/payload layout of the first format.
fn first_format_copy(flash: &mut MemFlash, at: u32, sequence: u32, payload: &[u8]) {
    let mut header = [0u8; 24];
    header[..4].copy_from_slice(b"MGC1");
    header[4..8].copy_from_slice(&sequence.to_be_bytes());
    header[8..12].copy_from_slice(&(payload.len() as u32).to_be_bytes());
    header[12..16].copy_from_slice(&crc32(0, payload).to_be_bytes());
    let crc = crc32(0, &header[..20]);
    header[20..].copy_from_slice(&crc.to_be_bytes());
    flash.program(at, &header).unwrap();
    flash.program(at + 24, payload).unwrap();
}

#[test]
fn a_configuration_where_an_earlier_layout_kept_it_is_found_and_moved() {
    // An earlier layout: two 1 KiB copies at the end of what is now the second half.
    static EARLIER: [(u32, u32); 2] = [(6144, 1024), (7168, 1024)];
    let mut flash = MemFlash::new(1024, 8).with_earlier_copies(&EARLIER);
    first_format_copy(&mut flash, 6144, 4, b"older");
    first_format_copy(&mut flash, 7168, 5, b"newest");
    let (mut store, loaded) = ConfigStore::load(&mut flash);
    let Loaded::Config {
        snapshot, moved, ..
    } = &loaded
    else {
        panic!("{loaded:?}")
    };
    assert_eq!((snapshot.as_str(), *moved), ("newest", true));
    assert!(store.wants_compaction() && store.sealed());
    store.compact(&mut flash, b"v2 snapshot").unwrap();
    assert!(!store.wants_compaction());
    let (_, loaded) = ConfigStore::load(&mut flash);
    let Loaded::Config {
        snapshot, moved, ..
    } = &loaded
    else {
        panic!("{loaded:?}")
    };
    assert_eq!((snapshot.as_str(), *moved), ("v2 snapshot", false));
    // Without a configuration anywhere, an earlier layout's blank places change nothing.
    let mut blank = MemFlash::new(1024, 8).with_earlier_copies(&EARLIER);
    assert_eq!(ConfigStore::load(&mut blank).1, Loaded::Empty);
}

#[test]
fn a_damaged_older_generation_is_rewritten_soon_and_then_no_longer_reported() {
    let mut flash = MemFlash::new(1024, 4);
    let (mut store, _) = ConfigStore::load(&mut flash);
    store.compact(&mut flash, b"first").unwrap();
    store.compact(&mut flash, b"second").unwrap();
    flash.bytes_mut()[SNAPSHOT_HEADER as usize] ^= 0x01;
    let (mut store, loaded) = ConfigStore::load(&mut flash);
    assert!(
        matches!(
            loaded,
            Loaded::Config {
                damaged_other: true,
                ..
            }
        ),
        "{loaded:?}"
    );
    assert!(store.wants_compaction());
    store.compact(&mut flash, b"third").unwrap();
    let (store, loaded) = ConfigStore::load(&mut flash);
    assert!(
        matches!(
            loaded,
            Loaded::Config {
                damaged_other: false,
                ..
            }
        ),
        "{loaded:?}"
    );
    assert!(!store.wants_compaction());
}
