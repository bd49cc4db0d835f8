//! The body of the `devices` fuzz target: arbitrary guest RAM, arbitrary ring heads and an
//! arbitrary sequence of hypercalls and device operations, with an oracle that checks every
//! operation's writes against the guest RAM as it was before.
//!
//! It is a plain function so that `cargo test` runs it over thousands of generated inputs and
//! libFuzzer (`./x fuzz devices`) over whatever it finds. It panics only when a property
//! is broken:
//! - nothing outside the RAM slice changes (guard bytes on both sides);
//! - a descriptor changes only in its `size` word: a TX descriptor only from `len | DONE` to
//!   `len`, an RX descriptor only from a posted capacity `c` to `n | DONE` with `n <= c`;
//! - bytes of a posted RX buffer change only inside the first `n` bytes of a descriptor that
//!   was handed back with `n` (so never past the posted capacity), and no other byte changes,
//!   except bits being set in the registered virq word.
//!
//! The strict check needs the layout to be untangled (no buffer overlapping a descriptor or the
//! virq word, no descriptor on two rings): when the guest's RAM is tangled, the operation is
//! only checked for the guard bytes.
//!
//! Input: byte 0 picks the RAM window base; the next [`RAM_LEN`] bytes are the initial RAM;
//! the rest is a list of 7-byte operations (opcode + 6 argument bytes), see [`Op`].

use crate::abi::{DESCRIPTOR_ALIGN, DESCRIPTOR_LEN, DONE, NO_IRQ};
use crate::control::ControlWord;
use crate::devices::GuestDevices;
use crate::queue::QueueStatus;
use crate::veth::VethTx;
use crate::QueueId;
use guest_mem::{GuestRam, Gva};

/// Size of the fuzzed guest's RAM.
pub const RAM_LEN: usize = 8192;
/// Bytes of guard around the RAM slice.
const GUARD: usize = 64;
/// Bytes per operation record.
pub const OP_LEN: usize = 7;
/// RAM window bases byte 0 chooses from.
pub const BASES: [u32; 4] = [0xC000_0000, 0x8000_0000, 0xFFFF_E000, 0];

/// Operation codes (first byte of each record, modulo the count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Op {
    /// Hypercall 4: queue `a0 % 5`, irq from a table by `a1`, TX head `a2 a3`, RX head `a4 a5`.
    CreateQueue = 0,
    /// Hypercall 14: word at `a0 a1`, count `a2 % 34`.
    SetupIrqs,
    /// Hypercall 5: queue `a0 % 5`.
    ReleaseQueue,
    /// `service`: control, console, metafs rings and interface announcements.
    Service,
    /// Up to `a1 % 9` veth TX frames delivered back to interface `a0 % 9` of the same guest.
    VethPump,
    /// A frame of `a0 a1 % 11000` bytes delivered to interface `a2 % 9` (when `a2 & 0x80`, as a
    /// batch of one: delivered unraised, then its virq raised).
    VethDeliver,
    /// `a0` bytes of console input.
    ConsoleInput,
    /// Control word to the guest (`a0` even: restart).
    SendControl,
    /// Interface `a0 % 10` set to MAC `a1..a5` (removed when `a0 & 0x80`).
    SetInterface,
    /// The guest writes the word `a2..a5` at `a0 a1` (not checked: it is the guest's write).
    GuestWrite,
    /// Hypercall number `a0` (mostly unknown ones).
    RawHypercall,
    /// Guest restart.
    Reset,
    /// Console output drain with budget `a0 % 8`.
    ConsoleOutput,
    /// Maximum veth transfer set to `a0 a1`.
    MaxTransfer,
}

const OPS: [Op; 14] = [
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

/// A guest address from two argument bytes: mostly inside (or just past) the window, with the
/// top bit selecting addresses anywhere in the 4 GiB space.
pub fn address(base: u32, hi: u8, lo: u8) -> u32 {
    let v = u16::from_be_bytes([hi, lo]) as u32;
    if v & 0x8000 != 0 {
        (v << 17) ^ (v << 3)
    } else {
        base.wrapping_add(v % (RAM_LEN as u32 + 64))
    }
}

/// How much of an input was checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Operations run.
    pub ops: u32,
    /// Operations whose writes were checked strictly (untangled layout).
    pub strict: u32,
    /// Operations that changed guest RAM and were checked strictly.
    pub strict_writes: u32,
}

