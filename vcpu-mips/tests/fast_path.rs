//! The fast path against the general path: for any privileged instruction in any guest state,
//! `Vcpu::fast_trap` either declines and changes nothing, or ends in exactly the state the
//! general path (`handle_trap` then `prepare_entry`) reaches, asks the arch for the same host
//! work, and only skips `prepare_entry` or the timer when they would change nothing.

mod common;
use common::*;
use proptest::prelude::*;
use vcpu_mips::shadow::Privilege;
use vcpu_mips::{Fast, Outcome};

/// The GPRs an arch's fast entry saves: all but $16..$23 and $30.
const FAST_GPRS: u32 = !(0xFF << 16 | 1 << 30);

fn cp0_reg() -> impl Strategy<Value = (u32, u32)> {
    prop_oneof![
        // The registers guests use, with sel 0.
        prop::sample::select(vec![
            0u32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 28, 30, 31
        ])
        .prop_map(|rd| (rd, 0)),
        (0u32..32, 0u32..8),
    ]
}

/// Privileged instruction words, mostly the ones the fast path takes.
fn instruction() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => (0u32..32, cp0_reg()).prop_map(|(rt, (rd, sel))| mtc0(rt, rd, sel)),
        2 => (0u32..32, cp0_reg()).prop_map(|(rt, (rd, sel))| mfc0(rt, rd, sel)),
        // di / ei
        2 => (0u32..32, any::<bool>()).prop_map(|(rt, ei)| 0x4160_6000 | rt << 16 | u32::from(ei) << 5),
        1 => prop::sample::select(vec![TLBR, TLBWI, TLBWR, TLBP, ERET, DERET, WAIT]),
        // cache op, offset(base)
        1 => (0u32..32, 0u32..32, any::<u16>()).prop_map(|(op, base, off)| 0xBC00_0000 | base << 21 | op << 16 | u32::from(off)),
        // rdpgpr / wrpgpr, reserved COP0 encodings
        1 => (any::<bool>(), 0u32..32, 0u32..32).prop_map(|(w, rt, rd)| 0x4140_0000 | u32::from(w) << 23 | rt << 16 | rd << 11),
        1 => any::<u32>().prop_map(|w| 0x4000_0000 | (w & 0x03FF_FFFF)),
    ]
}

/// CP0 writes that set up a varied guest state: (rd, sel, value).
fn setup_write() -> impl Strategy<Value = (u32, u32, u32)> {
    prop_oneof![
        // Status: kernel/supervisor/user, EXL/ERL, IE, IM, CU0, BEV kept clear mostly.
        3 => any::<u32>().prop_map(|v| (12, 0, v & !(1 << 22))),
        2 => any::<u32>().prop_map(|v| (10, 0, v)),
        1 => any::<u32>().prop_map(|v| (13, 0, v)),
        // Software interrupts pending.
        1 => (1u32..4).prop_map(|ip| (13, 0, ip << 8)),
        1 => any::<u32>().prop_map(|v| (11, 0, v)),
        1 => any::<u32>().prop_map(|v| (9, 0, v)),
        1 => any::<u32>().prop_map(|v| (14, 0, v)),
        1 => any::<u32>().prop_map(|v| (30, 0, v)),
        1 => (0u32..16).prop_map(|v| (0, 0, v)),
        1 => (0u32..16).prop_map(|v| (6, 0, v)),
        1 => (0u32..0x3000, any::<u8>()).prop_map(|(pfn, f)| (2, 0, pfn << 6 | u32::from(f & 0x3F))),
        1 => (0u32..0x3000, any::<u8>()).prop_map(|(pfn, f)| (3, 0, pfn << 6 | u32::from(f & 0x3F))),
        1 => prop::sample::select(vec![0u32, 0x6000, 0x1E000, 0x7E000]).prop_map(|m| (5, 0, m)),
    ]
}

