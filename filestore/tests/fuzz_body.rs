//! Runs the fuzz bodies over generated inputs: operation sequences with remounts, deferred
//! batches and power cuts against the reference model, and damaged images.

use filestore::fuzz::{image, operations, sample_image};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// An input that mostly creates, writes and links (so that later operations find things), with
/// remounts, cuts and reads mixed in.
fn generated(rng: &mut Rng, ops: usize) -> Vec<u8> {
    let mut input = vec![rng.byte() % 8];
    for _ in 0..ops {
        let roll = rng.next() % 100;
        let code = match roll {
            0..=3 => 200,
            4..=6 => 210,
            7..=22 => 220,
            23..=28 => 240,
            _ => [0, 1, 4, 4, 4, 5, 6, 7, 8, 3, 2][(rng.next() % 11) as usize] as u8,
        };
        input.push(code);
        for _ in 0..12 {
            input.push(rng.byte());
        }
    }
    input
}

#[test]
fn operation_sequences_agree_with_the_model_through_remounts_and_power_cuts() {
    let mut rng = Rng(0x5EED_F11E_5708_E001);
    for round in 0..400 {
        let input = generated(&mut rng, 20 + round % 40);
        if std::panic::catch_unwind(|| operations(&input)).is_err() {
            let path = std::env::temp_dir().join(format!("filestore-ops-{round}.bin"));
            std::fs::write(&path, &input).unwrap();
            panic!("round {round} failed; input in {}", path.display());
        }
    }
}

#[test]
fn damaged_images_never_panic_and_repair_for_good() {
    let base = sample_image();
    assert!(base.len() >= 64 * 4096);
    let mut rng = Rng(0xBAD_D15C);
    for round in 0..150 {
        let patches = 1 + round % 6;
        let mut input = Vec::new();
        for _ in 0..patches {
            // Blocks that hold something: superblocks and the first used blocks.
            let block = (rng.next() % 40) as u8;
            let offset = if rng.next() % 3 == 0 {
                rng.next() % 64
            } else {
                rng.next() % 4096
            } as u16;
            input.push(block);
            input.extend_from_slice(&offset.to_be_bytes());
            input.push(rng.byte());
        }
        image(&input);
    }
    // Raw images: zeros, noise, a superblock alone.
    image(&[0xFF]);
    let noise: Vec<u8> = (0..70_000).map(|_| rng.byte()).collect();
    let mut raw = vec![0xFF];
    raw.extend_from_slice(&noise);
    image(&raw);
    let mut sb_only = vec![0xFF];
    sb_only.extend_from_slice(&base[..8192]);
    image(&sb_only);
}
