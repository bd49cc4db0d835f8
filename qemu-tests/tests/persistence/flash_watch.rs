//! Watching the flash image from the host while the box writes it: the timing of appends
//! (when the record's first word, and its trailer, reach the image after Enter), and the
//! moment a given place is programmed (what the power-cut sweep cuts at). Every flash erase or
//! program of QEMU's CFI flash is a write to the image file, so the host sees it at once.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use super::store_image::{read_record, Record};
use super::*;

/// Complete saves timed before the sweep, and no-op commands timed for comparison.
const CALIBRATION_SAVES: usize = 6;
const CALIBRATION_NOOPS: usize = 3;
/// How much flash after the journal's end the calibration watches (more than a record).
const RECORD_WINDOW: usize = 8 << 10;

/// Where each change to the flash was seen during one append, from the moment Enter was typed.
#[derive(Clone, Copy, Debug)]
pub struct SaveTiming {
    pub first_write: Duration,
    pub commit: Duration,
    pub last_write: Duration,
    pub prompt: Duration,
}

/// Poll `len` bytes at `offset` of the image at `path` until `stop`; each change: when, and
/// whether a complete record starts there.
fn watch_record(
    path: PathBuf,
    offset: usize,
    len: usize,
    stop: Arc<AtomicBool>,
    ready: Arc<AtomicBool>,
) -> Vec<(Instant, bool)> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let read = |buf: &mut Vec<u8>| {
        file.read_exact_at(buf, offset as u64)
            .expect("reading the flash image")
    };
    let (mut last, mut now) = (vec![0u8; len], vec![0u8; len]);
    read(&mut last);
    ready.store(true, Ordering::SeqCst);
    let mut changes = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        read(&mut now);
        if now != last {
            changes.push((
                Instant::now(),
                matches!(read_record(&now), Record::Complete { .. }),
            ));
            std::mem::swap(&mut now, &mut last);
        }
        thread::sleep(Duration::from_micros(100));
    }
    changes
}

/// Change the bridges to `priority` with the end of the journal watched (the box is at
/// `prompt`); how long the append took, and its record.
fn timed_save(
    s: &mut Session,
    flash: &FlashImage,
    priority: usize,
    prompt: &str,
) -> (SaveTiming, Vec<u8>) {
    let before = wait_for_idle_compaction(flash);
    let Some((half, newest)) = before.newest().filter(|(_, g)| !g.sealed()) else {
        panic!("the store cannot take a record: {before:?}");
    };
    let (generation, records) = (newest.generation, newest.records.len());
    let offset = REGION_OFFSET + half * HALF_LEN + newest.end;
    let len = RECORD_WINDOW.min(HALF_LEN - newest.end);
    let (stop, ready) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let watcher = {
        let (path, stop, ready) = (flash.path.clone(), stop.clone(), ready.clone());
        thread::spawn(move || watch_record(path, offset, len, stop, ready))
    };
    while !ready.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(1));
    }
    let t0 = type_priority_change(s, priority);
    s.expect(prompt);
    let prompt = t0.elapsed();
    thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::SeqCst);
    let changes = watcher.join().expect("the flash watcher panicked");
    let after = flash.store();
    let Some((_, newest)) = after
        .newest()
        .filter(|_| after.progress() == Some((generation, records + 1)))
    else {
        panic!(
            "the change to priority {} is not one more record: {after:?}\n{}",
            PRIORITIES[priority],
            s.transcript()
        );
    };
    let record = newest.records[records].clone();
    assert!(
        holds_priority(&record, priority),
        "the record of the change to priority {}: {}",
        PRIORITIES[priority],
        String::from_utf8_lossy(&record)
    );
    let since = |at: Instant| at.saturating_duration_since(t0);
    let commit = changes.iter().find(|c| c.1).map(|c| since(c.0));
    match (changes.first(), commit, changes.last()) {
        (Some(first), Some(commit), Some(last)) => (
            SaveTiming {
                first_write: since(first.0),
                commit,
                last_write: since(last.0),
                prompt,
            },
            record,
        ),
        _ => panic!(
            "the append was not seen on the flash: {changes:?}\n{}",
            s.transcript()
        ),
    }
}

pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Wait until the `len` bytes at `offset` of the image are erased and then programmed (not all
/// 0xFF); tell `found` at once.
pub fn watch_programmed(
    path: PathBuf,
    offset: usize,
    len: usize,
    stop: Arc<AtomicBool>,
    found: mpsc::Sender<()>,
) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut bytes = vec![0u8; len];
    let mut erased = false;
    while !stop.load(Ordering::SeqCst) {
        file.read_exact_at(&mut bytes, offset as u64)
            .expect("reading the flash image");
        let blank = bytes.iter().all(|&b| b == 0xFF);
        if erased && !blank {
            let _ = found.send(());
            return;
        }
        erased |= blank;
        thread::yield_now();
    }
}

/// Time appends (the box at `prompt`, its bridges at priority 1); print the figures. Returns
/// the median first write and commit.
pub fn calibrate(s: &mut Session, flash: &FlashImage, prompt: &str) -> (Duration, Duration) {
    let saves: Vec<(SaveTiming, Vec<u8>)> = (0..CALIBRATION_SAVES)
        .map(|i| timed_save(s, flash, i % 2, prompt))
        .collect();
    let unchanged = (CALIBRATION_SAVES - 1) % 2;
    let noops: Vec<Duration> = (0..CALIBRATION_NOOPS)
        .map(|_| {
            let t0 = type_priority_change(s, unchanged);
            s.expect(prompt);
            t0.elapsed()
        })
        .collect();
    let first = median(saves.iter().map(|t| t.0.first_write).collect());
    let commit = median(saves.iter().map(|t| t.0.commit).collect());
    let sizes: Vec<usize> = saves.iter().map(|t| t.1.len()).collect();
    println!(
        "append of a record of {} or {} bytes (the change of {CUSTOMERS} bridges) on qemu-malta, from Enter:",
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0)
    );
    for (t, _) in &saves {
        println!(
            "  first flash write {:7.2} ms, commit {:7.2} ms, last write {:7.2} ms, prompt {:7.2} ms",
            ms(t.first_write),
            ms(t.commit),
            ms(t.last_write),
            ms(t.prompt)
        );
    }
    println!(
        "  median of {CALIBRATION_SAVES}: first write {:.2} ms, commit {:.2} ms (writes last {:.2} ms)",
        ms(first),
        ms(commit),
        ms(commit.saturating_sub(first))
    );
    println!(
        "  prompt after a command that changes nothing (no save): {:.2} ms (median)",
        ms(median(noops))
    );
    (first, commit)
}