/// The Status the guest is left with: as the setup made it (kernel mode), or kernel mode with
/// every interrupt line enabled but IE, EXL and ERL chosen, or supervisor/user mode.
fn final_status() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![
        2 => Just(None),
        1 => (0u32..8).prop_map(|bits| Some(0xFF00 | (bits & 1) | (bits & 6))),
        1 => (1u32..3, any::<bool>(), any::<bool>()).prop_map(|(ksu, ie, cu0)| {
            Some(0xFF00 | ksu << 3 | u32::from(ie) | u32::from(cu0) << 28)
        }),
    ]
}

/// A guest whose state was shaped by `setup` (CP0 writes and TLB writes, through the general
/// path, each from virtual kernel mode), then given a timer that fires `timer` ticks from now
/// (Count 0, Compare = `timer`) if asked and `status`, then entered. `None` if it cannot run.
fn shaped_guest(
    setup: &[((u32, u32, u32), bool)],
    timer: Option<u32>,
    status: Option<u32>,
    now: u32,
) -> Option<Guest> {
    let mut g = Guest::new();
    g.now = now;
    for &((rd, sel, value), write_tlb) in setup {
        to_kernel(&mut g)?;
        g.write_cp0(rd, sel, value);
        if write_tlb {
            to_kernel(&mut g)?;
            let pc = g.regs.pc;
            g.poke(pc, TLBWR);
            let _ = g.trap(CPU, 0);
        }
    }
    to_kernel(&mut g)?;
    if let Some(ticks) = timer {
        g.write_cp0(9, 0, 0);
        g.write_cp0(11, 0, ticks);
    }
    if let Some(status) = status {
        g.write_cp0(12, 0, status);
    }
    g.vcpu
        .prepare_entry(&mut g.regs, g.now, &mut g.alloc)
        .ok()?;
    Some(g)
}

/// Put the guest in virtual kernel mode (a reflected `syscall` sets EXL), at a fixed PC.
fn to_kernel(g: &mut Guest) -> Option<()> {
    g.regs.pc = KERNEL_PC + 0x1000;
    g.regs.branch_delay = false;
    if g.vcpu.privilege() != Privilege::Kernel {
        let Outcome::Reflected { .. } = g.trap(8 << 2, 0) else {
            return None;
        };
        g.regs.pc = KERNEL_PC + 0x1000;
    }
    Some(())
}

