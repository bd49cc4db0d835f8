//! The incremental RIB against the full-recomputation RIB: the same random changes are given
//! to both (interfaces up, down, point-to-point or forgotten; addresses; static and dynamic
//! routes with address, interface, `address%interface` and ECMP gateways, all route types,
//! scopes and target-scopes that make routes resolve recursively and through each other;
//! tables; rules; batches, some refused at their end; changes refused for limits or a full
//! FIB), and after every step they must show the same thing: every route with its flags,
//! contribution and gateway states, the FIB contents read back from the FIBs, the number of
//! next hops, local addresses, tables, rules, addresses and the decisions for probe packets.
//! The incremental RIB's own bookkeeping is checked too (`Rib::check_consistency`).

use super::ops::{address, Ids, Op, Outcome, Subject};
use crate::fib::FibConfig;
use crate::rib::reference::ReferenceRib;
use crate::rib::snapshot::Snapshot;
use crate::rib::types::*;
use crate::rib::{Rib, RibConfig};
use alloc::vec::Vec;

/// Reads fuzzer bytes as a sequence of RIB changes (the first byte picks FIBs or none, a
/// small or large FIB arena, whether to start with interfaces and addresses, and whether
/// routes mostly resolve through each other; then 6 bytes per change, see `ops`) and checks the incremental
/// RIB against the reference after each. Panics on any difference.
pub fn rib_oracle_sequence(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // A full FIB is outside the comparison: the reference refuses the change, this RIB keeps
    // the route waiting (`rib_change_sequence` checks that case). Bit 1 picks a small arena
    // that still holds every table of `max_routes` routes.
    let arena = if mode & 2 != 0 { 4096 } else { 1 << 16 };
    let limits = RibConfig {
        max_routes: 24,
        max_addresses: 6,
        max_rules: 6,
        max_tables: 4,
        fib_v4: FibConfig::with_arena_bytes(arena),
        fib_v6: FibConfig::with_arena_bytes(arena),
        ecmp: EcmpMode::PerFlowHash,
        fibs: mode & 1 == 0,
    };
    let mut rib = Rib::new(limits);
    let mut reference = ReferenceRib::new(limits);
    let mut ids = Ids {
        tables: alloc::vec![TableId::MAIN],
        loops: mode & 8 != 0,
        ..Ids::default()
    };
    if mode & 4 == 0 {
        for op in preamble() {
            let got = op.apply(&mut rib, &ids);
            assert_eq!(got, op.apply(&mut reference, &ids), "{op:?}");
            ids.record(got, &rib.snapshot());
        }
    }
    let steps: Vec<&[u8]> = rest.chunks_exact(6).collect();
    let mut i = 0;
    while i < steps.len() {
        let step = steps[i];
        let op = Op::read(&ids, step);
        i += 1;
        if let Op::Batch(n, fail) = op {
            let n = usize::from(n).min(steps.len() - i);
            let batch = &steps[i..i + n];
            i += n;
            ids = run_batch(&mut rib, &mut reference, ids, batch, fail);
        } else {
            let got = op.apply(&mut rib, &ids);
            let want = op.apply(&mut reference, &ids);
            assert_eq!(got, want, "{op:?}");
            ids.record(got, &rib.snapshot());
        }
        compare(&rib, &reference, &ids, step);
    }
}

/// A start with every interface up and an address on each, so that many gateways resolve.
fn preamble() -> Vec<Op> {
    let up = InterfaceState {
        running: true,
        point_to_point: false,
    };
    let mut ops: Vec<Op> = (0..4).map(|i| Op::Interface(IfId(i), up)).collect();
    for (a, len, i) in [
        ("10.0.0.1", 16, 0),
        ("10.1.1.1", 24, 1),
        ("2001:db8::1", 32, 2),
        ("fe80::1", 64, 3),
    ] {
        let a = a.parse().unwrap_or_else(|_| unreachable!());
        ops.push(Op::AddAddress(AddressSpec::new(a, len, IfId(i))));
    }
    ops
}

