//! Build, parse back, then break every rule of the format once.

use super::*;
use crate::crc32::crc32;
use alloc::string::{String, ToString};

use alloc::vec::Vec;
use proptest::prelude::*;

fn sample() -> Vec<u8> {
    let mut b = StoreBuilder::new();
    b.add("openwrt.tgz", 1_700_000_000, &[7u8; 1000]).unwrap();
    b.add("hello.tgz", 0, b"tiny").unwrap();
    b.add("empty", 5, b"").unwrap();
    b.build()
}

/// Rewrites both CRCs after tampering with the header or table, so a later rule is reached.
fn reseal(blob: &mut [u8]) {
    let count = u32::from_be_bytes(blob[12..16].try_into().unwrap()) as usize;
    let table = crc32(&blob[HEADER_LEN..HEADER_LEN + count * ENTRY_LEN]);
    blob[20..24].copy_from_slice(&table.to_be_bytes());
    let header = crc32(&blob[..28]);
    blob[28..32].copy_from_slice(&header.to_be_bytes());
}

fn entry(i: usize, field: usize) -> usize {
    HEADER_LEN + i * ENTRY_LEN + field
}

#[test]
fn round_trip_lookup_and_stable_order() {
    let blob = sample();
    let store = FileStore::parse(&blob).unwrap();
    assert_eq!(store.len(), 3);
    let names: Vec<&str> = store.iter().map(|f| f.name).collect();
    assert_eq!(names, ["empty", "hello.tgz", "openwrt.tgz"]);
    let f = store.find("openwrt.tgz").unwrap();
    assert_eq!(
        (f.created, f.data.len(), f.data[999]),
        (1_700_000_000, 1000, 7)
    );
    assert_eq!(store.find("hello.tgz").unwrap().data, b"tiny");
    assert_eq!(store.find("empty").unwrap().data, b"");
    assert!(store.find("missing").is_none());
    assert!(store.find("").is_none());
    assert_eq!(store.total_len(), blob.len());
    assert_eq!(blob.len() % DATA_ALIGN, 0);
    // The region may be larger than the store (a board's reserved area).
    let mut region = blob.clone();
    region.resize(blob.len() + 4096, 0xFF);
    assert_eq!(FileStore::parse(&region).unwrap().len(), 3);
}

#[test]
fn empty_store() {
    let blob = StoreBuilder::new().build();
    assert_eq!(blob.len(), HEADER_LEN);
    let store = FileStore::parse(&blob).unwrap();
    assert!(store.is_empty());
    assert_eq!(store.iter().count(), 0);
}

#[test]
fn builder_refusals() {
    let mut b = StoreBuilder::new();
    for bad in [
        "",
        ".",
        "..",
        "a/b",
        "a\\b",
        "sp ace",
        "tab\t",
        "é",
        &"x".repeat(64),
    ] {
        assert_eq!(b.add(bad, 0, b""), Err(StoreBuildError::BadName), "{bad:?}");
    }
    b.add(&"x".repeat(63), 0, b"").unwrap();
    b.add("a", 0, b"").unwrap();
    assert_eq!(b.add("a", 0, b"x"), Err(StoreBuildError::DuplicateName));
    let mut full = StoreBuilder::new();
    for i in 0..MAX_ENTRIES {
        full.add(&i.to_string(), 0, b"").unwrap();
    }
    assert_eq!(
        full.add("one-more", 0, b""),
        Err(StoreBuildError::TooManyFiles)
    );
}

#[test]
fn header_rules() {
    let good = sample();
    assert_eq!(
        FileStore::parse(&[0u8; 4096]).unwrap_err(),
        StoreError::NotAStore
    );
    assert_eq!(
        FileStore::parse(b"MRSTORE").unwrap_err(),
        StoreError::NotAStore
    );
    assert_eq!(
        FileStore::parse(&good[..20]).unwrap_err(),
        StoreError::Truncated {
            needed: 32,
            available: 20
        }
    );
    let mut bad = good.clone();
    bad[13] ^= 1;
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::HeaderCrcMismatch
    );
    let mut bad = good.clone();
    bad[9] = 2;
    reseal(&mut bad);
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::UnsupportedVersion { version: 2 }
    );
    let mut bad = good.clone();
    bad[27] = 1;
    reseal(&mut bad);
    assert_eq!(FileStore::parse(&bad).unwrap_err(), StoreError::BadHeader);
    assert_eq!(
        FileStore::parse(&good[..good.len() - 1]).unwrap_err(),
        StoreError::Truncated {
            needed: good.len() as u64,
            available: good.len() as u64 - 1
        }
    );
    let mut bad = good.clone();
    bad[12..16].copy_from_slice(&2000u32.to_be_bytes());
    let header = crc32(&bad[..28]);
    bad[28..32].copy_from_slice(&header.to_be_bytes());
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::BadEntryCount { count: 2000 }
    );
    let mut bad = good.clone();
    bad[entry(1, 70)] ^= 1;
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::TableCrcMismatch
    );
}

