//! Runs the `switch` fuzz target's body over generated inputs: configuration records mixed with
//! frames drawn from a small set of stations (so that learning, flooding and VLANs all happen).

use vswitch::fuzzing::run;

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

fn generated(rng: &mut Rng) -> Vec<u8> {
    let mut input = Vec::new();
    // Two bridges (one filtering), eight ports attached.
    input.extend_from_slice(&[0, 30, 0, 0, 0, 60, 1, 0]);
    for p in 0..8u8 {
        input.extend_from_slice(&[2, 0, 0, 0]);
        input.extend_from_slice(&[4, p, (p % 2) | (rng.byte() & 0xB0), rng.byte()]);
    }
    for _ in 0..(rng.next() % 80) {
        if rng.next().is_multiple_of(4) {
            let mut record = [rng.byte() % 9, rng.byte(), rng.byte(), rng.byte()];
            if record[0] == 6 {
                record[1] = 0;
                record[2] = 0;
            }
            input.extend_from_slice(&record);
        } else {
            let station = |n: u8| {
                if n == 7 {
                    [0xFF; 6]
                } else {
                    [2, 0, 0, 0, 0, n]
                }
            };
            let mut frame = station(rng.byte() % 8).to_vec();
            frame.extend_from_slice(&station(rng.byte() % 7));
            if rng.next().is_multiple_of(3) {
                frame.extend_from_slice(&[0x81, 0x00, rng.byte() & 0xE0, rng.byte() % 5]);
            }
            frame.extend_from_slice(&[0x08, 0x00]);
            frame.resize(frame.len() + (rng.next() % 50) as usize, 0);
            if rng.next().is_multiple_of(16) {
                frame.truncate((rng.next() % 20) as usize);
            }
            input.extend_from_slice(&[9, frame.len() as u8, rng.byte() % 9, 0]);
            input.extend_from_slice(&frame);
        }
    }
    input
}

#[test]
fn generated_inputs() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for _ in 0..3000 {
        run(&generated(&mut rng));
    }
}

#[test]
fn random_bytes() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    for _ in 0..3000 {
        let len = (rng.next() % 600) as usize;
        let input: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        run(&input);
    }
}
