//! Measuring the contenders of one address family: build time and memory one after the other,
//! then lookups in interleaved rounds (each contender measured in every round, best round
//! kept, so a busy machine penalises everyone alike), then announce/withdraw updates, and a
//! check of every contender against the reference before and after the updates.

use crate::contenders::Contender;
use bench_common::{counting, thread_cpu_seconds};
use routing::{Address, ReferenceLpm};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A splitmix64 stream: fixed seeds keep runs comparable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn addr<A: Address>(&mut self) -> A {
        A::from_u128((u128::from(self.next_u64()) << 64) | u128::from(self.next_u64()))
    }
}

/// Inputs shared by every contender of one address family.
pub struct Workload<A: Address> {
    pub entries: Vec<(A, u8, u16)>,
    pub reference: ReferenceLpm<A, u16>,
    pub random: Vec<A>,
    pub repeat: Vec<A>,
    pub probes: Vec<A>,
    pub updates: Vec<usize>,
}

pub const HOT_SET: usize = 1024;
const ROUNDS: u32 = 5;

/// How much of everything a workload holds.
#[derive(Clone, Copy)]
pub struct Sizes {
    pub lookup_stream: usize,
    pub random_probes: usize,
    pub prefix_probes: usize,
    pub update_pairs: usize,
}

impl Sizes {
    /// The benchmark's sizes.
    pub const FULL: Sizes = Sizes {
        lookup_stream: 1 << 21,
        random_probes: 200_000,
        prefix_probes: 50_000,
        update_pairs: 200_000,
    };
}

impl<A: Address> Workload<A> {
    pub fn new(entries: Vec<(A, u8, u16)>, seed: u64, sizes: Sizes) -> Self {
        let mut rng = Rng::new(seed);
        let mut reference = ReferenceLpm::new();
        for &(a, l, h) in &entries {
            reference.insert(a, l, h);
        }
        let random: Vec<A> = (0..sizes.lookup_stream).map(|_| rng.addr()).collect();
        let hot: Vec<A> = (0..HOT_SET).map(|_| rng.addr()).collect();
        let repeat: Vec<A> = (0..sizes.lookup_stream)
            .map(|_| hot[rng.below(HOT_SET)])
            .collect();
        // Probes: uniform addresses, plus the first, last and next-after-last address of
        // random table prefixes (where off-by-one mistakes show).
        let mut probes: Vec<A> = (0..sizes.random_probes).map(|_| rng.addr()).collect();
        if !entries.is_empty() {
            for _ in 0..sizes.prefix_probes {
                let (a, l, _) = entries[rng.below(entries.len())];
                let host = if l >= A::BITS {
                    0
                } else {
                    (u128::MAX >> (128 - u32::from(A::BITS))) >> l
                };
                let first = a.to_u128();
                probes.extend([
                    A::from_u128(first),
                    A::from_u128(first | host),
                    A::from_u128((first | host).wrapping_add(1)),
                ]);
            }
        }
        let updates = if entries.is_empty() {
            Vec::new()
        } else {
            (0..sizes.update_pairs)
                .map(|_| rng.below(entries.len()))
                .collect()
        };
        Workload {
            entries,
            reference,
            random,
            repeat,
            probes,
            updates,
        }
    }
}

/// Figures of one contender.
#[derive(Default)]
pub struct Figures {
    pub name: &'static str,
    pub bytes: usize,
    pub build: Duration,
    pub random_per_sec: f64,
    pub repeat_per_sec: f64,
    pub updates_per_sec: f64,
    pub updates_per_cpu_sec: f64,
    pub update_ops: usize,
    pub mismatches: usize,
    pub checked: usize,
    /// Wrong answers after updates from a contender with a known upstream update defect.
    pub excused: usize,
    pub excuse: Option<&'static str>,
    pub detail: String,
}

/// A built contender, behind a trait object; the per-lookup loops stay monomorphic.
pub trait Subject<A: Address> {
    fn figures(&mut self) -> &mut Figures;
    /// The contender's known upstream update defect, if any.
    fn broken_updates(&self) -> Option<&'static str>;
    fn lookup_slice(&self, addrs: &[A], time: Duration) -> f64;
    fn verify(&mut self, w: &Workload<A>);
    fn update(&mut self, w: &Workload<A>, time: Duration);
}

struct Built<C> {
    contender: C,
    figures: Figures,
}

