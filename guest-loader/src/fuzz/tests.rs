//! Runs every fuzz body over a few thousand inputs derived from valid seeds by deterministic
//! mutations (bit flips, interesting words, cuts, splices), so CI exercises them without
//! cargo-fuzz.

use super::samples::{mips_kernel_at, powerpc_kernel};
use super::*;
use crate::crc32::crc32;
use alloc::vec::Vec;

/// xorshift64*: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: [u32; 10] = [
    0,
    1,
    0x34,
    0x7FFF_FFFF,
    0x8000_0000,
    0xC000_0000,
    0xC010_0000,
    0xFFFF_FFFF,
    0x1_0000,
    0x0FFF_FFF0,
];

/// One random mutation of `seed`.
fn mutate(rng: &mut Rng, seed: &[u8], keep_prefix: usize) -> Vec<u8> {
    let mut v = seed.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        if v.len() <= keep_prefix {
            v.push(rng.next() as u8);
            continue;
        }
        let at = keep_prefix + rng.below(v.len() - keep_prefix);
        match rng.below(6) {
            0 => v[at] ^= 1 << rng.below(8),
            1 => v[at] = rng.next() as u8,
            2 if at + 4 <= v.len() => {
                let word = INTERESTING[rng.below(INTERESTING.len())];
                v[at..at + 4].copy_from_slice(&word.to_be_bytes());
            }
            3 => v.truncate(at),
            4 => {
                let len = rng.below(64);
                let extra: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                v.splice(at..at, extra);
            }
            _ => {
                let len = rng.below(32).min(v.len() - at);
                v.drain(at..at + len);
            }
        }
    }
    v
}

fn elf_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (selector, image) in [
        (0x0C_u8, mips_kernel_at(0xC000_4000, 0x100, 0x40, 0x200)),
        (0x3C, mips_kernel_at(0xC001_0000, 0x2000, 0x100, 0x8000)),
        (0x09, powerpc_kernel(0x300, 0x100)),
        (0x02, mips_kernel_at(0xC000_1000, 0x80, 0, 0)),
    ] {
        let mut s = vec![selector, 13];
        s.extend_from_slice(&image);
        seeds.push(s);
    }
    seeds
}

#[test]
fn elf_body_over_mutations() {
    let seeds = elf_seeds();
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let mut accepted = 0;
    for seed in &seeds {
        elf(seed);
    }
    for i in 0..3000 {
        let input = mutate(&mut rng, &seeds[i % seeds.len()], 2);
        if parse_elf(&input[2..], &elf_spec(input[0])).is_ok() {
            accepted += 1;
        }
        elf(&input);
    }
    // The mutations must leave some images valid, or the loading invariants go unexercised.
    assert!(accepted > 100, "only {accepted} mutated images were valid");
}

fn sample_tar() -> Vec<u8> {
    crate::archive::tests::sample_tar(3000).0
}

#[test]
fn archive_bodies_over_mutations() {
    let tar = sample_tar();
    let gz = crate::archive::tests::gzip(&tar);
    archive(&gz);
    tar_stream(&tar);
    let mut rng = Rng(0x0DDB_A11C_AFE0_F00D);
    let mut accepted = 0;
    for _ in 0..1500 {
        archive(&mutate(&mut rng, &gz, 0));
        let input = mutate(&mut rng, &tar, 0);
        if check_stored(&input) {
            accepted += 1;
        }
        tar_stream(&input);
    }
    assert!(
        accepted > 50,
        "only {accepted} mutated tar streams were valid"
    );
}

fn check_stored(tar: &[u8]) -> bool {
    let spec = ElfSpec::for_guest(&GuestArch::MIPS32, 0x100_0000).unwrap();
    crate::archive::check_archive(&gzip_stored(tar), &spec).is_ok()
}

#[test]
fn stored_gzip_wrapper_is_valid_gzip() {
    use std::io::Read;
    extern crate std;
    for len in [0usize, 1, 0xFFFF, 0x10000, 200_000] {
        let data: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gzip_stored(&data)[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }
}

/// Recomputes a store's CRCs after a mutation, so deeper rules are reached.
fn reseal(v: &mut [u8]) {
    if v.len() < 32 {
        return;
    }
    let count = u32::from_be_bytes(v[12..16].try_into().unwrap()) as usize;
    let end = (32 + count.min(2000) * 88).min(v.len());
    let table = crc32(&v[32..end]);
    v[20..24].copy_from_slice(&table.to_be_bytes());
    let header = crc32(&v[..28]);
    v[28..32].copy_from_slice(&header.to_be_bytes());
}

#[test]
fn store_body_over_mutations() {
    let mut b = StoreBuilder::new();
    b.add("a.tgz", 1, &[1, 2, 3]).unwrap();
    b.add("b", 2, &[9; 40]).unwrap();
    b.add("c.bin", 0, &[]).unwrap();
    let seed = b.build();
    store(&seed);
    let mut rng = Rng(0xFEED_FACE_DEAD_BEEF);
    for i in 0..3000 {
        let mut input = mutate(&mut rng, &seed, 8);
        if i % 2 == 0 {
            reseal(&mut input);
        }
        store(&input);
    }
}

#[test]
fn seeds_are_accepted_by_their_targets() {
    let spec = ElfSpec::for_guest(&GuestArch::MIPS32, 0x100_0000).unwrap();
    for seed in super::samples::seeds("archive") {
        let r = crate::archive::check_archive(&seed, &spec);
        assert!(r.is_ok(), "{r:?}");
    }
    for seed in super::samples::seeds("elf") {
        assert!(parse_elf(&seed[2..], &elf_spec(seed[0])).is_ok());
    }
    for seed in super::samples::seeds("store") {
        assert_eq!(FileStore::parse(&seed).unwrap().len(), 2);
    }
    assert_eq!(super::samples::seeds("tar_stream").len(), 1);
}