/// Runs one input (see the module documentation); panics if a property is broken.
pub fn run(input: &[u8]) -> Checked {
    let mut checked = Checked::default();
    let Some((&selector, rest)) = input.split_first() else {
        return checked;
    };
    let base = BASES[selector as usize % BASES.len()];
    let mut space = [0x5Au8; RAM_LEN + 2 * GUARD];
    let ram_init = &rest[..rest.len().min(RAM_LEN)];
    space[GUARD..GUARD + ram_init.len()].copy_from_slice(ram_init);
    space[GUARD + ram_init.len()..GUARD + RAM_LEN].fill(0);
    let ops = rest.get(RAM_LEN..).unwrap_or(&[]);
    let mut dev = GuestDevices::new();
    let mut before = [0u8; RAM_LEN];
    for record in ops.chunks(OP_LEN) {
        let mut a = [0u8; OP_LEN];
        a[..record.len()].copy_from_slice(record);
        let op = OPS[a[0] as usize % OPS.len()];
        let starts = Starts::capture(&dev, op, base, &a[1..]);
        before.copy_from_slice(&space[GUARD..GUARD + RAM_LEN]);
        {
            let (_, tail) = space.split_at_mut(GUARD);
            let (mem, _) = tail.split_at_mut(RAM_LEN);
            let Ok(mut ram) = GuestRam::new(mem, Gva::new(base)) else {
                return checked;
            };
            apply(&mut dev, &mut ram, base, op, &a[1..]);
        }
        assert!(
            space[..GUARD]
                .iter()
                .chain(&space[GUARD + RAM_LEN..])
                .all(|&b| b == 0x5A),
            "guard bytes changed"
        );
        checked.ops += 1;
        if op != Op::GuestWrite {
            let after = &space[GUARD..GUARD + RAM_LEN];
            if check(base, &before, after, &starts, dev.virq_word()) {
                checked.strict += 1;
                checked.strict_writes += u32::from(before[..] != after[..]);
            }
        }
    }
    checked
}

fn apply(dev: &mut GuestDevices, ram: &mut GuestRam<'_>, base: u32, op: Op, a: &[u8]) {
    const IRQS: [u32; 7] = [0, 1, 2, 3, 31, 32, NO_IRQ];
    match op {
        Op::CreateQueue => {
            let args = [
                u32::from(a[0] % 5),
                IRQS[a[1] as usize % 7],
                address(base, a[2], a[3]),
                address(base, a[4], a[5]),
            ];
            dev.hypercall(ram, 4, args);
        }
        Op::SetupIrqs => {
            dev.hypercall(
                ram,
                14,
                [address(base, a[0], a[1]), u32::from(a[2] % 34), 0, 0],
            );
        }
        Op::ReleaseQueue => {
            dev.hypercall(ram, 5, [u32::from(a[0] % 5), 0, 0, 0]);
        }
        Op::Service => dev.service(ram, &mut |_| {}),
        Op::VethPump => {
            for _ in 0..a[1] % 9 {
                let Ok(Some(VethTx { token, .. })) = dev.veth_next_tx(ram) else {
                    break;
                };
                let location = token.frame_location();
                let _ = dev.veth_deliver_own(ram, u16::from(a[0] % 9), location);
                let _ = dev.veth_complete_tx(ram, token);
            }
        }
        Op::VethDeliver => {
            let mut frame = [0u8; 11000];
            let len = u16::from_be_bytes([a[0], a[1]]) as usize % frame.len();
            for (i, b) in frame.iter_mut().enumerate().take(len) {
                *b = i as u8 ^ a[3];
            }
            let iface = u16::from(a[2] % 9);
            if a[2] & 0x80 == 0 {
                let _ = dev.veth_deliver(ram, iface, &frame[..len]);
            } else {
                // As a receive pass over the ports delivers: the virq bit once, after the frame.
                let _ = dev.veth_deliver_unraised(ram, iface, &frame[..len]);
                dev.veth_raise_delivered(ram);
            }
        }
        Op::ConsoleInput => {
            let input = [a[1]; 255];
            let _ = dev.console_input(ram, &input[..a[0] as usize % 256]);
        }
        Op::SendControl => {
            let word = if a[0].is_multiple_of(2) {
                ControlWord::Restart
            } else {
                ControlWord::Halt
            };
            let _ = dev.send_control(ram, word);
        }
        Op::SetInterface => {
            let mac = if a[0] & 0x80 != 0 {
                None
            } else {
                Some([a[1], a[2], a[3], a[4], a[5], a[0]])
            };
            let _ = dev.set_veth_interface(ram, u16::from(a[0] % 10), mac);
        }
        Op::GuestWrite => {
            let at = Gva::new(address(base, a[0], a[1]) & !3);
            let _ = ram.write_u32(at, u32::from_be_bytes([a[2], a[3], a[4], a[5]]));
        }
        Op::RawHypercall => {
            dev.hypercall(ram, u32::from(a[0]), [u32::from(a[1]), 0, 0, 0]);
        }
        Op::Reset => dev.reset(),
        Op::ConsoleOutput => {
            let _ = dev.console_output(ram, u32::from(a[0] % 8), &mut |_| {});
        }
        Op::MaxTransfer => dev.set_veth_max_transfer(u32::from(u16::from_be_bytes([a[0], a[1]]))),
    }
}

/// Where each ring's walk starts for the oracle: the cursor before the operation, or, for the
/// queue a create-queue hypercall names, the heads it passes (written to even if the new queue
/// faults during the same call), with a walk bound of every descriptor RAM can hold.
struct Starts {
    rings: [Option<(Gva, u32)>; 8],
}