/// Builds `C` and checks it; `Err` if it cannot be built.
pub fn build<A: Address, C: Contender<A> + 'static>(
    w: &Workload<A>,
) -> Result<Box<dyn Subject<A>>, String> {
    let before = counting::live_bytes();
    let start = Instant::now();
    let contender = C::build(&w.entries)?;
    let build = start.elapsed();
    let bytes = counting::live_bytes().saturating_sub(before);
    let mut b = Built {
        contender,
        figures: Figures {
            name: C::NAME,
            bytes,
            build,
            ..Figures::default()
        },
    };
    b.verify(w);
    Ok(Box::new(b))
}

impl<A: Address, C: Contender<A>> Subject<A> for Built<C> {
    fn figures(&mut self) -> &mut Figures {
        self.figures.detail = self.contender.describe();
        &mut self.figures
    }

    fn broken_updates(&self) -> Option<&'static str> {
        C::BROKEN_UPDATES
    }

    /// Lookups per second over `addrs`, passes repeated for about `time`.
    fn lookup_slice(&self, addrs: &[A], time: Duration) -> f64 {
        let mut acc = 0u64;
        let start = Instant::now();
        let mut done = 0usize;
        while done == 0 || start.elapsed() < time {
            for &a in addrs {
                acc = acc.wrapping_add(self.contender.lookup(black_box(a)).map_or(1, u64::from));
            }
            done += addrs.len();
        }
        black_box(acc);
        done as f64 / start.elapsed().as_secs_f64()
    }

    /// Compares every probe with the reference; prints the first few differences.
    fn verify(&mut self, w: &Workload<A>) {
        let after_updates = self.figures.update_ops > 0;
        let excused = after_updates && C::BROKEN_UPDATES.is_some();
        let label = if excused {
            "WRONG (known upstream defect)"
        } else {
            "MISMATCH"
        };
        let mut bad = 0;
        for &p in &w.probes {
            let want = w.reference.lookup(p).map(|x| x.1);
            let got = self.contender.lookup(p);
            if got != want {
                if bad < 5 {
                    eprintln!(
                        "{label} impl={} addr={:#x} got={got:?} want={want:?}",
                        C::NAME,
                        p.to_u128()
                    );
                }
                bad += 1;
            }
        }
        self.figures.checked += w.probes.len();
        if excused {
            self.figures.excused += bad;
            self.figures.excuse = C::BROKEN_UPDATES;
        } else {
            self.figures.mismatches += bad;
        }
    }

    /// Withdraws a random table prefix and announces it again, pair after pair, until the
    /// pairs run out or `time` is spent (the table is whole again at the end).
    fn update(&mut self, w: &Workload<A>, time: Duration) {
        if w.updates.is_empty() {
            return;
        }
        let start = Instant::now();
        let cpu_start = thread_cpu_seconds();
        let mut ops = 0usize;
        let mut batch = 1usize;
        let mut next = 0usize;
        while next < w.updates.len() {
            let end = (next + batch).min(w.updates.len());
            for &i in &w.updates[next..end] {
                let (a, l, h) = w.entries[i];
                self.contender.withdraw(a, l);
                self.contender.announce(a, l, h);
                ops += 2;
            }
            next = end;
            let spent = start.elapsed();
            if spent >= time {
                break;
            }
            if spent < time / 16 {
                batch *= 2;
            }
        }
        let f = &mut self.figures;
        f.update_ops = ops;
        f.updates_per_sec = ops as f64 / start.elapsed().as_secs_f64();
        f.updates_per_cpu_sec = ops as f64 / (thread_cpu_seconds() - cpu_start).max(1e-9);
    }
}

/// Lookup rates of every subject, interleaved: `ROUNDS` rounds, each measuring every subject
/// on both patterns for `time / ROUNDS`; the best round counts.
pub fn lookups<A: Address>(subjects: &mut [Box<dyn Subject<A>>], w: &Workload<A>, time: Duration) {
    let slice = time / ROUNDS;
    for _ in 0..ROUNDS {
        for s in subjects.iter_mut() {
            let random = s.lookup_slice(&w.random, slice);
            let repeat = s.lookup_slice(&w.repeat, slice);
            let f = s.figures();
            f.random_per_sec = f.random_per_sec.max(random);
            f.repeat_per_sec = f.repeat_per_sec.max(repeat);
        }
    }
}
