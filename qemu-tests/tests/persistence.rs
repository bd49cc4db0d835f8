//! Persistence on qemu-malta: the configuration lives in the last 256 KiB of the 4 MiB CFI
//! flash (`-drive if=pflash`, a raw image file in a temporary directory). It survives
//! `/system reboot`; a power cut (QEMU killed with SIGKILL) at any moment of a save leaves
//! exactly the old or exactly the new configuration; a damaged store is reported at boot and
//! the box still comes up.
//!
//! The tests also read the flash image on the host, decoding the store's format on their own
//! (two halves of 128 KiB, each `"MGC1" | sequence | length | CRC-32(payload) | 0 |
//! CRC-32(header)` then the payload, big-endian): to check what the machine wrote, to tell
//! whether a cut came before, during or after the flash writes, and to damage copies.
//!
//! The tests of this file run one at a time: the power-cut sweep times the flash writes and
//! must not share the two cores with another QEMU. Figures are printed (`-- --nocapture`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use qemu_tests::boards::Board;
use qemu_tests::golden;
use qemu_tests::qemu::{ensure_flash_image, MALTA_FLASH_SIZE};
use qemu_tests::session::{Session, PROMPT};

const BOOT_TIMEOUT: Duration = Duration::from_secs(30);
/// The configuration region (the flash's last 256 KiB) and its two halves.
const REGION_OFFSET: usize = (MALTA_FLASH_SIZE - (256 << 10)) as usize;
const HALF_LEN: usize = 128 << 10;
const HEADER_LEN: usize = 24;
/// The end of the root menu's prompt, whatever the identity.
const ANY_PROMPT: &str = "] > ";
const DAMAGED_COPY: &str = "configuration: ignored a damaged copy";
const CORRUPT_STORE: &str = "configuration: saved configuration is corrupt, starting with the default configuration";

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A malta flash image in a directory of its own, removed when dropped.
struct FlashImage {
    dir: PathBuf,
    path: PathBuf,
}