impl Starts {
    fn capture(dev: &GuestDevices, op: Op, base: u32, a: &[u8]) -> Self {
        let mut rings = [None; 8];
        for q in QueueId::ALL {
            if let QueueStatus::Open(ch) = dev.queue_status(q) {
                rings[2 * q.id() as usize] = Some((ch.tx.cursor(), ch.tx.entries()));
                rings[2 * q.id() as usize + 1] = Some((ch.rx.cursor(), ch.rx.entries()));
            }
        }
        if op == Op::CreateQueue {
            if let Some(q) = QueueId::from_id(u32::from(a[0] % 5)) {
                let most = (RAM_LEN as u32) / DESCRIPTOR_ALIGN;
                rings[2 * q.id() as usize] = Some((Gva::new(address(base, a[2], a[3])), most));
                rings[2 * q.id() as usize + 1] = Some((Gva::new(address(base, a[4], a[5])), most));
            }
        }
        Self { rings }
    }
}

const DESC: u8 = 1;
const BUFFER: u8 = 2;
const ALLOWED: u8 = 4;

fn word(mem: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([mem[at], mem[at + 1], mem[at + 2], mem[at + 3]])
}

/// The oracle (see the module documentation); returns false when the layout was too tangled
/// for the strict check.
fn check(
    base: u32,
    before: &[u8; RAM_LEN],
    after: &[u8],
    starts: &Starts,
    virq: Option<Gva>,
) -> bool {
    let offset = |gva: u32| -> Option<usize> {
        let off = gva.wrapping_sub(base) as usize;
        (gva >= base && off < RAM_LEN).then_some(off)
    };
    let mut map = [0u8; RAM_LEN];
    let mut tangled = false;
    let mark = |map: &mut [u8; RAM_LEN], from: usize, len: usize, flag: u8| -> bool {
        let mut clash = false;
        for m in &mut map[from..(from + len).min(RAM_LEN)] {
            clash |= *m & (DESC | BUFFER) != 0;
            *m |= flag;
        }
        clash
    };
    if let Some(word_at) = virq.and_then(|v| offset(v.get())) {
        tangled |= mark(&mut map, word_at, 4, BUFFER | ALLOWED);
        let (old, new) = (word(before, word_at), word(after, word_at));
        assert_eq!(new & old, old, "virq bits may only be set");
    }
    // Descriptors first, then buffers, so any overlap is seen. An untangled RAM holds at most
    // RAM_LEN / 16 descriptors; more visits than that means some were visited twice.
    let mut visited = [(0u16, false); RAM_LEN / DESCRIPTOR_ALIGN as usize];
    let mut count = 0;
    for (i, start) in starts.rings.iter().enumerate() {
        let Some((cursor, entries)) = *start else {
            continue;
        };
        let rx = i % 2 == 1;
        let mut at = cursor.get();
        for step in 0..entries {
            if step > 0 && at == cursor.get() {
                break;
            }
            let Some(d) = offset(at) else { break };
            if !at.is_multiple_of(DESCRIPTOR_ALIGN) || d + DESCRIPTOR_LEN as usize > RAM_LEN {
                break;
            }
            tangled |= mark(&mut map, d, DESCRIPTOR_LEN as usize, DESC);
            match visited.get_mut(count) {
                Some(slot) => *slot = (d as u16, rx),
                None => tangled = true,
            }
            count += 1;
            at = word(before, d + 8);
        }
    }
    let visited = &visited[..count.min(visited.len())];
    for &(d, rx) in visited {
        let d = d as usize;
        let (size_before, size_after) = (word(before, d + 4), word(after, d + 4));
        for m in &mut map[d + 4..d + 8] {
            *m |= ALLOWED;
        }
        if rx && size_before & DONE == 0 && size_before != 0 {
            let Some(buf) = offset(word(before, d)) else {
                continue;
            };
            tangled |= mark(&mut map, buf, size_before as usize, BUFFER);
            if size_after != size_before {
                let written = (size_after & !DONE) as usize;
                for m in &mut map[buf..(buf + written).min(RAM_LEN)] {
                    *m |= ALLOWED;
                }
            }
        }
    }
    if tangled {
        return false;
    }
    for &(d, rx) in visited {
        let d = d as usize;
        let (size_before, size_after) = (word(before, d + 4), word(after, d + 4));
        if size_before == size_after {
            continue;
        }
        if rx {
            assert!(
                size_before & DONE == 0 && size_before != 0,
                "RX descriptor written while not posted"
            );
            assert!(
                size_after & DONE != 0,
                "RX descriptor handed back without DONE"
            );
            assert!(
                size_after & !DONE <= size_before,
                "RX length past the posted capacity"
            );
        } else {
            assert!(
                size_before & DONE != 0,
                "TX descriptor completed while the guest owned it"
            );
            assert_eq!(
                size_after,
                size_before & !DONE,
                "TX completion must only clear DONE"
            );
        }
    }
    for (i, (old, new)) in before.iter().zip(after).enumerate() {
        assert!(
            old == new || map[i] & ALLOWED != 0,
            "byte at guest offset {i:#x} changed without cause"
        );
    }
    true
}