#[test]
fn entry_rules() {
    let good = sample();
    let mut bad = good.clone();
    bad[entry(0, 2)] = b'/';
    reseal(&mut bad);
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::BadName { index: 0 }
    );
    let mut bad = good.clone();
    bad[entry(0, 40)] = b'z'; // garbage after the NUL terminator
    reseal(&mut bad);
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::BadName { index: 0 }
    );
    let mut bad = good.clone();
    bad[entry(1, 0)..entry(1, 5)].copy_from_slice(b"aaaaa"); // "aaaaa.tgz" < "empty"
    reseal(&mut bad);
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::NotSorted { index: 1 }
    );
    let mut bad = good.clone();
    bad[entry(2, 87)] = 1;
    reseal(&mut bad);
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::BadEntry { index: 2 }
    );
    let mut bad = good.clone();
    bad[entry(1, 75)] += 16; // hello.tgz's offset
    reseal(&mut bad);
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::BadLayout { index: 1 }
    );
    let mut bad = good.clone();
    bad[entry(2, 76)..entry(2, 80)].copy_from_slice(&u32::MAX.to_be_bytes());
    reseal(&mut bad);
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::BadLayout { index: 2 }
    );
    let mut bad = good.clone();
    let last = bad.len() - 20;
    bad[last] ^= 0x40; // inside openwrt.tgz's data
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::DataCrcMismatch { index: 2 }
    );
    let mut bad = good.clone();
    let table_end = HEADER_LEN + 3 * ENTRY_LEN;
    bad[table_end] = 1; // padding between the table (296) and the first file (304)
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::PaddingNotZero {
            offset: table_end as u32
        }
    );
    let mut bad = good.clone();
    bad.extend_from_slice(&[0; 16]);
    let total = bad.len() as u32;
    bad[16..20].copy_from_slice(&total.to_be_bytes());
    reseal(&mut bad);
    assert_eq!(
        FileStore::parse(&bad).unwrap_err(),
        StoreError::BadTotalLength {
            total_len: total,
            expected: good.len() as u64
        }
    );
}

#[test]
fn every_single_bit_flip_is_refused() {
    let good = sample();
    for byte in 0..good.len() {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[byte] ^= 1 << bit;
            assert!(
                FileStore::parse(&bad).is_err(),
                "flip at {byte}.{bit} accepted"
            );
        }
    }
}

#[cfg(feature = "std")]
#[test]
fn files_from_disk_go_in_under_their_base_names() {
    extern crate std;
    let dir = std::env::temp_dir().join(std::format!("store-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("guest.tgz");
    std::fs::write(&path, b"abc").unwrap();
    let mut b = StoreBuilder::new();
    b.add_file(&path).unwrap();
    assert!(matches!(
        b.add_file(&dir.join("missing")),
        Err(AddFileError::Io(_))
    ));
    let blob = b.build();
    let f = FileStore::parse(&blob).unwrap().find("guest.tgz").unwrap();
    assert_eq!(f.data, b"abc");
    assert!(f.created > 1_600_000_000);
    std::fs::remove_dir_all(&dir).unwrap();
}

proptest! {
    #[test]
    fn any_file_set_round_trips_canonically(
        files in proptest::collection::btree_map("[a-zA-Z0-9._-]{1,63}", (any::<u64>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..20)
    ) {
        let mut b = StoreBuilder::new();
        for (name, (created, data)) in &files {
            prop_assume!(name != "." && name != "..");
            b.add(name, *created, data).unwrap();
        }
        let blob = b.build();
        let store = FileStore::parse(&blob).unwrap();
        let back: Vec<(String, u64, Vec<u8>)> =
            store.iter().map(|f| (f.name.to_string(), f.created, f.data.to_vec())).collect();
        let want: Vec<(String, u64, Vec<u8>)> =
            files.iter().map(|(n, (c, d))| (n.clone(), *c, d.clone())).collect();
        prop_assert_eq!(back, want);
        for (name, (_, data)) in &files {
            prop_assert_eq!(store.find(name).unwrap().data, &data[..]);
        }
        // Canonical: rebuilding from the parsed store gives the same bytes.
        let mut again = StoreBuilder::new();
        for f in store.iter() {
            again.add(f.name, f.created, f.data).unwrap();
        }
        prop_assert_eq!(again.build(), blob);
    }
}
