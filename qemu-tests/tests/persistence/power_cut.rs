//! Power cuts during saves. A save is the append of one journal record to the newest
//! generation (header, payload, trailer: the trailer is the commit), or, when the journal ends in
//! a torn record, a new generation in the other half (erase the half, program the snapshot, then
//! its header: the commit). The sweep times the appends by watching the flash image, then cuts
//! the power (SIGKILL) before, during and after the flash writes, and at the moment the host sees
//! a record's header programmed; a save after a torn record writes a new generation, and the
//! first of those are cut while their snapshot, or their header, is being programmed. After every
//! cut the box must come up with exactly the old or the new configuration, as the flash says,
//! and say at boot exactly what the flash holds: a torn record, a damaged generation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::SystemTime;

use super::flash_watch::{calibrate, median, ms, watch_programmed};
use super::store_image::{RECORD_HEADER_LEN, SNAPSHOT_HEADER_LEN};
use super::*;

/// The box's identity during the sweep.
const IDENTITY: &str = "cut";
/// The two configurations the cuts move between: the customers' bridges at the default STP
/// priority (A) or at 0x7000 (B). Each cut starts from the configuration the previous one left
/// and changes to the other: its "old" and "new".
const STATES: [&str; 2] = ["A", "B"];
/// The sweep of appends: cuts before the first flash write, spread over the writes, after the
/// commit.
const CUTS_BEFORE: usize = 4;
const CUTS_DURING: usize = 20;
const CUTS_AFTER: usize = 4;
/// Extra cuts the sweep may add when an outcome or a mid-write cut is still missing.
const MAX_EXTRA_CUTS: usize = 16;
/// Cuts triggered by the host seeing the record's header programmed: at least the first number,
/// more (up to the second) until a cut has left a torn record.
const RECORD_CUTS: (usize, usize) = (4, 12);
/// Saves that write a new generation cut while its snapshot is being programmed, then while its
/// header is (in turn); the later ones complete.
const COMPACTION_CUTS: usize = 4;

fn prompt() -> String {
    prompt_of(IDENTITY)
}

/// What the next save writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Save {
    /// A record after the newest generation's journal.
    Append,
    /// A new generation in the other half (the journal ends in a torn record).
    Compaction,
}

/// The flash before a save: the store, the raw region, when the image was last written.
struct Before {
    store: Store,
    region: Vec<u8>,
    written: SystemTime,
    save: Save,
    /// The newest generation's half, its number and how many records it holds.
    half: usize,
    progress: (u32, usize),
}

impl Before {
    fn read(flash: &FlashImage) -> Before {
        wait_for_idle_compaction(flash);
        let written = flash.modified();
        let region = flash.region();
        let store = Store::decode(&region);
        let Some((half, newest)) = store.newest() else {
            panic!("no good generation before a save: {store:?}")
        };
        let save = if newest.sealed() {
            Save::Compaction
        } else {
            Save::Append
        };
        let progress = (newest.generation, newest.records.len());
        Before {
            save,
            half,
            progress,
            region,
            written,
            store,
        }
    }

    /// Whether `after` holds this save (to `state`), complete: one more record, or the next
    /// generation in the other half.
    fn completed(&self, after: &Store, state: usize) -> bool {
        let Some((half, newest)) = after.newest() else {
            return false;
        };
        let (generation, records) = self.progress;
        let saved = match self.save {
            Save::Append
                if half == self.half && after.progress() == Some((generation, records + 1)) =>
            {
                &newest.records[records]
            }
            Save::Compaction
                if half == 1 - self.half
                    && after.progress() == Some((generation.wrapping_add(1), 0)) =>
            {
                &newest.snapshot
            }
            _ => return false,
        };
        holds_priority(saved, state)
    }
}

/// What the flash image showed after a cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Nothing was written yet.
    Before,
    /// Writing had started; the save was not committed.
    During,
    /// The save was committed.
    After,
}

/// When a cut happens.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    /// This long after Enter.
    Delay(Duration),
    /// As soon as the host sees this place being programmed.
    Programmed(Spot),
}

/// A place the host watches to cut the power the moment it is programmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Spot {
    /// The new record's header (the cut lands while the record is being programmed).
    Record,
    /// The new generation's snapshot, after its half was erased.
    Snapshot,
    /// The new generation's header (the commit of a compaction).
    SnapshotHeader,
}

impl Spot {
    /// Offset in the region and length of the bytes to watch.
    fn place(self, before: &Before) -> (usize, usize) {
        let other = (1 - before.half) * HALF_LEN;
        match self {
            Spot::Record => {
                let end = before.store.newest().map_or(0, |(_, g)| g.end);
                (before.half * HALF_LEN + end, RECORD_HEADER_LEN)
            }
            Spot::Snapshot => (other + SNAPSHOT_HEADER_LEN, 8),
            Spot::SnapshotHeader => (other, SNAPSHOT_HEADER_LEN),
        }
    }
}

