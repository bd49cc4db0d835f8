//! The fast path (`Vcpu::fast_trap`, `Vcpu::fast_hypercall`) against the general path
//! (`handle_trap` then `prepare_entry`), for random instructions in random guest states: it
//! either declines and changes nothing, or reaches exactly the general path's state and host
//! work, touching only the registers it was given; when it says `Done` (no `prepare_entry`),
//! `prepare_entry` would have changed nothing.

mod common;

use common::shape::*;
use common::*;
use vcpu_e500::exception::Interrupt;
use vcpu_e500::spr::{esr, num};
use vcpu_e500::{Fast, Outcome, Trap};

fn state(v: &vcpu_e500::Vcpu) -> String {
    format!("{v:?}")
}

#[test]
fn fast_path_matches_the_general_path() {
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    let mut counts = [0usize; 3]; // declined, done, reenter/other
    for run in 0..40 {
        let mut g = Guest::standard();
        g.install_vectors();
        for _ in 0..400 {
            if rng.below(8) == 0 {
                g.tb.now += u64::from(rng.below(2000));
                g.tb.enter();
            }
            let word = instruction(&mut rng, &mut g);
            let Some(hpa) = fetchable(&mut rng, &mut g) else {
                continue;
            };
            g.tb.mem.words.insert(hpa.get(), word);
            let before = g.tb.vcpu.clone();
            let regs = g.tb.regs;
            let entered = g.tb.entry.unwrap();
            // The fast path, with the registers outside its mask scrambled.
            let usable = if rng.below(2) == 0 {
                u32::MAX
            } else {
                rng.u32() | 1
            };
            let mut fast_regs = regs;
            for r in 0..32 {
                if usable & (1 << r) == 0 {
                    fast_regs.gpr[r] = rng.u32();
                }
            }
            let scrambled = fast_regs;
            let mut fast_vcpu = before.clone();
            let fast = fast_vcpu.fast_trap(&mut fast_regs, word, g.tb.now, usable, &g.tb.pids);
            // The general path.
            let trap = Trap {
                vector: Interrupt::Program,
                esr: esr::PPR,
                dear: 0,
                now: g.tb.now,
            };
            let outcome =
                g.tb.vcpu
                    .handle_trap(&mut g.tb.regs, &trap, &g.tb.mem, &g.tb.pids);
            let ctx = format!("run {run}, word {word:#010x}, {fast:?} / {outcome:?}");
            if fast == Fast::Declined {
                counts[0] += 1;
                assert_eq!(state(&fast_vcpu), state(&before), "{ctx}");
                assert_eq!(fast_regs, scrambled, "{ctx}");
            } else {
                assert_eq!(state(&fast_vcpu), state(&g.tb.vcpu), "{ctx}");
                assert_eq!(
                    (fast_regs.pc, fast_regs.cr),
                    (g.tb.regs.pc, g.tb.regs.cr),
                    "{ctx}"
                );
                for r in 0..32 {
                    let expect = if usable & (1 << r) != 0 {
                        g.tb.regs.gpr[r]
                    } else {
                        scrambled.gpr[r]
                    };
                    assert_eq!(fast_regs.gpr[r], expect, "{ctx}: r{r}");
                }
                let same_work = match (fast, outcome) {
                    (Fast::Hypercall(a), Outcome::Hypercall(b)) => a == b,
                    (Fast::InvalidateHost { .. }, Outcome::InvalidateHost) => true,
                    (Fast::Cache(a), Outcome::Cache(b)) => a == b,
                    (Fast::FlushBranchBuffer, Outcome::FlushBranchBuffer) => true,
                    (Fast::Done | Fast::Reenter { .. }, Outcome::Resume) => true,
                    _ => false,
                };
                assert!(same_work, "{ctx}");
                if let Fast::Reenter { timer: true } = fast {
                    let spr = vcpu_e500::decode::spr_field(word);
                    assert!([num::DEC, num::TCR, num::TSR].contains(&spr), "{ctx}");
                }
                let skips_entry =
                    matches!(fast, Fast::Done | Fast::InvalidateHost { reenter: false });
                if skips_entry {
                    counts[1] += 1;
                    let mut v = g.tb.vcpu.clone();
                    let mut r = g.tb.regs;
                    let mut pids = g.tb.pids.clone();
                    let e = v.prepare_entry(&mut r, g.tb.now, &mut pids).unwrap();
                    assert!(!e.interrupt_delivered && !e.flush_host_tlb, "{ctx}");
                    assert_eq!((e.pid0, e.pid1), (entered.pid0, entered.pid1), "{ctx}");
                } else {
                    counts[2] += 1;
                }
            }
            g.tb.apply(&outcome);
            g.tb.enter();
            g.check();
        }
    }
    // The generator reaches every kind of answer.
    assert!(counts.iter().all(|&c| c > 200), "{counts:?}");
}

/// `fetch_address` finds the trapping word where the general path fetches it (the refill cache
/// or the guest's TLB, large pages included), declines exactly where that fetch faults, and
/// what it records in the refill cache keeps the cache's invariants and is found there next.
#[test]
fn fetch_address_is_where_the_guest_fetches() {
    let mut rng = Rng(0xFE7C_4ADD_0BAD_C0DE);
    let (mut recorded, mut declined) = (0, 0);
    for _ in 0..20 {
        let mut g = Guest::standard();
        g.install_vectors();
        for _ in 0..300 {
            if rng.below(8) == 0 {
                g.tb.now += u64::from(rng.below(2000));
                g.tb.enter();
            }
            if g.tb.halted.is_some() || g.tb.entry.is_none() {
                break;
            }
            let word = instruction(&mut rng, &mut g);
            let pc = g.pc();
            let mut v = g.tb.vcpu.clone();
            let cached = v.instruction_address(pc);
            let fetched = v.fetch_address(pc, &g.tb.pids);
            let general = g.tb.access(pc, vcpu_e500::shadow::Access::Fetch);
            match (fetched, &general) {
                (Some(a), Ok(b)) => {
                    assert_eq!(a, *b, "pc {pc:#x}");
                    assert_eq!(v.instruction_address(pc), Some(a), "pc {pc:#x}");
                    v.audit(&g.tb.pids).expect("refill cache invariants");
                    if cached.is_none() {
                        recorded += 1;
                    }
                }
                (None, Err(_)) => declined += 1,
                (f, g) => panic!("pc {pc:#x}: fast fetch {f:?}, general fetch {g:?}"),
            }
            let Ok(hpa) = general else {
                continue;
            };
            g.tb.mem.words.insert(hpa.get(), word);
            g.tb.trap(Interrupt::Program, esr::PPR, 0);
            g.check();
        }
    }
    assert!(recorded > 50 && declined > 0, "{recorded} {declined}");
}
