//! Every rule of the assembly path (`plain.rs`) against the general path, in random guest
//! states: the `mfspr`/`mtspr` tables, plain MSR writes, `rfi` and the plain reflections. When
//! a rule says the assembly may act, the general path followed by `prepare_entry` must reach
//! the state the assembly would (fields stored, PC, the real PIDs), with no interrupt delivered
//! and no host flush.

mod common;

use common::shape::*;
use common::*;
use vcpu_e500::exception::Interrupt;
use vcpu_e500::plain::SPR_NUMBERS;
use vcpu_e500::spr::{esr, is_privileged, msr};
use vcpu_e500::sprs::slot;
use vcpu_e500::{Outcome, Trap, Vcpu};

fn state(v: &Vcpu) -> String {
    format!("{v:?}")
}

/// Random guest states in supervisor state with the next instruction fetchable: calls `check`
/// with the guest and where its next instruction lives.
fn states(seed: u64, count: usize, mut check: impl FnMut(&mut Rng, &mut Guest, u64)) {
    let mut rng = Rng(seed);
    let mut g = Guest::standard();
    g.install_vectors();
    let mut checked = 0;
    while checked < count {
        if rng.below(8) == 0 {
            g.tb.now += u64::from(rng.below(2000));
            g.tb.enter();
        }
        let word = instruction(&mut rng, &mut g);
        let Some(hpa) = fetchable(&mut rng, &mut g) else {
            continue;
        };
        if g.msr() & msr::PR == 0 {
            check(&mut rng, &mut g, hpa.get());
            checked += 1;
        }
        g.tb.mem.words.insert(hpa.get(), word);
        g.tb.trap(Interrupt::Program, esr::PPR, 0);
        g.check();
    }
}

/// A copy of the guest and its host.
fn copy(g: &Guest) -> Guest {
    Guest {
        tb: vcpu_e500::testbed::Testbed {
            vcpu: g.tb.vcpu.clone(),
            regs: g.tb.regs,
            host: g.tb.host.clone(),
            pids: g.tb.pids.clone(),
            mem: Ram {
                words: g.tb.mem.words.clone(),
                base: g.tb.mem.base,
                size: g.tb.mem.size,
            },
            now: g.tb.now,
            entry: g.tb.entry,
            halted: None,
        },
    }
}

/// Run `word` at the PC through the general path and `prepare_entry` on a copy.
fn general(g: &Guest, hpa: u64, word: u32) -> (Guest, Outcome) {
    let mut copy = copy(g);
    copy.tb.mem.words.insert(hpa, word);
    let outcome = copy.tb.trap(Interrupt::Program, esr::PPR, 0);
    (copy, outcome)
}

#[test]
fn spr_tables() {
    let reads = Vcpu::plain_read_offsets();
    let writes = Vcpu::plain_writes();
    let plain: Vec<u16> = (0..SPR_NUMBERS as u16)
        .filter(|&n| reads[n as usize] != 0)
        .collect();
    assert!(plain.len() > 60, "{}", plain.len());
    states(0xA11C_E5ED, 300, |rng, g, hpa| {
        let n = rng.pick(&plain);
        assert!(is_privileged(n), "SPR {n}");
        // mfspr: the field as it is.
        let (after, _) = general(g, hpa, mfspr(5, n));
        assert_eq!(
            Some(after.gpr(5)),
            g.tb.vcpu.plain_word_at(reads[usize::from(n)]),
            "mfspr {n}"
        );
        // mtspr: field = value & mask, nothing else.
        let w = writes[usize::from(n)];
        if w.offset != 0 {
            let value = rng.u32();
            g.set_gpr(6, value);
            let (after, outcome) = general(g, hpa, mtspr(n, 6));
            assert_eq!(outcome, Outcome::Resume);
            let mut v = g.tb.vcpu.clone();
            assert!(v.set_plain_word_at(w.offset, value & w.mask));
            assert_eq!(state(&after.tb.vcpu), state(&v), "mtspr {n}");
            assert_eq!(after.pc(), g.pc() + 4);
            assert!(!after.tb.entry.unwrap().interrupt_delivered);
        }
    });
}