/// One cut: what was saved, its trigger, the delay asked for and the one measured (Enter to
/// SIGKILL), what the flash showed, what the box came up with and what it said.
#[derive(Clone, Copy, Debug)]
struct Cut {
    save: Save,
    trigger: Trigger,
    asked: Duration,
    actual: Duration,
    stage: Stage,
    new: bool,
    /// The configuration it came up with: index into [`STATES`].
    state: usize,
    /// An append left a torn record.
    torn: bool,
    /// A compaction left its half damaged (not blank, not good).
    damaged_half: bool,
    torn_reported: bool,
    damage_reported: bool,
}

/// Boot, log in, and find which of `exports` the box came up with. Fails the test if none.
fn boot_into(flash: &FlashImage, exports: &[String; 2]) -> (Session, usize, String) {
    let mut s = flash.boot();
    let boot = s.login_as("admin", "", ANY_PROMPT, BOOT_TIMEOUT);
    let identity = login_identity(&boot);
    let export = s.command("/export", &prompt_of(&identity));
    let Some(state) = exports.iter().position(|e| *e == export) else {
        panic!(
            "the box came up with neither configuration A nor B:\n{export}\n----- A -----\n{}\n----- B -----\n{}\n\
             ----- console -----\n{}",
            exports[0],
            exports[1],
            s.transcript()
        );
    };
    assert!(!boot.contains(CORRUPT_STORE), "{boot}");
    (s, state, boot)
}

/// From state `current`, change to the other state and cut the power at `trigger`; boot again
/// and check the box came up with exactly the state the flash says it should, and said what
/// the flash holds.
fn cut_once(
    mut s: Session,
    flash: &FlashImage,
    exports: &[String; 2],
    current: usize,
    before: &Before,
    trigger: Trigger,
) -> (Cut, Session) {
    let target = 1 - current;
    let stop = Arc::new(AtomicBool::new(false));
    let (found_tx, found) = mpsc::channel();
    if let Trigger::Programmed(spot) = trigger {
        let (offset, len) = spot.place(before);
        let (path, stop) = (flash.path.clone(), stop.clone());
        thread::spawn(move || watch_programmed(path, REGION_OFFSET + offset, len, stop, found_tx));
    }
    let t0 = type_priority_change(&mut s, target);
    let asked = match trigger {
        Trigger::Delay(delay) => {
            thread::sleep(delay.saturating_sub(t0.elapsed()));
            delay
        }
        Trigger::Programmed(spot) => {
            // The flash's write buffer programs a record in a few commands: on a loaded host
            // the watcher can miss the moment. Then the cut comes after the save, and the flash
            // decides what the box must come up with, as for any other cut; the sweep's final
            // checks still demand cuts that landed mid-write.
            let seen = found.recv_timeout(Duration::from_secs(2));
            stop.store(true, Ordering::SeqCst);
            if seen.is_err() {
                println!("  {spot:?} not seen being programmed (too quick for the watcher): cut after it");
            }
            t0.elapsed()
        }
    };
    let actual = t0.elapsed();
    s.power_cut();
    drop(s);
    let after_region = flash.region();
    let after = Store::decode(&after_region);
    // A cut can leave the image byte for byte as it was (the same bytes programmed again), so
    // whether anything was written is told by the file's time.
    let written = flash.modified() != before.written;
    // The box first: it must come up with A or B whatever the flash holds.
    let (s, state, boot) = boot_into(flash, exports);
    assert!(
        written || after_region == before.region,
        "the flash image changed without a write"
    );
    let stage = if after.progress() == Some(before.progress) {
        if written {
            Stage::During
        } else {
            Stage::Before
        }
    } else if before.completed(&after, target) {
        Stage::After
    } else {
        panic!(
            "cut {:.2} ms after Enter ({:?} to {}): the flash holds neither the old configuration nor the new one\n\
             before: {:?}\nafter:  {after:?}",
            ms(actual),
            before.save,
            STATES[target],
            before.store
        );
    };
    let expected = if stage == Stage::After {
        target
    } else {
        current
    };
    assert_eq!(
        state,
        expected,
        "cut {:.2} ms after Enter ({:?}, {stage:?} on the flash): came up with {} instead of {}\n{boot}",
        ms(actual),
        before.save,
        STATES[state],
        STATES[expected]
    );
    let Some((_, newest)) = after.newest() else {
        unreachable!("checked above")
    };
    let torn_reported = boot.contains(TORN_RECORD);
    let damage_reported = boot.contains(DAMAGED_COPY);
    assert_eq!(
        torn_reported, newest.torn,
        "torn-record report vs the flash {after:?}:\n{boot}"
    );
    assert_eq!(
        damage_reported,
        after.reports_damaged_copy(),
        "damaged-copy report vs the flash {after:?}:\n{boot}"
    );
    assert_eq!(
        boot.contains(DAMAGED_JOURNAL),
        newest.damaged,
        "damaged-journal report vs the flash {after:?}:\n{boot}"
    );
    let cut = Cut {
        save: before.save,
        trigger,
        asked,
        actual,
        stage,
        new: state == target,
        state,
        torn: before.save == Save::Append && newest.torn,
        damaged_half: before.save == Save::Compaction
            && after.halves[1 - before.half] == Half::Damaged,
        torn_reported,
        damage_reported,
    };
    (cut, s)
}