fn state(g: &Guest) -> String {
    format!("{:?} {:?} {:?}", g.vcpu, g.regs, g.alloc)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_matches_the_general_path(
        setup in proptest::collection::vec((setup_write(), any::<bool>()), 0..12),
        status in final_status(),
        word in instruction(),
        gprs in proptest::collection::vec(any::<u32>(), 32),
        all_gprs in any::<bool>(),
        in_slot in prop::sample::select(vec![false, false, false, false, true]),
        now in any::<u32>(),
        later in 0u32..100_000,
        timer in prop::option::of(1u32..100_000),
    ) {
        let Some(mut g) = shaped_guest(&setup, timer, status, now) else { return Ok(()) };
        for (r, v) in gprs.iter().enumerate().skip(1) {
            g.regs.gpr[r] = *v;
        }
        g.regs.branch_delay = in_slot;
        let pc = g.regs.pc;
        if in_slot {
            // A branch at pc; the instruction in its slot.
            g.poke(pc, 0x1000_0010); // beq $0, $0, +0x44
            g.poke(pc + 4, word);
        } else {
            g.poke(pc, word);
        }
        g.now = now.wrapping_add(later);
        // What entering now, without the instruction, would decide, and the timer deadline the
        // host would then program (the timer brought up to date: when it fired meanwhile, the
        // host Compare programmed for it has passed and its interrupt takes the general path).
        let (entry_before, deadline_before) = {
            let mut probe = g.clone_guest();
            let e = probe.vcpu.prepare_entry(&mut probe.regs, probe.now, &mut probe.alloc).ok();
            (e, probe.vcpu.timer_deadline(probe.now))
        };
        let before = state(&g);

        // The general path.
        let mut general = g.clone_guest();
        let outcome = general.trap(CPU, 0);
        let general_entry = general.vcpu.prepare_entry(&mut general.regs, general.now, &mut general.alloc);

        // The fast path.
        let mut fast = g.clone_guest();
        let usable = if all_gprs { u32::MAX } else { FAST_GPRS };
        let t = fast.now;
        let result = {
            let alloc = &fast.alloc;
            fast.vcpu.fast_trap(&mut fast.regs, word, || t, usable, || alloc)
        };
        match result {
            Fast::Declined => {
                prop_assert_eq!(state(&fast), before, "declined but changed the state");
                return Ok(());
            }
            Fast::Hypercall(call) => {
                prop_assert_eq!(outcome, Outcome::Hypercall(call));
                prop_assert_eq!(fast.regs, general.regs);
                return Ok(());
            }
            Fast::Done | Fast::InvalidateHost | Fast::Cache(_) | Fast::Reenter { .. } => {}
        }
        prop_assert!(!in_slot, "a delay-slot instruction must be declined");
        if !all_gprs {
            prop_assert_eq!(&fast.regs.gpr[16..24], &g.regs.gpr[16..24], "saved registers untouched");
            prop_assert_eq!(fast.regs.gpr[30], g.regs.gpr[30]);
        }
        // The same host work.
        match (result, outcome) {
            (Fast::Done | Fast::Reenter { .. }, Outcome::Resume) => {}
            (Fast::InvalidateHost, Outcome::InvalidateHost) => {
                prop_assert_eq!(fast.vcpu.host_invalidation(), general.vcpu.host_invalidation());
            }
            (Fast::Cache(a), Outcome::Cache(b)) => prop_assert_eq!(a, b),
            (f, o) => prop_assert!(false, "fast {:?} but general {:?}", f, o),
        }
        // What skipping prepare_entry and the timer may not lose.
        let (reenter, timer) = match result {
            Fast::Reenter { timer } => (true, timer),
            _ => (false, false),
        };
        if !reenter {
            let mut probe = fast.clone_guest();
            let e = probe.vcpu.prepare_entry(&mut probe.regs, probe.now, &mut probe.alloc);
            let e = e.expect("entry after a fast trap that needs none");
            let b = entry_before.expect("entered before");
            // An interrupt may be deliverable only if it already was without the instruction:
            // the guest's timer fired since the guest was entered, and the host timer
            // interrupt programmed for that moment takes the general path, which delivers it.
            prop_assert!(
                !e.interrupt_delivered || b.interrupt_delivered,
                "an interrupt became deliverable"
            );
            prop_assert_eq!((e.mode, e.host_asid), (b.mode, b.host_asid), "mode or address space changed");
            if !e.interrupt_delivered {
                prop_assert_eq!(probe.regs, fast.regs);
            }
        }
        if !timer {
            let mut probe = fast.clone_guest();
            let _ = probe.vcpu.prepare_entry(&mut probe.regs, probe.now, &mut probe.alloc);
            prop_assert_eq!(probe.vcpu.timer_deadline(probe.now), deadline_before, "timer changed");
        }
        // The same state as the general path once both are entered.
        let fast_entry = fast.vcpu.prepare_entry(&mut fast.regs, fast.now, &mut fast.alloc);
        prop_assert_eq!(fast_entry, general_entry);
        prop_assert_eq!(state(&fast), state(&general));
    }
}

trait CloneGuest {
    fn clone_guest(&self) -> Guest;
}

