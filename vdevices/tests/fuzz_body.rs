//! Runs the fuzz target's body (`vdevices::fuzzing::run`) over generated inputs: guest RAMs laid
//! out like real guests' (then damaged), and plain random bytes. The body panics on any broken
//! property; see its documentation.

use vdevices::abi::DONE;
use vdevices::fuzzing::{run, Op, OP_LEN, RAM_LEN};

/// xorshift64*: deterministic, so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// RAM image with rings the way guest drivers build them, at offsets the ops refer to.
struct Layout {
    ram: Vec<u8>,
    brk: usize,
    rings: Vec<(u16, u16, u32, usize)>, // (tx offset, rx offset, count, rx buffer size)
    tx_descs: Vec<usize>,
    rx_descs: Vec<(usize, u32)>,
    virq: u16,
}

impl Layout {
    fn alloc(&mut self, size: usize, align: usize) -> usize {
        let at = self.brk.div_ceil(align) * align;
        self.brk = at + size;
        at
    }
    fn w32(&mut self, at: usize, v: u32) {
        self.ram[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }
    fn ring(&mut self, base: u32, count: usize, buf: usize, posted: u32) -> usize {
        let head = self.alloc(16 * count, 16);
        for i in 0..count {
            let b = if buf > 0 { self.alloc(buf, 4) } else { 0 };
            let next = if i + 1 == count {
                head
            } else {
                head + 16 * (i + 1)
            };
            let d = head + 16 * i;
            self.w32(d, base.wrapping_add(b as u32));
            self.w32(d + 4, posted);
            self.w32(d + 8, base.wrapping_add(next as u32));
        }
        head
    }
    fn new(base: u32) -> Self {
        let mut l = Layout {
            ram: vec![0; RAM_LEN],
            brk: 16,
            rings: vec![],
            tx_descs: vec![],
            rx_descs: vec![],
            virq: 0,
        };
        l.virq = l.alloc(4, 4) as u16;
        // control, console, metafs, veth with small buffers so that all fit in RAM_LEN.
        let shapes: [(usize, usize, usize); 4] = [(4, 64, 4), (1, 256, 1), (4, 0, 4), (8, 160, 8)];
        for (q, &(tx_count, rx_buf, rx_count)) in shapes.iter().enumerate() {
            let tx = l.ring(base, tx_count, 64, 0);
            let rx_posted = match q {
                2 => DONE,
                _ => rx_buf as u32,
            };
            let rx = l.ring(base, rx_count, rx_buf, rx_posted);
            for i in 0..tx_count {
                l.tx_descs.push(tx + 16 * i);
            }
            for i in 0..rx_count {
                l.rx_descs.push((rx + 16 * i, rx_buf.max(8) as u32));
            }
            l.rings
                .push((tx as u16, rx as u16, tx_count as u32, rx_buf));
        }
        // metafs RX buffers: give them addresses (the guest fills them per request).
        for i in 0..4 {
            let (d, _) = l.rx_descs[4 + 1 + i];
            let b = l.alloc(16, 4);
            l.w32(d, base.wrapping_add(b as u32));
        }
        l
    }
}

fn op(out: &mut Vec<u8>, op: Op, args: [u8; 6]) {
    out.push(op as u8);
    out.extend_from_slice(&args);
}

fn structured(rng: &mut Rng) -> Vec<u8> {
    let selector = rng.below(4) as u8;
    let base = vdevices::fuzzing::BASES[selector as usize];
    let mut l = Layout::new(base);
    let mut input = vec![selector];
    let mut ops = Vec::new();
    let be = |v: u16| v.to_be_bytes();
    // Guest boot: virq word, interfaces, queues (some with damaged heads).
    let v = be(l.virq);
    op(&mut ops, Op::SetupIrqs, [v[0], v[1], 32, 0, 0, 0]);
    for id in 1..4u8 {
        op(&mut ops, Op::SetInterface, [id, 2, 0, 0, 0, id]);
    }
    for (q, &(tx, rx, _, _)) in l.rings.clone().iter().enumerate() {
        let (mut t, mut r) = (be(tx), be(rx));
        if rng.below(8) == 0 {
            t[1] ^= 1 << rng.below(8);
        }
        if rng.below(8) == 0 {
            r[1] ^= 1 << rng.below(8);
        }
        let irq = if q == 2 { 6 } else { q as u8 };
        op(
            &mut ops,
            Op::CreateQueue,
            [q as u8, irq, t[0], t[1], r[0], r[1]],
        );
    }
    // Damage: a few random words, maybe inside descriptors.
    for _ in 0..rng.below(3) {
        let at = rng.below(RAM_LEN as u32 - 4) as usize & !3;
        l.w32(at, rng.next() as u32);
    }
    // Guest activity and host operations.
    for _ in 0..rng.below(40) {
        match rng.below(12) {
            0..=2 => {
                // The guest hands over a TX descriptor: set `len | DONE`, maybe bogus.
                let d = l.tx_descs[rng.below(l.tx_descs.len() as u32) as usize];
                let len = match rng.below(4) {
                    0 => rng.below(64),
                    1 => 16 + rng.below(48),
                    2 => b"halt\0".len() as u32,
                    _ => rng.next() as u32 & 0x7FFF_FFFF,
                };
                let at = be(d as u16 + 4);
                let s = (len | DONE).to_be_bytes();
                op(
                    &mut ops,
                    Op::GuestWrite,
                    [at[0], at[1], s[0], s[1], s[2], s[3]],
                );
            }
            3 => {
                // The guest re-posts an RX descriptor (sometimes with another capacity).
                let (d, cap) = l.rx_descs[rng.below(l.rx_descs.len() as u32) as usize];
                let cap = match rng.below(8) {
                    0 => rng.below(4096),
                    1 => rng.below(24),
                    _ => cap,
                };
                let at = be(d as u16 + 4);
                let s = cap.to_be_bytes();
                op(
                    &mut ops,
                    Op::GuestWrite,
                    [at[0], at[1], s[0], s[1], s[2], s[3]],
                );
            }
            4 => {
                // A frame whose length is close to the veth buffers' capacity (160 with the id).
                let len = (150 + rng.below(20)).to_be_bytes();
                op(
                    &mut ops,
                    Op::VethDeliver,
                    [len[2], len[3], 1 + rng.below(3) as u8, rng.byte(), 0, 0],
                );
            }
            5 => {
                // Console input around small capacities.
                op(
                    &mut ops,
                    Op::ConsoleInput,
                    [rng.below(40) as u8, rng.byte(), 0, 0, 0, 0],
                );
            }
            _ => {
                let code = rng.below(14) as u8;
                let mut args = [0u8; 6];
                args.iter_mut().for_each(|a| *a = rng.byte());
                if code == Op::GuestWrite as u8 {
                    args[0] &= 0x7F;
                }
                op(&mut ops, op_code(code), args);
            }
        }
    }
    input.extend_from_slice(&l.ram);
    input.extend_from_slice(&ops);
    input
}

fn op_code(code: u8) -> Op {
    const ALL: [Op; 14] = [
        Op::CreateQueue,
        Op::SetupIrqs,
        Op::ReleaseQueue,
        Op::Service,
        Op::VethPump,
        Op::VethDeliver,
        Op::ConsoleInput,
        Op::SendControl,
        Op::SetInterface,
        Op::GuestWrite,
        Op::RawHypercall,
        Op::Reset,
        Op::ConsoleOutput,
        Op::MaxTransfer,
    ];
    ALL[code as usize % ALL.len()]
}

#[test]
fn structured_guest_rams() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut ops, mut strict, mut strict_writes) = (0, 0, 0);
    for seed in 0..2000 {
        let input = structured(&mut rng);
        match std::panic::catch_unwind(|| run(&input)) {
            Ok(checked) => {
                ops += checked.ops;
                strict += checked.strict;
                strict_writes += checked.strict_writes;
            }
            Err(_) => {
                let path = std::env::temp_dir().join("vdevices-fuzz-failure.bin");
                std::fs::write(&path, &input).unwrap();
                panic!(
                    "structured input #{seed} broke a property (saved to {})",
                    path.display()
                );
            }
        }
    }
    println!(
        "{ops} operations, {strict} checked strictly, {strict_writes} of them wrote guest RAM"
    );
    // The oracle must not be vacuous: most operations are checked, and many of them write.
    assert!(strict * 10 > ops * 6, "{strict} of {ops} checked strictly");
    assert!(
        strict_writes * 10 > strict,
        "{strict_writes} of {strict} wrote guest RAM"
    );
}

/// `VDEVICES_FUZZ_SEEDS=DIR cargo test -p vdevices --test fuzz_body` writes structured inputs
/// to DIR, to start the fuzzer from realistic guest RAM (DIR = `fuzz/corpus/devices`, then
/// `./x fuzz devices`).
#[test]
fn write_seed_corpus_when_asked() {
    let Some(dir) = std::env::var_os("VDEVICES_FUZZ_SEEDS") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(0x5EED);
    for i in 0..64 {
        std::fs::write(
            std::path::Path::new(&dir).join(format!("structured-{i:02}")),
            structured(&mut rng),
        )
        .unwrap();
    }
}

#[test]
fn random_bytes() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for _ in 0..1500 {
        let len = 1 + rng.below(RAM_LEN as u32 + 60 * OP_LEN as u32) as usize;
        let input: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        run(&input);
    }
}

#[test]
fn empty_and_tiny_inputs() {
    run(&[]);
    run(&[0]);
    run(&[3, 1, 2, 3]);
}