/// From state `current`, change to the other state and let the new generation be written;
/// how long it took (Enter to the prompt).
fn complete_compaction(
    s: &mut Session,
    flash: &FlashImage,
    before: &Before,
    current: usize,
) -> Duration {
    let t0 = type_priority_change(s, 1 - current);
    s.expect(&prompt());
    let took = t0.elapsed();
    let after = flash.store();
    assert!(
        before.completed(&after, 1 - current),
        "a save after a torn record did not write a new generation in the other half:\nbefore: {:?}\nafter:  {after:?}",
        before.store
    );
    took
}

/// The planned delays: before the first write, over the writes, after the commit.
fn sweep_plan(first: Duration, commit: Duration) -> Vec<Duration> {
    let span = commit.saturating_sub(first);
    let after = span.max(Duration::from_millis(2));
    let before = (0..CUTS_BEFORE).map(|i| first * i as u32 / CUTS_BEFORE as u32);
    let during = (0..CUTS_DURING).map(|i| first + span * i as u32 / (CUTS_DURING as u32 - 1));
    let late = (1..=CUTS_AFTER).map(|i| commit + after * i as u32 / CUTS_AFTER as u32);
    before.chain(during).chain(late).collect()
}

/// An extra delay while the timed cuts of appends lack an outcome (old or new) or a cut during
/// the writes.
fn extra_delay(cuts: &[Cut], extra: usize) -> Option<Duration> {
    if extra >= MAX_EXTRA_CUTS {
        return None;
    }
    let longest = cuts.iter().map(|c| c.asked).max().unwrap_or_default();
    let shortest = cuts.iter().map(|c| c.asked).min().unwrap_or_default();
    if !cuts.iter().any(|c| c.new) {
        return Some(longest * 2 + Duration::from_millis(1));
    }
    if !cuts.iter().any(|c| !c.new) {
        return Some(shortest / 2);
    }
    if cuts.iter().any(|c| c.stage == Stage::During) {
        return None;
    }
    // Between the latest cut that found nothing written and the earliest that found the commit.
    let lo = cuts
        .iter()
        .filter(|c| c.stage == Stage::Before)
        .map(|c| c.actual)
        .max()
        .unwrap_or_default();
    let hi = cuts
        .iter()
        .filter(|c| c.stage == Stage::After)
        .map(|c| c.actual)
        .min()
        .unwrap_or(longest);
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let fraction = (extra as f64 * 0.618_034).fract();
    Some(lo + (hi - lo).mul_f64(fraction))
}