impl CloneGuest for Guest {
    fn clone_guest(&self) -> Guest {
        Guest {
            vcpu: self.vcpu.clone(),
            regs: self.regs,
            mem: Mem(self.mem.0.clone()),
            alloc: self.alloc.clone(),
            now: self.now,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// What lets an arch call `handle_trap` from its fast entry for the exceptions
    /// `trap_uses_gprs` rules out: they neither read nor write a general register.
    #[test]
    fn exceptions_other_than_emulation_use_no_general_register(
        setup in proptest::collection::vec((setup_write(), any::<bool>()), 0..12),
        status in final_status(),
        exc_code in 0u32..32,
        ce in 0u32..4,
        in_slot in any::<bool>(),
        bad_vaddr in any::<u32>(),
        gprs_a in proptest::collection::vec(any::<u32>(), 32),
        gprs_b in proptest::collection::vec(any::<u32>(), 32),
        now in any::<u32>(),
    ) {
        let cause = exc_code << 2 | ce << 28 | u32::from(in_slot) << 31;
        prop_assume!(!vcpu_mips::trap_uses_gprs(cause) && exc_code != 0);
        let Some(g) = shaped_guest(&setup, None, status, now) else { return Ok(()) };
        let run = |gprs: &[u32]| {
            let mut h = g.clone_guest();
            h.regs.gpr.copy_from_slice(gprs);
            h.regs.gpr[0] = 0;
            h.regs.branch_delay = in_slot;
            let before = h.regs.gpr;
            let outcome = h.trap(cause, bad_vaddr);
            (outcome, h.regs.gpr == before, format!("{:?} {} {:?}", h.vcpu, h.regs.pc, h.alloc))
        };
        let (outcome_a, kept_a, state_a) = run(&gprs_a);
        let (outcome_b, kept_b, state_b) = run(&gprs_b);
        prop_assert!(kept_a && kept_b, "a general register was written");
        prop_assert_eq!(outcome_a, outcome_b);
        prop_assert_eq!(state_a, state_b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// What lets an arch's assembly serve `mfc0` from the `Vcpu`'s fields: for every register
    /// `plain_register_offsets` names, the word at that offset is what `mfc0` reads through the
    /// general path, in any guest state.
    #[test]
    fn plain_register_offsets_read_what_mfc0_reads(
        setup in proptest::collection::vec((setup_write(), any::<bool>()), 0..12),
        status in final_status(),
        now in any::<u32>(),
    ) {
        let Some(g) = shaped_guest(&setup, None, status, now) else { return Ok(()) };
        let table = vcpu_mips::Vcpu::plain_register_offsets();
        for (slot, &offset) in table.iter().enumerate() {
            if offset == 0 {
                continue;
            }
            let at = g.vcpu.plain_register_at(offset);
            prop_assert!(at.is_some(), "offset {offset} of slot {slot} is no plain field");
            // The general path's mfc0 of the same register, from kernel mode.
            let mut h = g.clone_guest();
            if to_kernel(&mut h).is_none() {
                return Ok(());
            }
            // (Entering kernel mode by a reflected syscall changes Status, EPC, Cause: compare
            // against the state after it.)
            let expected_at = h.vcpu.plain_register_at(offset);
            let value = h.read_cp0(slot as u32 >> 3, slot as u32 & 7);
            prop_assert_eq!(Some(value), expected_at, "mfc0 ${}, {}", slot >> 3, slot & 7);
        }
    }
}

#[test]
fn plain_register_table_is_the_side_effect_free_fields() {
    let table = vcpu_mips::Vcpu::plain_register_offsets();
    let named: Vec<usize> = (0..table.len()).filter(|&s| table[s] != 0).collect();
    let regs: Vec<(usize, usize)> = named.iter().map(|&s| (s >> 3, s & 7)).collect();
    assert_eq!(
        regs,
        [
            (0, 0),
            (2, 0),
            (3, 0),
            (4, 0),
            (5, 0),
            (7, 0),
            (8, 0),
            (10, 0),
            (12, 0),
            (14, 0),
            (28, 0),
            (28, 1),
            (30, 0),
            (31, 0)
        ]
    );
    let mut offsets: Vec<u16> = named.iter().map(|&s| table[s]).collect();
    offsets.sort();
    offsets.dedup();
    assert_eq!(offsets.len(), named.len(), "distinct fields");
    assert!(offsets
        .iter()
        .all(|&o| o % 4 == 0 && usize::from(o) + 4 <= core::mem::size_of::<vcpu_mips::Vcpu>()));
    assert_eq!(
        usize::from(table[12 << 3]),
        vcpu_mips::Vcpu::STATUS_OFFSET,
        "Status"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// What lets an arch's assembly serve `mtc0` on the `Vcpu`'s fields: for every register
    /// `plain_register_writes` names, `(field & keep) | (value & mask)` stored in the field
    /// (and the PC advanced) is the state the general path's `mtc0` reaches, in any guest state.
    #[test]
    fn plain_register_writes_do_what_mtc0_does(
        setup in proptest::collection::vec((setup_write(), any::<bool>()), 0..12),
        status in final_status(),
        now in any::<u32>(),
        value in any::<u32>(),
    ) {
        let Some(mut g) = shaped_guest(&setup, None, status, now) else { return Ok(()) };
        if to_kernel(&mut g).is_none() {
            return Ok(());
        }
        g.enter();
        let table = vcpu_mips::Vcpu::plain_register_writes();
        for (slot, w) in table.iter().enumerate() {
            if w.offset == 0 {
                continue;
            }
            let mut general = g.clone_guest();
            general.write_cp0(slot as u32 >> 3, slot as u32 & 7, value);
            general.enter();
            let mut plain = g.clone_guest();
            let old = plain.vcpu.plain_register_at(w.offset);
            prop_assert!(old.is_some(), "offset {} of slot {slot} is no plain field", w.offset);
            prop_assert!(plain.vcpu.set_plain_register_at(w.offset, (old.unwrap() & w.keep) | (value & w.mask)));
            plain.regs.gpr[8] = value;
            plain.regs.pc += 4;
            plain.enter();
            prop_assert_eq!(state(&plain), state(&general), "mtc0 ${}, {}", slot >> 3, slot & 7);
        }
    }
}

#[test]
fn plain_writes_are_side_effect_free_registers() {
    let table = vcpu_mips::Vcpu::plain_register_writes();
    let regs: Vec<(usize, usize)> = (0..table.len())
        .filter(|&s| table[s].offset != 0)
        .map(|s| (s >> 3, s & 7))
        .collect();
    assert_eq!(
        regs,
        [
            (2, 0),
            (3, 0),
            (4, 0),
            (5, 0),
            (14, 0),
            (28, 0),
            (28, 1),
            (30, 0),
            (31, 0)
        ]
    );
    assert_eq!(core::mem::size_of::<vcpu_mips::PlainWrite>(), 12);
    let reads = vcpu_mips::Vcpu::plain_register_offsets();
    for (slot, w) in table.iter().enumerate() {
        if w.offset != 0 {
            assert_eq!(w.offset, reads[slot], "written where it is read");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// What lets an arch's assembly complete a Status write, `di` or `ei` without
    /// `prepare_entry`: whenever `status_write_is_plain` says so, entering after the general
    /// path's write delivers nothing and keeps the real mode and host ASID.
    #[test]
    fn plain_status_writes_need_no_entry(
        setup in proptest::collection::vec((setup_write(), any::<bool>()), 0..12),
        status in final_status(),
        now in any::<u32>(),
        value in any::<u32>(),
        op in 0u32..3,
        timer in prop::option::of(1u32..100_000),
        later in 0u32..100_000,
    ) {
        let Some(mut g) = shaped_guest(&setup, timer, status, now) else { return Ok(()) };
        // Time passes and is evaluated (the timer may have raised TI), then stands still: the
        // property is about the state as last evaluated.
        g.now = g.now.wrapping_add(later);
        if to_kernel(&mut g).is_none() {
            return Ok(());
        }
        g.enter();
        // Kernel mode with varied interrupt state: IE, IM and pending lines as the setup made.
        let w = vcpu_mips::cp0::STATUS_WRITABLE;
        let old = g.vcpu.cp0().status;
        let new = match op {
            0 => (old & !w) | (value & w),
            1 => old & !1,
            _ => old | 1,
        };
        if !g.vcpu.status_write_is_plain(old, new) {
            return Ok(());
        }
        let before = {
            let mut probe = g.clone_guest();
            probe.vcpu.prepare_entry(&mut probe.regs, probe.now, &mut probe.alloc).expect("entry")
        };
        let mut h = g.clone_guest();
        h.write_cp0(12, 0, new);
        prop_assert_eq!(h.vcpu.cp0().status, new);
        let e = h.vcpu.prepare_entry(&mut h.regs, h.now, &mut h.alloc).expect("entry");
        prop_assert!(!e.interrupt_delivered || before.interrupt_delivered, "an interrupt became deliverable");
        prop_assert_eq!((e.mode, e.host_asid), (before.mode, before.host_asid));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// What lets an arch's assembly complete an `eret` itself: whenever `eret_is_plain` says
    /// so, the general path's `eret` and `prepare_entry` go to EPC, clear only EXL, deliver
    /// nothing, keep the host ASID, and choose user mode exactly when the new Status has KSU's
    /// high bit set and EXL = ERL = 0.
    #[test]
    fn plain_erets_need_only_the_real_mode(
        setup in proptest::collection::vec((setup_write(), any::<bool>()), 0..12),
        status in final_status(),
        now in any::<u32>(),
        timer in prop::option::of(1u32..100_000),
        later in 0u32..100_000,
        value in any::<u32>(),
    ) {
        let Some(mut g) = shaped_guest(&setup, timer, status, now) else { return Ok(()) };
        g.now = g.now.wrapping_add(later);
        if to_kernel(&mut g).is_none() {
            return Ok(());
        }
        // Any Status the kernel may set before its eret (EXL kept: the kernel stays in kernel
        // mode), then the state as evaluated now.
        let w = vcpu_mips::cp0::STATUS_WRITABLE;
        let old = g.vcpu.cp0().status;
        g.write_cp0(12, 0, (old & !w) | (value & w) | 2);
        g.enter();
        if !g.vcpu.eret_is_plain() {
            return Ok(());
        }
        let before = {
            let mut probe = g.clone_guest();
            probe.vcpu.prepare_entry(&mut probe.regs, probe.now, &mut probe.alloc).expect("entry")
        };
        let s = g.vcpu.cp0().status;
        let epc = g.vcpu.cp0().epc;
        let out = g.exec(ERET);
        prop_assert_eq!(out, Outcome::Resume);
        prop_assert_eq!(g.regs.pc, epc);
        prop_assert_eq!(g.vcpu.cp0().status, s & !2);
        let e = g.vcpu.prepare_entry(&mut g.regs, g.now, &mut g.alloc).expect("entry");
        prop_assert!(!e.interrupt_delivered, "an interrupt became deliverable");
        prop_assert_eq!(e.host_asid, before.host_asid);
        let user = s & !2 & 0x16 == 0x10;
        prop_assert_eq!(e.mode == vcpu_mips::RealMode::User, user);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// What lets an arch's assembly read Cause from the fields: at the time the timer was last
    /// evaluated, `cause_as_evaluated` is what the general path's `mfc0 Cause` reads.
    #[test]
    fn cause_as_evaluated_is_what_mfc0_reads(
        setup in proptest::collection::vec((setup_write(), any::<bool>()), 0..12),
        status in final_status(),
        now in any::<u32>(),
        timer in prop::option::of(1u32..100_000),
        later in 0u32..100_000,
        stopped in any::<bool>(),
    ) {
        let Some(mut g) = shaped_guest(&setup, timer, status, now) else { return Ok(()) };
        g.now = g.now.wrapping_add(later);
        if to_kernel(&mut g).is_none() {
            return Ok(());
        }
        if stopped {
            let c = g.read_cp0(13, 0);
            g.write_cp0(13, 0, c | vcpu_mips::cp0::CAUSE_DC);
        }
        g.enter();
        let composed = g.vcpu.cause_as_evaluated();
        prop_assert_eq!(g.read_cp0(13, 0), composed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// What lets an arch's assembly reflect a `syscall` itself: whenever `syscall_vector` gives
    /// a vector, the general path's reflection and `prepare_entry` reach exactly the state the
    /// documented field updates give, at that vector, in supervisor mode, under the same host
    /// ASID, delivering nothing.
    #[test]
    fn plain_syscall_reflection_is_the_general_one(
        setup in proptest::collection::vec((setup_write(), any::<bool>()), 0..12),
        status in final_status(),
        now in any::<u32>(),
        ebase in prop::option::of(prop_oneof![any::<u32>(), 0u32..SIZE, (SIZE - 0x2000)..(SIZE + 0x2000)]),
        bev in prop::sample::select(vec![false, false, false, true]),
    ) {
        let Some(mut g) = shaped_guest(&setup, None, status, now) else { return Ok(()) };
        if ebase.is_some() || bev {
            // EBase anywhere (inside or outside the RAM window), BEV, written from kernel mode.
            if to_kernel(&mut g).is_none() {
                return Ok(());
            }
            if let Some(e) = ebase {
                g.write_cp0(15, 1, e);
            }
            if bev {
                let s = g.vcpu.cp0().status;
                g.write_cp0(12, 0, s | 1 << 22);
            }
            g.enter();
        }
        let Some(vector) = g.vcpu.syscall_vector() else { return Ok(()) };
        let before = {
            let mut probe = g.clone_guest();
            probe.vcpu.prepare_entry(&mut probe.regs, probe.now, &mut probe.alloc).expect("entry")
        };
        let (s, c, pc) = (g.vcpu.cp0().status, g.vcpu.cp0().cause, g.regs.pc);
        let out = g.trap(8 << 2, 0);
        prop_assert!(matches!(out, Outcome::Reflected { .. }), "{:?}", out);
        let e = g.vcpu.prepare_entry(&mut g.regs, g.now, &mut g.alloc).expect("entry");
        prop_assert_eq!(g.regs.pc, vector);
        prop_assert!(!e.interrupt_delivered);
        prop_assert_eq!(e.mode, vcpu_mips::RealMode::Supervisor);
        prop_assert_eq!(e.host_asid, before.host_asid);
        prop_assert_eq!(g.vcpu.cp0().status, s | 2);
        let exl_was_set = s & 2 != 0;
        let bd_cleared = if exl_was_set { c } else { c & !(1 << 31) };
        prop_assert_eq!(g.vcpu.cp0().cause, (bd_cleared & !0x3000_007C) | (8 << 2));
        if !exl_was_set {
            prop_assert_eq!(g.vcpu.cp0().epc, pc);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// What lets an arch skip `prepare_entry` after a reflected exception: the guest is at its
    /// vector with EXL set, so entering delivers nothing, keeps the host ASID and runs it in
    /// supervisor mode.
    #[test]
    fn a_reflection_needs_only_supervisor_mode(
        setup in proptest::collection::vec((setup_write(), any::<bool>()), 0..12),
        status in final_status(),
        exc_code in 0u32..32,
        ce in 0u32..4,
        in_slot in any::<bool>(),
        bad_vaddr in any::<u32>(),
        now in any::<u32>(),
        timer in prop::option::of(1u32..100_000),
    ) {
        let cause = exc_code << 2 | ce << 28 | u32::from(in_slot) << 31;
        prop_assume!(!vcpu_mips::trap_uses_gprs(cause) && exc_code != 0);
        let Some(mut g) = shaped_guest(&setup, timer, status, now) else { return Ok(()) };
        g.regs.branch_delay = in_slot;
        let before = {
            let mut probe = g.clone_guest();
            probe.vcpu.prepare_entry(&mut probe.regs, probe.now, &mut probe.alloc).expect("entry")
        };
        let out = g.trap(cause, bad_vaddr);
        if !matches!(out, Outcome::Reflected { .. }) {
            return Ok(());
        }
        let pc = g.regs.pc;
        let e = g.vcpu.prepare_entry(&mut g.regs, g.now, &mut g.alloc).expect("entry");
        prop_assert!(!e.interrupt_delivered);
        prop_assert_eq!(e.mode, vcpu_mips::RealMode::Supervisor);
        prop_assert_eq!(e.host_asid, before.host_asid);
        prop_assert_eq!(g.regs.pc, pc);
    }
}
