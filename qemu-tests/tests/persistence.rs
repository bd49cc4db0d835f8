//! Persistence on qemu-malta: the configuration lives in the last 3 MiB of the 4 MiB CFI flash
//! (`-drive if=pflash`, a raw image file in a temporary directory). It survives `/system
//! reboot`; a power cut (QEMU killed with SIGKILL) at any moment of a save leaves exactly the old
//! or exactly the new configuration; a damaged store is reported at boot and the box still comes
//! up with the last good configuration, or the default one when nothing good is left.
//!
//! The region is two halves of 1.5 MiB. Each holds a generation: a snapshot of the whole
//! configuration, then a journal of records, one per change; the newest good generation is the
//! configuration. The first save on an erased store writes generation 1 in the first half;
//! each later change appends one record (header, payload padded to 8 bytes, trailer: the
//! trailer is the commit). A new generation goes to the other half when appending is not safe
//! (after a torn record, a damaged journal) and, while the console is idle, when the journal has
//! grown past max(64 KiB, its snapshot).
//!
//! The tests read the flash image on the host with a decoder of their own, written from the
//! format's description (`persistence/store_image.rs`): to check what the machine wrote, to
//! tell how far a save had come when the power was cut, and to find the bytes to damage.
//! `persistence/flash_watch.rs` watches the image while the box writes it (timing, cut
//! triggers), `persistence/power_cut.rs` is the power-cut sweep, `persistence/damage.rs` the
//! damaged generations and the damaged journal.
//!
//! The tests of this file run one at a time: the power-cut sweep times the flash writes and
//! must not share the two cores with another QEMU. Figures are printed (`-- --nocapture`).

#[path = "persistence/damage.rs"]
mod damage;
#[path = "persistence/flash_watch.rs"]
mod flash_watch;
#[path = "persistence/power_cut.rs"]
mod power_cut;
#[path = "persistence/store_image.rs"]
mod store_image;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use qemu_tests::boards::Board;
use qemu_tests::golden;
use qemu_tests::qemu::{ensure_flash_image, MALTA_FLASH_SIZE};
use qemu_tests::session::{Session, PROMPT};
use store_image::{Half, Store, HALF_LEN, REGION_LEN};

const BOOT_TIMEOUT: Duration = Duration::from_secs(30);
/// Where the configuration region (the flash's last 3 MiB) starts in the image.
const REGION_OFFSET: usize = MALTA_FLASH_SIZE as usize - REGION_LEN;
/// The end of the root menu's prompt, whatever the identity.
const ANY_PROMPT: &str = "] > ";
/// What the box says at boot about its store.
const DAMAGED_COPY: &str = "configuration: ignored a damaged copy";
const CORRUPT_STORE: &str =
    "configuration: saved configuration is corrupt, starting with the default configuration";
