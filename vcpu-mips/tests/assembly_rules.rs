//! The assembly path's rules (`vcpu_mips::plain`) against the general path: for random guest
//! states, what an arch's assembly does for each trap it may keep (`mfc0`/`mtc0` of plain
//! registers, Cause, Status writes, `di`/`ei`, `eret`, a `syscall`'s reflection) is what
//! `handle_trap` and `prepare_entry` do, and after any reflection only the real mode changes.

mod common;
use common::shape::*;
use common::*;
use proptest::prelude::*;
use vcpu_mips::Outcome;

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
    /// nothing, take the host ASID of the new mode as published before (kernel-mode when the
    /// new KSU is 0, else user-mode), and choose user mode exactly when the new Status has
    /// KSU's high bit set and EXL = ERL = 0.
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
        // The host ASID of the new mode, as published before the eret.
        let expected = if s & 0x18 == 0 { before.kernel_asid } else { before.user_asid };
        prop_assert_eq!(before.host_asid, before.kernel_asid);
        prop_assert_eq!(e.host_asid, expected);
        prop_assert_eq!((e.kernel_asid, e.user_asid), (before.kernel_asid, before.user_asid));
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
    /// documented field updates give, at that vector, in supervisor mode, under the kernel-mode
    /// host ASID published before (the same one with ERL set), delivering nothing.
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
        let expected = if s & 4 != 0 { before.host_asid } else { before.kernel_asid };
        prop_assert_eq!(e.host_asid, expected);
        prop_assert_eq!((e.kernel_asid, e.user_asid), (before.kernel_asid, before.user_asid));
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
    /// vector with EXL set, so entering delivers nothing, runs it in supervisor mode under the
    /// kernel-mode host ASID published before (the same one with ERL set).
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
        let erl = g.vcpu.cp0().status & 4 != 0;
        let e = g.vcpu.prepare_entry(&mut g.regs, g.now, &mut g.alloc).expect("entry");
        prop_assert!(!e.interrupt_delivered);
        prop_assert_eq!(e.mode, vcpu_mips::RealMode::Supervisor);
        let expected = if erl { before.host_asid } else { before.kernel_asid };
        prop_assert_eq!(e.host_asid, expected);
        prop_assert_eq!((e.kernel_asid, e.user_asid), (before.kernel_asid, before.user_asid));
        prop_assert_eq!(g.regs.pc, pc);
    }
}