/// Runs `batch` as one batch on both RIBs (refused at the end if `fail`); returns the ids
/// after it.
fn run_batch(
    rib: &mut Rib,
    reference: &mut ReferenceRib,
    ids: Ids,
    batch: &[&[u8]],
    fail: bool,
) -> Ids {
    let (ours, after) = one_batch(rib, ids.clone(), batch, fail);
    let (theirs, _) = one_batch(reference, ids, batch, fail);
    assert_eq!(ours.outcomes, theirs.outcomes, "changes inside a batch");
    // Inside a batch the next-hop count is not compared: a table removed in the batch keeps
    // its FIB (and the next hops it holds) until the commit, the reference drops it at once.
    let inside = |s: &Snapshot| Snapshot {
        next_hops: 0,
        ..s.clone()
    };
    assert_same(
        &inside(&ours.inside),
        &inside(&theirs.inside),
        "inside a batch",
    );
    assert_eq!(ours.decisions, theirs.decisions, "decisions inside a batch");
    assert_eq!(ours.result, theirs.result, "batch result");
    after
}

struct BatchRun {
    outcomes: Vec<Outcome>,
    inside: Snapshot,
    decisions: Vec<Decision>,
    result: Result<(), RibError>,
}

fn one_batch<S: Subject>(
    rib: &mut S,
    mut ids: Ids,
    batch: &[&[u8]],
    fail: bool,
) -> (BatchRun, Ids) {
    let mut outcomes = Vec::new();
    let mut inside = None;
    let mut decisions = Vec::new();
    let result = rib.batch_with(&mut |r: &mut S| {
        for step in batch {
            let op = Op::read(&ids, step);
            let out = op.apply(r, &ids);
            if let Outcome::Address(_) = out {
                ids.record(out, &r.snapshot());
            } else {
                ids.record(out, &Snapshot::empty());
            }
            outcomes.push(out);
        }
        inside = Some(r.snapshot());
        decisions = probes(&ids, batch.last().copied().unwrap_or(&[0; 6]))
            .iter()
            .map(|p| r.decide(p))
            .collect();
        if fail {
            // A change the batch's author gives up on: the whole batch goes.
            Err(r.remove_route(RouteId(999_999)).unwrap_err())
        } else {
            Ok(())
        }
    });
    let inside = inside.unwrap_or_else(|| rib.snapshot());
    let run = BatchRun {
        outcomes,
        inside,
        decisions,
        result,
    };
    (run, ids)
}

impl Snapshot {
    fn empty() -> Snapshot {
        Snapshot {
            routes: Vec::new(),
            fib: Vec::new(),
            next_hops: 0,
            local: Vec::new(),
            tables: Vec::new(),
            rules: Vec::new(),
            addresses: Vec::new(),
            interfaces: Vec::new(),
        }
    }
}

/// Packets to decide: addresses of the crowded space, with and without an incoming
/// interface and a routing mark.
fn probes(ids: &Ids, b: &[u8]) -> Vec<Packet> {
    let mut out = Vec::new();
    for k in 0..4u8 {
        for six in [false, true] {
            let dst = address(
                six,
                b[1].wrapping_add(k),
                b[2] >> k,
                b[3].wrapping_mul(k + 1),
            );
            let src = address(six, b[4], k, b[5]);
            out.push(Packet {
                src,
                dst,
                in_interface: (k & 1 != 0).then_some(IfId(u16::from(b[5] % 4))),
                routing_mark: (k & 2 != 0)
                    .then(|| ids.tables[usize::from(b[4]) % ids.tables.len()]),
            });
        }
    }
    out
}

fn compare(rib: &Rib, reference: &ReferenceRib, ids: &Ids, step: &[u8]) {
    rib.check_consistency();
    assert_same(&rib.snapshot(), &reference.snapshot(), "after a change");
    for p in probes(ids, step) {
        assert_eq!(rib.decide(&p), reference.decide(&p), "{p:?}");
    }
    for &id in &ids.routes {
        assert_eq!(rib.route_spec(id), reference.route_spec(id), "{id:?}");
        assert_eq!(
            rib.route(id).map(|v| v.id()),
            Some(id).filter(|_| reference.has_route(id))
        );
    }
}

fn assert_same(ours: &Snapshot, theirs: &Snapshot, when: &str) {
    if ours == theirs {
        return;
    }
    for (a, b) in ours.routes.iter().zip(&theirs.routes) {
        assert_eq!(a, b, "{when}: first route that differs");
    }
    assert_eq!(
        ours.routes.len(),
        theirs.routes.len(),
        "{when}: route count"
    );
    assert_eq!(ours.fib, theirs.fib, "{when}: FIB contents");
    assert_eq!(ours, theirs, "{when}");
}