const TORN_RECORD: &str = "configuration: the last change before power was lost was not saved";
const DAMAGED_JOURNAL: &str = "configuration: saved changes are damaged, later changes were lost";

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
        let dir = std::env::temp_dir().join(format!(
            "qemu-tests-persistence-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("flash.img");
        ensure_flash_image(&path, MALTA_FLASH_SIZE).unwrap_or_else(|e| panic!("{e}"));
        FlashImage { dir, path }
    }

    fn boot(&self) -> Session {
        Session::boot_with(Board::QemuMalta, |cfg| cfg.flash = Some(self.path.clone()))
    }

    fn bytes(&self) -> Vec<u8> {
        let bytes =
            std::fs::read(&self.path).unwrap_or_else(|e| panic!("{}: {e}", self.path.display()));
        assert_eq!(
            bytes.len() as u64,
            MALTA_FLASH_SIZE,
            "QEMU changed the size of {}",
            self.path.display()
        );
        bytes
    }

    /// The configuration region as it is on disk now.
    fn region(&self) -> Vec<u8> {
        self.bytes().split_off(REGION_OFFSET)
    }

    /// When QEMU last wrote the image (every flash erase/program is a write to the file).
    fn modified(&self) -> std::time::SystemTime {
        let meta = std::fs::metadata(&self.path)
            .unwrap_or_else(|e| panic!("{}: {e}", self.path.display()));
        meta.modified().expect("file modification times")
    }

    /// The store as the host decodes it now.
    fn store(&self) -> Store {
        Store::decode(&self.region())
    }

    /// Invert the byte at `offset` of the configuration region.
    fn flip_region_byte(&self, offset: usize) {
        let mut bytes = self.bytes();
        bytes[REGION_OFFSET + offset] ^= 0xFF;
        std::fs::write(&self.path, bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", self.path.display()));
    }
}

impl Drop for FlashImage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A configuration with some customers: a bridge and a gateway address each, and a disabled
/// VM; a snapshot of about 3.4 KiB.
const CUSTOMERS: usize = 24;

fn customer_setup() -> Vec<String> {
    let mut lines = Vec::new();
    for i in 0..CUSTOMERS {
        lines.push(format!(
            "/interface bridge add name=cust{i:02} comment=\"customer {i:02} access bridge\""
        ));
        lines.push(format!(
            "/ip address add address=10.{i}.0.1/24 interface=cust{i:02} comment=\"customer {i:02} gateway\""
        ));
    }
    lines.push("/metarouter add name=edge memory-size=64 disabled=yes".into());
    lines
}

/// The STP priority of the customer bridges: the default (0) or 0x7000 (1).
const PRIORITIES: [&str; 2] = ["32768", "28672"];
/// How a record of the bridges at priority 1 shows it.
const PRIORITY_1_SAVED: &str = "priority=0x7000";

/// One command that changes every bridge: its journal record holds the customers' bridges
/// whole (1.4 or 1.7 KiB), so that programming it takes a while.
fn priority_change(priority: usize) -> String {
    format!(
        "/interface bridge set [find] priority={}",
        PRIORITIES[priority]
    )
}

/// Type the change to `priority` and, once it is echoed, Enter. Returns the instant Enter was
/// handed to QEMU.
fn type_priority_change(s: &mut Session, priority: usize) -> Instant {
    let line = priority_change(priority);
    s.send(&line);
    s.expect(&line);
    s.send("\r");
    Instant::now()
}

/// Whether `saved` (a record, or a snapshot) holds the bridges at `priority`.
fn holds_priority(saved: &[u8], priority: usize) -> bool {
    String::from_utf8_lossy(saved).contains(PRIORITY_1_SAVED) == (priority == 1)
}

/// If the newest generation's journal has grown past max(64 KiB, its snapshot), wait until the
/// box (idle at its prompt) has written a new generation; the store then.
fn wait_for_idle_compaction(flash: &FlashImage) -> Store {
    let store = flash.store();
    let Some((_, newest)) = store.newest().filter(|(_, g)| g.compaction_due()) else {
        return store;
    };
    let (generation, started) = (newest.generation, Instant::now());
    loop {
        let now = flash.store();
        if now
            .newest()
            .is_some_and(|(_, g)| g.generation != generation)
        {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the journal has grown past max(64 KiB, its snapshot) but the idle box wrote no new generation: {store:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The prompt of identity `name` at the root menu.
fn prompt_of(name: &str) -> String {
    format!("[admin@{name}] > ")
}

/// The identity a boot showed in `<identity> Login: `, from the output before `Login: `.
fn login_identity(boot: &str) -> String {
    boot.trim_end()
        .rsplit(['\n', '\r'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Run `lines` (each must print nothing) at the prompt `prompt`.
fn configure(s: &mut Session, lines: &[&str], prompt: &str) {
    for line in lines {
        let out = s.command(line, prompt);
        assert!(
            out.is_empty(),
            "{line:?} printed {out:?}\n{}",
            s.transcript()
        );
    }
}

/// `/system reboot`, answer `y`, and wait for QEMU to end (tests run it with `-no-reboot`).
fn reboot(s: &mut Session) {
    s.send_line("/system reboot");
    s.expect("Reboot, yes? [y/N]:");
    s.send("y");
    s.expect("Rebooting...");
    let status = s.wait_exit(Duration::from_secs(20));
    assert!(
        status.success(),
        "QEMU ended with {status}\n{}",
        s.transcript()
    );
}

const PASSWORD: &str = "Str0ng-pass";
const CHANGES: [&str; 5] = [
    "/interface bridge add name=br-lan comment=\"LAN bridge\"",
    "/metarouter add name=vm1 memory-size=32 disk-size=4096 disabled=yes",
    "/ip address add address=192.168.88.1/24 interface=br-lan",
    "/user set admin password=Str0ng-pass",
    "/system identity set name=router1",
];
const PRINTS: [&str; 5] = [
    "/system identity print",
    "/interface bridge print",
    "/metarouter print",
    "/ip address print",
    "/user print",
];

/// The print commands and their output, as on the console.
fn prints(s: &mut Session, prompt: &str) -> String {
    PRINTS
        .iter()
        .map(|line| format!("{prompt}{line}\n{}", s.command(line, prompt)))
        .collect()
}

#[test]
fn malta_configuration_survives_reboot() {
    let _serial = one_at_a_time();
    let flash = FlashImage::erased("reboot");
    let mut s = flash.boot();
    let boot = s.login(BOOT_TIMEOUT);
    assert!(
        !boot.contains("configuration:"),
        "an erased store is not a corrupt one: {boot}"
    );
    configure(&mut s, &CHANGES[..4], PROMPT);
    configure(&mut s, &CHANGES[4..], &prompt_of("router1"));
    let prompt = prompt_of("router1");
    let export_before = s.command("/export", &prompt);
    let prints_before = prints(&mut s, &prompt);
    reboot(&mut s);
    drop(s);

    let image = flash.bytes();
    assert!(
        image[..REGION_OFFSET].iter().all(|&b| b == 0xFF),
        "the store wrote outside its region (the last 3 MiB)"
    );
    let region = &image[REGION_OFFSET..];
    let store = Store::decode(region);
    let (half, newest) = store
        .newest()
        .unwrap_or_else(|| panic!("no good generation on the flash: {store:?}"));
    // The first save wrote generation 1 in the first half; each later change is one record.
    assert_eq!((half, newest.generation), (0, 1), "{store:?}");
    assert_eq!(
        newest.records.len(),
        CHANGES.len() - 1,
        "not one record per change: {store:?}"
    );
    assert!(!newest.torn && !newest.damaged, "{store:?}");
    assert_eq!(
        store.halves[1],
        Half::Blank,
        "the second half was written: {store:?}"
    );
    if let Err(e) = newest.check_layout(&region[..HALF_LEN]) {
        panic!("generation 1 is not laid out as the format says: {e}");
    }
    let snapshot = String::from_utf8_lossy(&newest.snapshot);
    assert!(
        snapshot.starts_with("# saved configuration v2\n") && snapshot.contains("br-lan"),
        "{snapshot}"
    );
    let records: Vec<String> = newest
        .records
        .iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect();
    for (record, (change, wanted)) in records.iter().zip([
        (CHANGES[1], "name=vm1"),
        (CHANGES[2], "address=192.168.88.1/24"),
        (CHANGES[3], "password-hash="),
        (CHANGES[4], "set name=router1"),
    ]) {
        assert!(
            record.contains(wanted),
            "the record of {change:?} has no {wanted:?}: {record}"
        );
    }
    let saved = newest.text();
    assert!(
        !saved.contains(PASSWORD),
        "the password is stored in clear: {saved}"
    );
    println!(
        "saved on the flash: a snapshot of {} bytes and {} records of {} bytes in all ({} to {} bytes each)",
        newest.snapshot.len(),
        records.len(),
        newest.journal_len,
        records.iter().map(String::len).min().unwrap_or(0),
        records.iter().map(String::len).max().unwrap_or(0)
    );

    let mut s = flash.boot();
    // The default (empty) password no longer opens the console; the new one does.
    s.expect_within("router1 Login: ", BOOT_TIMEOUT);
    s.send_line("admin");
    s.expect("Password: ");
    s.send_line("");
    s.expect("Login failed, incorrect username or password");
    let boot = s.login_as("admin", PASSWORD, &prompt, Duration::from_secs(10));
    assert!(
        !boot.contains("configuration:"),
        "unexpected store report: {boot}"
    );
    let prints_after = prints(&mut s, &prompt);
    golden::check("persistence-reboot-prints", &prints_after);
    for (printed, wanted) in [
        ("name: router1", "the identity"),
        ("name=\"br-lan\"", "the bridge"),
        (";;; LAN bridge", "the bridge's comment"),
        (" 0 X vm1  32MiB       4096kiB", "the disabled VM"),
        (
            "192.168.88.1/24 192.168.88.0 192.168.88.255 br-lan",
            "the address",
        ),
    ] {
        assert!(
            prints_after.contains(printed),
            "{wanted} is lost: no {printed:?} in\n{prints_after}"
        );
    }
    assert_eq!(
        prints_after, prints_before,
        "print output changed across the reboot"
    );
    let export_after = s.command("/export", &prompt);
    assert_eq!(
        export_after, export_before,
        "/export changed across the reboot"
    );
}