impl FlashImage {
    /// A new, fully erased image (all 0xFF), as on a new board.
    fn erased(name: &str) -> FlashImage {
        let dir = std::env::temp_dir().join(format!("qemu-tests-persistence-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("flash.img");
        ensure_flash_image(&path, MALTA_FLASH_SIZE).unwrap_or_else(|e| panic!("{e}"));
        FlashImage { dir, path }
    }

    fn boot(&self) -> Session {
        Session::boot_with(Board::QemuMalta, |cfg| cfg.flash = Some(self.path.clone()))
    }

    fn bytes(&self) -> Vec<u8> {
        let bytes = std::fs::read(&self.path).unwrap_or_else(|e| panic!("{}: {e}", self.path.display()));
        assert_eq!(bytes.len() as u64, MALTA_FLASH_SIZE, "QEMU changed the size of {}", self.path.display());
        bytes
    }

    /// The configuration region as it is on disk now.
    fn region(&self) -> Vec<u8> {
        self.bytes().split_off(REGION_OFFSET)
    }

    /// When QEMU last wrote the image (every flash erase/program is a write to the file).
    fn modified(&self) -> std::time::SystemTime {
        let meta = std::fs::metadata(&self.path).unwrap_or_else(|e| panic!("{}: {e}", self.path.display()));
        meta.modified().expect("file modification times")
    }

    /// Invert the byte at `offset` of the configuration region.
    fn flip_region_byte(&self, offset: usize) {
        let mut bytes = self.bytes();
        bytes[REGION_OFFSET + offset] ^= 0xFF;
        std::fs::write(&self.path, bytes).unwrap_or_else(|e| panic!("{}: {e}", self.path.display()));
    }
}

impl Drop for FlashImage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One half of the store, as the host decodes it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Half {
    Blank,
    Damaged,
    Good { sequence: u32, payload: Vec<u8> },
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

fn decode_half(half: &[u8]) -> Half {
    let header = &half[..HEADER_LEN];
    if header.iter().all(|&b| b == 0xFF) {
        return Half::Blank;
    }
    let word = |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    if &header[..4] != b"MGC1" || word(20) != crc32(&header[..20]) {
        return Half::Damaged;
    }
    let length = word(8) as usize;
    if length > HALF_LEN - HEADER_LEN {
        return Half::Damaged;
    }
    let payload = &half[HEADER_LEN..HEADER_LEN + length];
    if crc32(payload) != word(12) {
        return Half::Damaged;
    }
    Half::Good { sequence: word(4), payload: payload.to_vec() }
}

/// Both halves of a configuration region.
#[derive(Clone, Debug)]
struct Store([Half; 2]);

impl Store {
    fn decode(region: &[u8]) -> Store {
        Store([decode_half(&region[..HALF_LEN]), decode_half(&region[HALF_LEN..2 * HALF_LEN])])
    }

    /// The newest good copy: (half, sequence, payload).
    fn newest(&self) -> Option<(usize, u32, &[u8])> {
        let good = |i: usize| match &self.0[i] {
            Half::Good { sequence, payload } => Some((i, *sequence, payload.as_slice())),
            _ => None,
        };
        match (good(0), good(1)) {
            (Some(a), Some(b)) => Some(if (b.1.wrapping_sub(a.1) as i32) > 0 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    fn newest_sequence(&self) -> Option<u32> {
        self.newest().map(|(_, sequence, _)| sequence)
    }

    /// Whether booting should report a damaged copy next to a good one.
    fn reports_damage(&self) -> bool {
        self.newest().is_some() && self.0.contains(&Half::Damaged)
    }
}

/// The prompt of identity `name` at the root menu.
fn prompt_of(name: &str) -> String {
    format!("[admin@{name}] > ")
}

/// The identity a boot showed in `<identity> Login: `, from the output before `Login: `.
fn login_identity(boot: &str) -> String {
    boot.trim_end().rsplit(['\n', '\r']).next().unwrap_or("").trim().to_string()
}

/// Run `lines` (each must print nothing) at the prompt `prompt`.
fn configure(s: &mut Session, lines: &[&str], prompt: &str) {
    for line in lines {
        let out = s.command(line, prompt);
        assert!(out.is_empty(), "{line:?} printed {out:?}\n{}", s.transcript());
    }
}

/// `/system reboot`, answer `y`, and wait for QEMU to end (tests run it with `-no-reboot`).
fn reboot(s: &mut Session) {
    s.send_line("/system reboot");
    s.expect("Reboot, yes? [y/N]:");
    s.send("y");
    s.expect("Rebooting...");
    let status = s.wait_exit(Duration::from_secs(20));
    assert!(status.success(), "QEMU ended with {status}\n{}", s.transcript());
}

const PASSWORD: &str = "Str0ng-pass";
const CHANGES: [&str; 5] = [
    "/interface bridge add name=br-lan comment=\"LAN bridge\"",
    "/metarouter add name=vm1 memory-size=32 disk-size=4096 disabled=yes",
    "/ip address add address=192.168.88.1/24 interface=br-lan",
    "/user set admin password=Str0ng-pass",
    "/system identity set name=router1",
];
const PRINTS: [&str; 5] =
    ["/system identity print", "/interface bridge print", "/metarouter print", "/ip address print", "/user print"];

/// The print commands and their output, as on the console.
fn prints(s: &mut Session, prompt: &str) -> String {
    PRINTS.iter().map(|line| format!("{prompt}{line}\n{}", s.command(line, prompt))).collect()
}

#[test]
fn malta_configuration_survives_reboot() {
    let _serial = one_at_a_time();
    let flash = FlashImage::erased("reboot");
    let mut s = flash.boot();
    let boot = s.login(BOOT_TIMEOUT);
    assert!(!boot.contains("configuration:"), "an erased store is not a corrupt one: {boot}");
    configure(&mut s, &CHANGES[..4], PROMPT);
    configure(&mut s, &CHANGES[4..], &prompt_of("router1"));
    let prompt = prompt_of("router1");
    let export_before = s.command("/export", &prompt);
    let prints_before = prints(&mut s, &prompt);
    reboot(&mut s);
    drop(s);

    let image = flash.bytes();
    assert!(image[..REGION_OFFSET].iter().all(|&b| b == 0xFF), "the store wrote outside its region");
    let store = Store::decode(&image[REGION_OFFSET..]);
    let (_, sequence, payload) = store.newest().unwrap_or_else(|| panic!("no good copy on the flash: {store:?}"));
    let saved = String::from_utf8_lossy(payload);
    assert!(saved.contains("set name=router1") && saved.contains("password-hash="), "saved copy {sequence}: {saved}");
    assert!(!saved.contains(PASSWORD), "the password is stored in clear: {saved}");

    let mut s = flash.boot();
    // The default (empty) password no longer opens the console; the new one does.
    s.expect_within("router1 Login: ", BOOT_TIMEOUT);
    s.send_line("admin");
    s.expect("Password: ");
    s.send_line("");
    s.expect("Login failed, incorrect username or password");
    let boot = s.login_as("admin", PASSWORD, &prompt, Duration::from_secs(10));
    assert!(!boot.contains("configuration:"), "unexpected store report: {boot}");
    let prints_after = prints(&mut s, &prompt);
    golden::check("persistence-reboot-prints", &prints_after);
    for (printed, wanted) in [
        ("name: router1", "the identity"),
        ("name=\"br-lan\"", "the bridge"),
        (";;; LAN bridge", "the bridge's comment"),
        (" 0 X vm1  32MiB       4096kiB", "the disabled VM"),
        ("192.168.88.1/24 192.168.88.0 192.168.88.255 br-lan", "the address"),
    ] {
        assert!(prints_after.contains(printed), "{wanted} is lost: no {printed:?} in\n{prints_after}");
    }
    assert_eq!(prints_after, prints_before, "print output changed across the reboot");
    let export_after = s.command("/export", &prompt);
    assert_eq!(export_after, export_before, "/export changed across the reboot");
}

// ---------------------------------------------------------------------------------------------
// Power cuts during a save.

/// The two configurations the cuts move between, A and B: identity `cut-a` or `cut-b`, on top
/// of a configuration of about 3 KiB, so that a save is some 800 flash word writes. Each cut
/// starts from the configuration the previous one left and changes to the other: from A to B
/// or from B to A, its "old" and "new".
const STATES: [&str; 2] = ["cut-a", "cut-b"];
const CUSTOMERS: usize = 24;
/// Complete saves timed before the sweep, and no-op commands timed for comparison.
const CALIBRATION_SAVES: usize = 6;
const CALIBRATION_NOOPS: usize = 3;
/// The sweep: cuts before the first flash write, spread over the writes, after the commit.
const CUTS_BEFORE: usize = 4;
const CUTS_DURING: usize = 24;
const CUTS_AFTER: usize = 4;
/// Extra cuts the sweep may add when an outcome or a mid-write cut is still missing.
const MAX_EXTRA_CUTS: usize = 16;
/// Cuts triggered by the host seeing the new copy's header (the commit) being programmed: at
/// least the first number, more (up to the second) until one has left a partly written header.
const COMMIT_CUTS: (usize, usize) = (4, 12);

fn cut_setup() -> Vec<String> {
    let mut lines = Vec::new();
    for i in 0..CUSTOMERS {
        lines.push(format!("/interface bridge add name=cust{i:02} comment=\"customer {i:02} access bridge\""));
        lines.push(format!(
            "/ip address add address=10.{i}.0.1/24 interface=cust{i:02} comment=\"customer {i:02} gateway\""
        ));
    }
    lines.push("/metarouter add name=edge memory-size=64 disabled=yes".into());
    lines.push(format!("/system identity set name={}", STATES[0]));
    lines
}

/// Type `/system identity set name=<name>` and, once it is echoed, Enter. Returns the instant
/// Enter was handed to QEMU.
fn type_identity_change(s: &mut Session, name: &str) -> Instant {
    let line = format!("/system identity set name={name}");
    s.send(&line);
    s.expect(&line);
    s.send("\r");
    Instant::now()
}

/// Where each change to the flash image was seen during one save, from the moment Enter was typed.
#[derive(Clone, Copy, Debug)]
struct SaveTiming {
    first_write: Duration,
    commit: Duration,
    last_write: Duration,
    prompt: Duration,
}

/// Poll the configuration region of `path` until `stop`; each change: when, newest sequence.
fn watch_region(path: PathBuf, stop: Arc<AtomicBool>, ready: Arc<AtomicBool>) -> Vec<(Instant, Option<u32>)> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let read = |buf: &mut Vec<u8>| file.read_exact_at(buf, REGION_OFFSET as u64).expect("reading the flash image");
    let (mut last, mut now) = (vec![0u8; 2 * HALF_LEN], vec![0u8; 2 * HALF_LEN]);
    read(&mut last);
    ready.store(true, Ordering::SeqCst);
    let mut changes = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        read(&mut now);
        if now != last {
            changes.push((Instant::now(), Store::decode(&now).newest_sequence()));
            std::mem::swap(&mut now, &mut last);
        }
        thread::sleep(Duration::from_micros(100));
    }
    changes
}

/// Change the identity to `name` with the flash image watched; how long the save took.
fn timed_save(s: &mut Session, flash: &FlashImage, name: &str) -> SaveTiming {
    let before = Store::decode(&flash.region()).newest_sequence();
    let (stop, ready) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let watcher = {
        let (path, stop, ready) = (flash.path.clone(), stop.clone(), ready.clone());
        thread::spawn(move || watch_region(path, stop, ready))
    };
    while !ready.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(1));
    }
    let t0 = type_identity_change(s, name);
    s.expect(&prompt_of(name));
    let prompt = t0.elapsed();
    thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::SeqCst);
    let changes = watcher.join().expect("the flash watcher panicked");
    let since = |at: Instant| at.saturating_duration_since(t0);
    let committed = before.map_or(1, |b| b.wrapping_add(1));
    let commit = changes.iter().find(|c| c.1 == Some(committed)).map(|c| since(c.0));
    match (changes.first(), commit, changes.last()) {
        (Some(first), Some(commit), Some(last)) => {
            SaveTiming { first_write: since(first.0), commit, last_write: since(last.0), prompt }
        }
        _ => panic!("the save to {name} was not seen on the flash: {changes:?}\n{}", s.transcript()),
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What the flash image showed after a cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Nothing was written yet.
    Before,
    /// Writing had started; the new copy was not committed.
    During,
    /// The new copy was committed.
    After,
}

/// One cut: its trigger, the delay asked for and the one measured (Enter to SIGKILL), what the flash
/// showed, whether the box came up with the new configuration, whether it reported a damaged copy.
#[derive(Clone, Copy, Debug)]
struct Cut {
    trigger: Trigger,
    asked: Duration,
    actual: Duration,
    stage: Stage,
    new: bool,
    /// The configuration it came up with: index into [`STATES`].
    state: usize,
    /// The new copy's header was left partly written.
    torn: bool,
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

/// When a cut happens.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    /// This long after Enter.
    Delay(Duration),
    /// As soon as the host sees the new copy's header being programmed (the commit step).
    HeaderWrite,
}

/// Wait until the header of the half at `half` is erased and then programmed again (its first
/// word is written); tell `found` at once.
fn watch_header(path: PathBuf, half: usize, stop: Arc<AtomicBool>, found: mpsc::Sender<()>) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut header = [0u8; HEADER_LEN];
    let mut erased = false;
    while !stop.load(Ordering::SeqCst) {
        file.read_exact_at(&mut header, (REGION_OFFSET + half * HALF_LEN) as u64).expect("reading the flash image");
        let blank = header.iter().all(|&b| b == 0xFF);
        if erased && !blank {
            let _ = found.send(());
            return;
        }
        erased |= blank;
        thread::yield_now();
    }
}

/// From state `current`, change to the other state and cut the power at `trigger`; boot
/// again and check the box came up with exactly the state the flash says it should.
fn cut_once(
    mut s: Session,
    flash: &FlashImage,
    exports: &[String; 2],
    current: usize,
    trigger: Trigger,
) -> (Cut, Session, usize) {
    let before = flash.region();
    let written_before = flash.modified();
    let old = Store::decode(&before);
    let old_sequence = old.newest_sequence();
    let target = 1 - current;
    let half = old.newest().map_or(0, |(half, _, _)| 1 - half);
    let stop = Arc::new(AtomicBool::new(false));
    let (found_tx, found) = mpsc::channel();
    if let Trigger::HeaderWrite = trigger {
        let (path, stop) = (flash.path.clone(), stop.clone());
        thread::spawn(move || watch_header(path, half, stop, found_tx));
    }
    let t0 = type_identity_change(&mut s, STATES[target]);
    let asked = match trigger {
        Trigger::Delay(delay) => {
            thread::sleep(delay.saturating_sub(t0.elapsed()));
            delay
        }
        Trigger::HeaderWrite => {
            let seen = found.recv_timeout(Duration::from_secs(10));
            stop.store(true, Ordering::SeqCst);
            if seen.is_err() {
                panic!("the new copy's header was never seen being written\n{}", s.transcript());
            }
            t0.elapsed()
        }
    };
    let actual = t0.elapsed();
    s.power_cut();
    drop(s);
    let after = flash.region();
    let store = Store::decode(&after);
    // A cut can leave the image byte for byte as it was (the same save cut at the same word
    // as the previous one), so whether anything was written is told by the file's time.
    let written = flash.modified() != written_before;
    // The box first: it must come up with A or B whatever the flash holds.
    let (s, found, boot) = boot_into(flash, exports);
    assert!(written || after == before, "the flash image changed without a write");
    let stage = match store.newest_sequence() {
        _ if !written => Stage::Before,
        n if n == old_sequence => Stage::During,
        n if n == Some(old_sequence.map_or(1, |o| o.wrapping_add(1))) => Stage::After,
        n => panic!("cut {:.2} ms after Enter: newest copy {n:?}, was {old_sequence:?}: {store:?}", ms(actual)),
    };
    let expected = if stage == Stage::After { target } else { current };
    assert_eq!(
        found,
        expected,
        "cut {:.2} ms after Enter ({stage:?} on the flash): came up with {} instead of {}",
        ms(actual),
        STATES[found],
        STATES[expected]
    );
    let damage_reported = boot.contains(DAMAGED_COPY);
    assert_eq!(damage_reported, store.reports_damage(), "damaged-copy report vs flash {store:?}:\n{boot}");
    let torn = written && store.0[half] == Half::Damaged;
    (Cut { trigger, asked, actual, stage, new: found == target, state: found, torn, damage_reported }, s, found)
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

/// An extra delay while the sweep lacks an outcome (old or new) or a cut during the writes.
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
    let lo = cuts.iter().filter(|c| c.stage == Stage::Before).map(|c| c.actual).max().unwrap_or_default();
    let hi = cuts.iter().filter(|c| c.stage == Stage::After).map(|c| c.actual).min().unwrap_or(longest);
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
    let setup = cut_setup();
    let (last, lines) = setup.split_last().expect("setup lines");
    for line in lines {
        configure(&mut s, &[line], PROMPT);
    }
    configure(&mut s, &[last], &prompt_of(STATES[0]));
    let export_a = s.command("/export", &prompt_of(STATES[0]));
    configure(&mut s, &[&format!("/system identity set name={}", STATES[1])], &prompt_of(STATES[1]));
    let export_b = s.command("/export", &prompt_of(STATES[1]));
    let exports = [export_a, export_b];

    let timings: Vec<SaveTiming> = (0..CALIBRATION_SAVES).map(|i| timed_save(&mut s, &flash, STATES[i % 2])).collect();
    let unchanged = STATES[(CALIBRATION_SAVES - 1) % 2];
    let noops: Vec<Duration> = (0..CALIBRATION_NOOPS)
        .map(|_| {
            let t0 = type_identity_change(&mut s, unchanged);
            s.expect(&prompt_of(unchanged));
            t0.elapsed()
        })
        .collect();
    let region = flash.region();
    let store = Store::decode(&region);
    let payload = store.newest().map_or(0, |(_, _, p)| p.len());
    s.power_cut();
    drop(s);
    let first = median(timings.iter().map(|t| t.first_write).collect());
    let commit = median(timings.iter().map(|t| t.commit).collect());
    println!("save of a {payload}-byte configuration on qemu-malta, from Enter (median of {CALIBRATION_SAVES}):");
    for t in &timings {
        println!(
            "  first flash write {:7.2} ms, commit {:7.2} ms, last write {:7.2} ms, prompt {:7.2} ms",
            ms(t.first_write),
            ms(t.commit),
            ms(t.last_write),
            ms(t.prompt)
        );
    }
    println!(
        "  median: first write {:.2} ms, commit {:.2} ms (writes last {:.2} ms)",
        ms(first),
        ms(commit),
        ms(commit - first)
    );
    println!("  prompt after a command that changes nothing (no save): {:.2} ms (median)", ms(median(noops)));

    let (mut s, mut current, _) = boot_into(&flash, &exports);
    let mut cuts: Vec<Cut> = Vec::new();
    let plan = sweep_plan(first, commit);
    let planned = plan.len();
    let mut plan = plan.into_iter();
    let mut commit_cuts = 0;
    loop {
        // The planned delays, extra delays while something is missing, then the commit cuts.
        let delay =
            plan.next().or_else(|| (commit_cuts == 0).then(|| extra_delay(&cuts, cuts.len() - planned)).flatten());
        let trigger = match delay {
            Some(delay) => Trigger::Delay(delay),
            None if commit_cuts < COMMIT_CUTS.0 || (commit_cuts < COMMIT_CUTS.1 && !cuts.iter().any(|c| c.torn)) => {
                commit_cuts += 1;
                Trigger::HeaderWrite
            }
            None => break,
        };
        let (cut, next, state) = cut_once(s, &flash, &exports, current, trigger);
        let when = match cut.trigger {
            Trigger::Delay(_) => format!("asked {:7.2}", ms(cut.asked)),
            Trigger::HeaderWrite => "header seen".to_string(),
        };
        println!(
            "  cut {:3}: {:7.2} ms after Enter ({when}): flash {:6}, came up {}{}{}",
            cuts.len(),
            ms(cut.actual),
            format!("{:?}", cut.stage),
            if cut.new { "new" } else { "old" },
            if cut.torn { ", header torn" } else { "" },
            if cut.damage_reported { ", damaged copy reported" } else { "" }
        );
        cuts.push(cut);
        (s, current) = (next, state);
    }
    drop(s);
    let count = |f: &dyn Fn(&Cut) -> bool| cuts.iter().filter(|c| f(c)).count();
    let (old, new) = (count(&|c| !c.new), count(&|c| c.new));
    let torn = count(&|c| c.torn);
    println!(
        "{} cuts ({planned} planned delays, {} extra, {commit_cuts} at the header write): {old} came up with the old \
         configuration, {new} with the new (A {}, B {}); flash: nothing written {}, writing {} (header torn {torn}), committed {}; \
         damaged copy reported at {} boots; {:.1} s in all",
        cuts.len(),
        cuts.len() - planned - commit_cuts,
        count(&|c| c.state == 0),
        count(&|c| c.state == 1),
        count(&|c| c.stage == Stage::Before),
        count(&|c| c.stage == Stage::During),
        count(&|c| c.stage == Stage::After),
        count(&|c| c.damage_reported),
        started.elapsed().as_secs_f64()
    );
    assert!(old > 0 && new > 0, "the sweep never produced both outcomes (old {old}, new {new}): it tested nothing");
    assert!(count(&|c| c.stage == Stage::During) > 0, "no cut landed while the flash was being written");
    assert!(torn > 0, "no cut landed while the new copy's header was being written");
}

// ---------------------------------------------------------------------------------------------
// A damaged store.

/// Boot and log in as admin with the empty password; the output before `Login: ` and the
/// identity the login line showed.
fn boot_default_login(flash: &FlashImage) -> (Session, String, String) {
    let mut s = flash.boot();
    let boot = s.login_as("admin", "", ANY_PROMPT, BOOT_TIMEOUT);
    let identity = login_identity(&boot);
    (s, boot, identity)
}

#[test]
fn malta_corrupt_store_is_reported_and_the_box_comes_up() {
    let _serial = one_at_a_time();
    let flash = FlashImage::erased("corrupt");
    let (mut s, _, _) = boot_default_login(&flash);
    let default_export = s.command("/export", PROMPT);
    // Two saves: copy 1 (identity) in one half, copy 2 (bridge too) in the other.
    configure(&mut s, &["/system identity set name=first"], &prompt_of("first"));
    configure(&mut s, &["/interface bridge add name=br-second"], &prompt_of("first"));
    s.power_cut();
    drop(s);
    let store = Store::decode(&flash.region());
    let (newest, sequence, _) = store.newest().unwrap_or_else(|| panic!("nothing saved: {store:?}"));
    assert!(matches!(store.0[1 - newest], Half::Good { .. }), "the older copy is gone: {store:?}");

    // The newest copy's payload damaged: the older copy is used, and the damage reported.
    flash.flip_region_byte(newest * HALF_LEN + HEADER_LEN + 10);
    let (mut s, boot, identity) = boot_default_login(&flash);
    assert!(boot.contains(DAMAGED_COPY) && !boot.contains(CORRUPT_STORE), "copy {sequence} damaged:\n{boot}");
    assert_eq!(identity, "first", "{boot}");
    let export = s.command("/export", &prompt_of("first"));
    assert!(export.contains("set name=first") && !export.contains("br-second"), "{export}");
    drop(s);

    // The older copy's header damaged too: nothing good is left. Reported; the box comes up with
    // the default configuration and works.
    flash.flip_region_byte((1 - newest) * HALF_LEN + 5);
    assert_eq!(Store::decode(&flash.region()).newest(), None);
    let (mut s, boot, identity) = boot_default_login(&flash);
    assert!(boot.contains(CORRUPT_STORE), "both copies damaged, no report:\n{boot}");
    assert_eq!(identity, "MikroTik", "{boot}");
    assert_eq!(s.command("/export", PROMPT), default_export, "not the default configuration");
    assert_eq!(s.command("/system identity print", PROMPT), "  name: MikroTik\n");
    configure(&mut s, &["/interface bridge add name=br-after"], PROMPT);
    let bridges = s.command("/interface bridge print", PROMPT);
    assert!(bridges.contains("name=\"br-after\""), "{bridges}");
    let export = s.command("/export", PROMPT);
    s.send_line("/system shutdown");
    s.expect("Shutdown, yes? [y/N]:");
    s.send("y");
    assert!(s.wait_exit(Duration::from_secs(20)).success(), "{}", s.transcript());
    drop(s);

    // The store works again: that change survives the next boot.
    let (mut s, boot, _) = boot_default_login(&flash);
    assert!(!boot.contains(CORRUPT_STORE), "{boot}");
    assert_eq!(s.command("/export", PROMPT), export, "the change made after the corruption was lost");
}