#[test]
fn malta_power_cut_during_save_leaves_old_or_new() {
    let _serial = one_at_a_time();
    let started = Instant::now();
    let flash = FlashImage::erased("power-cut");
    let mut s = flash.boot();
    s.login(BOOT_TIMEOUT);
    configure(
        &mut s,
        &[&format!("/system identity set name={IDENTITY}")],
        &prompt(),
    );
    for line in customer_setup() {
        configure(&mut s, &[&line], &prompt());
    }
    let export_a = s.command("/export", &prompt());
    configure(&mut s, &[&priority_change(1)], &prompt());
    let export_b = s.command("/export", &prompt());
    let exports = [export_a, export_b];
    let (first, commit) = calibrate(&mut s, &flash, &prompt());
    s.power_cut();
    drop(s);

    let (mut s, mut current, _) = boot_into(&flash, &exports);
    let mut cuts: Vec<Cut> = Vec::new();
    let mut compactions = Vec::new();
    let plan = sweep_plan(first, commit);
    let planned = plan.len();
    let mut plan = plan.into_iter();
    let (mut record_cuts, mut compaction_cuts) = (0, 0);
    loop {
        let before = Before::read(&flash);
        let trigger = match before.save {
            Save::Compaction if compaction_cuts < COMPACTION_CUTS => {
                compaction_cuts += 1;
                Trigger::Programmed(if compaction_cuts % 2 == 1 {
                    Spot::Snapshot
                } else {
                    Spot::SnapshotHeader
                })
            }
            Save::Compaction => {
                compactions.push(complete_compaction(&mut s, &flash, &before, current));
                current = 1 - current;
                continue;
            }
            Save::Append => {
                // The planned delays, extra delays while something is missing, then the cuts
                // at the record's header.
                let timed: Vec<Cut> = cuts
                    .iter()
                    .filter(|c| c.save == Save::Append && matches!(c.trigger, Trigger::Delay(_)))
                    .copied()
                    .collect();
                let delay = plan.next().or_else(|| {
                    (record_cuts == 0)
                        .then(|| extra_delay(&timed, timed.len() - planned))
                        .flatten()
                });
                match delay {
                    Some(delay) => Trigger::Delay(delay),
                    None if record_cuts < RECORD_CUTS.0
                        || (record_cuts < RECORD_CUTS.1 && !cuts.iter().any(|c| c.torn)) =>
                    {
                        record_cuts += 1;
                        Trigger::Programmed(Spot::Record)
                    }
                    None => break,
                }
            }
        };
        let (cut, next) = cut_once(s, &flash, &exports, current, &before, trigger);
        let when = match cut.trigger {
            Trigger::Delay(_) => format!("asked {:7.2}", ms(cut.asked)),
            Trigger::Programmed(spot) => format!("{spot:?} seen"),
        };
        println!(
            "  cut {:3}: {:10} {:7.2} ms after Enter ({when}): flash {:6}, came up {}{}{}{}{}",
            cuts.len(),
            format!("{:?}", cut.save),
            ms(cut.actual),
            format!("{:?}", cut.stage),
            if cut.new { "new" } else { "old" },
            if cut.torn { ", record torn" } else { "" },
            if cut.damaged_half {
                ", new generation damaged"
            } else {
                ""
            },
            if cut.torn_reported {
                ", torn record reported"
            } else {
                ""
            },
            if cut.damage_reported {
                ", damaged copy reported"
            } else {
                ""
            }
        );
        cuts.push(cut);
        (s, current) = (next, cut.state);
    }
    drop(s);
    summarize(&cuts, planned, record_cuts, &compactions, started);
}

/// Print the sweep's figures and check it tested what it should.
fn summarize(
    cuts: &[Cut],
    planned: usize,
    record_cuts: usize,
    compactions: &[Duration],
    started: Instant,
) {
    let count = |f: &dyn Fn(&Cut) -> bool| cuts.iter().filter(|c| f(c)).count();
    let appends = count(&|c| c.save == Save::Append);
    let (old, new) = (count(&|c| !c.new), count(&|c| c.new));
    let torn = count(&|c| c.torn);
    let compaction_cuts = count(&|c| c.save == Save::Compaction);
    let compactions_cut_during = count(&|c| c.save == Save::Compaction && c.stage == Stage::During);
    println!(
        "{} cuts: {appends} of appends ({planned} planned delays, {} extra, {record_cuts} at the record's header), \
         {compaction_cuts} of new generations; {old} came up with the old configuration, {new} with the new (A {}, B {}); \
         flash: nothing written {}, writing {} (records torn {torn}, new generations damaged {}), committed {}; \
         torn record reported at {} boots, damaged copy at {}; {} new generations written without a cut{}; \
         {:.1} s in all",
        cuts.len(),
        appends - planned - record_cuts,
        count(&|c| c.state == 0),
        count(&|c| c.state == 1),
        count(&|c| c.stage == Stage::Before),
        count(&|c| c.stage == Stage::During),
        count(&|c| c.damaged_half),
        count(&|c| c.stage == Stage::After),
        count(&|c| c.torn_reported),
        count(&|c| c.damage_reported),
        compactions.len(),
        if compactions.is_empty() {
            String::new()
        } else {
            format!(" (Enter to prompt {:.2} ms, median)", ms(median(compactions.to_vec())))
        },
        started.elapsed().as_secs_f64()
    );
    assert!(
        old > 0 && new > 0,
        "the sweep never produced both outcomes (old {old}, new {new}): it tested nothing"
    );
    assert!(
        count(&|c| c.save == Save::Append && c.stage == Stage::During) > 0,
        "no cut landed while a record was being written"
    );
    assert!(torn > 0, "no cut left a torn record");
    assert!(
        compactions_cut_during > 0,
        "no cut landed while a new generation was being written"
    );
}
