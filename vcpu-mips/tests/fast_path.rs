//! The fast path against the general path: for any privileged instruction in any guest state,
//! `Vcpu::fast_trap` either declines and changes nothing, or ends in exactly the state the
//! general path (`handle_trap` then `prepare_entry`) reaches, asks the arch for the same host
//! work, and only skips `prepare_entry` or the timer when they would change nothing.

mod common;
use common::shape::*;
use common::*;
use proptest::prelude::*;
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
            // Entering may halt the guest after all: an interrupt that was deliverable before
            // now goes to a vector the instruction moved outside its RAM (`mtc0 EBase` with the
            // timer due). The general path must then halt it the same way.
            let e = match e {
                Ok(e) => e,
                Err(halt) => {
                    prop_assert_eq!(general_entry, Err(halt), "entry after a fast trap that needs none");
                    return Ok(());
                }
            };
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
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    /// The rewritten path against the general path: for any `mfc0` in any guest state (delay
    /// slots and timers firing included), either `rewrite_site` declines, or the `lw` it puts
    /// in place reads from the commpage (filled at the last entry, and again at the host timer
    /// interrupt programmed for the guest's Compare) exactly what the general path's `mfc0`
    /// reads, and the guest ends in the general path's state.
    #[test]
    fn rewritten_mfc0_matches_the_general_path(
        setup in proptest::collection::vec((setup_write(), any::<bool>()), 0..12),
        status in final_status(),
        rt in 0u32..32,
        reg in cp0_reg(),
        gprs in proptest::collection::vec(any::<u32>(), 32),
        in_slot in prop::sample::select(vec![false, false, false, true]),
        now in any::<u32>(),
        later in 0u32..100_000,
        timer in prop::option::of(1u32..100_000),
    ) {
        let word = mfc0(rt, reg.0, reg.1);
        let Some(mut g) = shaped_guest(&setup, timer, status, now) else { return Ok(()) };
        // The arch fills the page on the way into the guest (shaped_guest entered it at `now`).
        let mut page = vcpu_mips::CommPage::new();
        g.vcpu.fill_commpage(&mut page);
        let deadline = g.vcpu.timer_deadline(g.now);
        for (r, v) in gprs.iter().enumerate().skip(1) {
            g.regs.gpr[r] = *v;
        }
        g.regs.branch_delay = in_slot;
        let pc = g.regs.pc;
        if in_slot {
            g.poke(pc, 0x1000_0010); // beq $0, $0, +0x44
            g.poke(pc + 4, word);
        } else {
            g.poke(pc, word);
        }
        g.now = now.wrapping_add(later);
        if deadline.is_some_and(|d| later >= d) {
            // The host timer interrupt came first: the arch re-entered the guest and refilled.
            let e = g.enter();
            if e.interrupt_delivered {
                return Ok(()); // the guest is at its vector; the instruction did not run
            }
            g.vcpu.fill_commpage(&mut page);
        }

        let mut general = g.clone_guest();
        let outcome = general.trap(CPU, 0);

        let Some(rewrite) = g.vcpu.rewrite_site(&g.regs, word, &g.mem) else {
            // Declined: only outside virtual kernel mode (or with ERL), or for registers that
            // are not rewritten.
            prop_assert!(
                !g.vcpu.commpage_visible() || vcpu_mips::dyntrans::rewritten_word(word).is_none(),
                "declined a rewritable mfc0"
            );
            return Ok(());
        };
        prop_assert_eq!(outcome, Outcome::Resume, "a rewritten mfc0 must be one the general path serves");
        // The rewrite names the trapping word where the guest fetches it.
        let va = if in_slot { pc + 4 } else { pc };
        prop_assert_eq!(rewrite.va, va);
        prop_assert_eq!(rewrite.at.get(), u64::from(va - 0xC000_0000 + BASE));
        prop_assert_eq!(g.mem.0.get(&(va - 0xC000_0000 + BASE)).copied(), Some(word));
        // Execute the lw natively: rt = the commpage word at offset($zero).
        prop_assert_eq!(rewrite.word >> 26, 0x23, "lw");
        prop_assert_eq!(rewrite.word >> 21 & 31, 0, "base $zero");
        prop_assert_eq!(rewrite.word >> 16 & 31, rt);
        let offset = rewrite.word & 0xFFFF;
        prop_assert!(offset < 0x1000, "inside the commpage at guest address 0");
        let loaded = page.load(offset).expect("aligned word in the page");
        let mut native = g.clone_guest();
        if rt != 0 {
            native.regs.gpr[rt as usize] = loaded;
        }
        // The branch (or the next instruction) is the hardware's: take the general path's PC.
        native.regs.pc = general.regs.pc;
        native.regs.branch_delay = false;
        prop_assert_eq!(native.regs, general.regs, "the load read {:#x}", loaded);
        // Nothing else differs once both are entered (the general path evaluated the timer at
        // the mfc0; the next entry does it for the native path).
        let e_native = native.vcpu.prepare_entry(&mut native.regs, native.now, &mut native.alloc);
        let e_general = general.vcpu.prepare_entry(&mut general.regs, general.now, &mut general.alloc);
        prop_assert_eq!(e_native, e_general);
        prop_assert_eq!(state(&native), state(&general));
    }
}