#[test]
fn plain_msr_writes() {
    let mut plain = 0;
    states(0xB0BA_CAFE, 600, |rng, g, hpa| {
        let new = if rng.below(2) == 0 {
            g.msr() ^ (rng.u32() & (msr::EE | msr::CE | msr::ME | msr::DE))
        } else {
            msr_value(rng)
        };
        if !g.tb.vcpu.msr_write_is_plain(new) {
            return;
        }
        plain += 1;
        g.set_gpr(7, new);
        let (after, outcome) = general(g, hpa, mtmsr(7));
        assert_eq!(outcome, Outcome::Resume);
        let e = after.tb.entry.unwrap();
        let before = g.tb.entry.unwrap();
        assert!(!e.interrupt_delivered && !e.flush_host_tlb, "{new:#x}");
        assert_eq!((e.pid0, e.pid1), (before.pid0, before.pid1), "{new:#x}");
        assert_eq!(after.msr(), new & msr::IMPLEMENTED);
        assert_eq!(after.pc(), g.pc() + 4);
        // What the arch's plain path does: the store and nothing else.
        let mut v = g.tb.vcpu.clone();
        assert!(v.write_msr_plain(new));
        assert_eq!(state(&after.tb.vcpu), state(&v), "{new:#x}");
    });
    assert!(plain > 100, "{plain}");
}

#[test]
fn plain_rfi() {
    let mut plain = 0;
    states(0xC0FF_EE00, 600, |_, g, hpa| {
        let Some(p) = g.tb.vcpu.rfi_plain(&g.tb.pids) else {
            return;
        };
        plain += 1;
        let (after, outcome) = general(g, hpa, RFI);
        assert_eq!(outcome, Outcome::Resume);
        let e = after.tb.entry.unwrap();
        assert!(!e.interrupt_delivered && !e.flush_host_tlb);
        assert_eq!(
            (after.pc(), after.msr(), [e.pid0, e.pid1]),
            (p.pc, p.msr, p.pids)
        );
        // What the arch's plain path does: the MSR, the PIDs as entered, the PC.
        let mut v = g.tb.vcpu.clone();
        let mut regs = g.tb.regs;
        v.enter_plain(&mut regs, &p);
        assert_eq!(state(&after.tb.vcpu), state(&v));
        assert_eq!(regs, after.tb.regs);
    });
    assert!(plain > 50, "{plain}");
}

#[test]
fn plain_reflections() {
    let mut plain = 0;
    let kinds = [
        Interrupt::SystemCall,
        Interrupt::Program,
        Interrupt::FpUnavailable,
        Interrupt::ApUnavailable,
        Interrupt::SpeUnavailable,
        Interrupt::DataStorage,
        Interrupt::Decrementer,
    ];
    states(0xD15E_A5E5, 600, |rng, g, _| {
        let interrupt = rng.pick(&kinds);
        let Some(p) = g.tb.vcpu.reflection_plain(interrupt, &g.tb.pids) else {
            return;
        };
        plain += 1;
        assert!(!matches!(
            interrupt,
            Interrupt::DataStorage | Interrupt::Decrementer
        ));
        let e = if interrupt == Interrupt::Program {
            esr::PUO
        } else {
            esr::SPV
        };
        let mut copy = copy(g);
        let outcome = copy.tb.vcpu.handle_trap(
            &mut copy.tb.regs,
            &Trap {
                vector: interrupt,
                esr: e,
                dear: 0,
                now: g.tb.now,
            },
            &copy.tb.mem,
            &copy.tb.pids,
        );
        assert!(
            matches!(outcome, Outcome::Reflected { .. }),
            "{interrupt:?}"
        );
        let entry = copy
            .tb
            .vcpu
            .prepare_entry(&mut copy.tb.regs, g.tb.now, &mut copy.tb.pids)
            .unwrap();
        assert!(!entry.interrupt_delivered && !entry.flush_host_tlb);
        assert_eq!((copy.pc(), copy.msr()), (p.pc, p.msr), "{interrupt:?}");
        assert_eq!([entry.pid0, entry.pid1], p.pids);
        assert_eq!(copy.srr(), (g.pc(), g.msr()));
        let expect_esr = if Vcpu::reflection_sets_esr(interrupt) {
            e
        } else {
            g.spr(slot::ESR)
        };
        assert_eq!(copy.spr(slot::ESR), expect_esr, "{interrupt:?}");
    });
    assert!(plain > 50, "{plain}");
}
