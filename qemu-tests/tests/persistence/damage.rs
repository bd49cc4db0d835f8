//! A damaged store: a damaged newest generation (the older one is used and the damage
//! reported), both generations damaged (reported; the box comes up with the default
//! configuration and saves again), and a damaged record in the middle of a journal (the records
//! before it count, the loss is reported, and the next save writes a new generation).

use super::store_image::{self, RECORD_HEADER_LEN, SNAPSHOT_HEADER_LEN};
use super::*;

/// Boot and log in as admin with the empty password; the output before `Login: ` and the
/// identity the login line showed.
fn boot_default_login(flash: &FlashImage) -> (Session, String, String) {
    let mut s = flash.boot();
    let boot = s.login_as("admin", "", ANY_PROMPT, BOOT_TIMEOUT);
    let identity = login_identity(&boot);
    (s, boot, identity)
}

/// `/system shutdown`, answer `y`, and wait for QEMU to end.
fn shutdown(s: &mut Session) {
    s.send_line("/system shutdown");
    s.expect("Shutdown, yes? [y/N]:");
    s.send("y");
    assert!(
        s.wait_exit(Duration::from_secs(20)).success(),
        "{}",
        s.transcript()
    );
}

#[test]
fn malta_corrupt_store_is_reported_and_the_box_comes_up() {
    let _serial = one_at_a_time();
    let flash = FlashImage::erased("corrupt");
    let (mut s, _, _) = boot_default_login(&flash);
    let default_export = s.command("/export", PROMPT);
    let prompt = prompt_of("first");
    configure(&mut s, &["/system identity set name=first"], &prompt);
    for line in customer_setup() {
        configure(&mut s, &[&line], &prompt);
    }
    // Generation 1 (the first half) takes a record per change until its journal has grown past
    // 64 KiB; the idle box then writes generation 2 in the second half.
    let started = Instant::now();
    let mut changes = 0;
    let store = loop {
        changes += 1;
        configure(&mut s, &[&priority_change(changes % 2)], &prompt);
        let store = wait_for_idle_compaction(&flash);
        if store
            .progress()
            .is_some_and(|(generation, _)| generation != 1)
        {
            break store;
        }
        assert!(
            changes < 200,
            "{changes} changes and still one generation: {store:?}\n{}",
            s.transcript()
        );
    };
    let Some((1, compacted)) = store.newest() else {
        panic!("generation 2 is not in the second half: {store:?}")
    };
    assert_eq!(
        (compacted.generation, compacted.records.len()),
        (2, 0),
        "{store:?}"
    );
    assert!(
        matches!(&store.halves[0], Half::Good(g) if g.generation == 1),
        "{store:?}"
    );
    if let Err(e) = compacted.check_layout(&flash.region()[HALF_LEN..]) {
        panic!("generation 2 is not laid out as the format says: {e}");
    }
    println!(
        "{changes} changes of the bridges ({:.1} s) before the idle box wrote generation 2 (snapshot {} bytes): {store:?}",
        started.elapsed().as_secs_f64(),
        compacted.snapshot.len()
    );
    let export_compacted = s.command("/export", &prompt);
    // One more change: a record in generation 2's journal.
    configure(&mut s, &["/interface bridge add name=br-second"], &prompt);
    s.power_cut();
    drop(s);
    let store = flash.store();
    assert_eq!(store.progress(), Some((2, 1)), "{store:?}");

    // Generation 2's snapshot damaged: generation 1 (its snapshot and journal) is used, and the
    // damage reported. The change made after the compaction is lost with it.
    flash.flip_region_byte(HALF_LEN + SNAPSHOT_HEADER_LEN + 10);
    let store = flash.store();
    assert_eq!(
        (store.halves[1].clone(), store.progress()),
        (Half::Damaged, Some((1, changes + 2 * CUSTOMERS + 1)))
    );
    let (mut s, boot, identity) = boot_default_login(&flash);
    assert!(
        boot.contains(DAMAGED_COPY) && !boot.contains(CORRUPT_STORE),
        "generation 2 damaged:\n{boot}"
    );
    assert!(
        !boot.contains(TORN_RECORD) && !boot.contains(DAMAGED_JOURNAL),
        "{boot}"
    );
    assert_eq!(identity, "first", "{boot}");
    assert_eq!(
        s.command("/export", &prompt),
        export_compacted,
        "not the configuration generation 1 holds"
    );
    // Generation 1's journal is past 64 KiB: the idle box folds it into a new generation 2, in
    // place of the damaged one.
    let store = wait_for_idle_compaction(&flash);
    assert!(
        matches!(&store.halves[1], Half::Good(g) if g.generation == 2 && g.records.is_empty()),
        "{store:?}"
    );
    assert!(!store.reports_damaged_copy(), "{store:?}");
    drop(s);

    // Both headers damaged: nothing good is left. Reported; the box comes up with the default
    // configuration and works.
    flash.flip_region_byte(5);
    flash.flip_region_byte(HALF_LEN + 5);
    let store = flash.store();
    assert_eq!(store.halves, [Half::Damaged, Half::Damaged]);
    let (mut s, boot, identity) = boot_default_login(&flash);
    assert!(
        boot.contains(CORRUPT_STORE),
        "both generations damaged, no report:\n{boot}"
    );
    assert_eq!(identity, "MikroTik", "{boot}");
    assert_eq!(
        s.command("/export", PROMPT),
        default_export,
        "not the default configuration"
    );
    assert_eq!(
        s.command("/system identity print", PROMPT),
        "  name: MikroTik\n"
    );
    configure(&mut s, &["/interface bridge add name=br-after"], PROMPT);
    let bridges = s.command("/interface bridge print", PROMPT);
    assert!(bridges.contains("name=\"br-after\""), "{bridges}");
    let export = s.command("/export", PROMPT);
    shutdown(&mut s);
    drop(s);

    // The store works again: that change survives the next boot.
    let store = flash.store();
    assert_eq!(
        store.progress(),
        Some((1, 0)),
        "the save after the corruption: {store:?}"
    );
    let (mut s, boot, _) = boot_default_login(&flash);
    assert!(!boot.contains(CORRUPT_STORE), "{boot}");
    // The second half still holds the damaged generation 2 until the next compaction.
    assert_eq!(
        boot.contains(DAMAGED_COPY),
        store.reports_damaged_copy(),
        "{store:?}\n{boot}"
    );
    assert_eq!(
        s.command("/export", PROMPT),
        export,
        "the change made after the corruption was lost"
    );
}

#[test]
fn malta_damaged_record_ends_the_journal() {
    let _serial = one_at_a_time();
    let flash = FlashImage::erased("journal");
    let (mut s, _, _) = boot_default_login(&flash);
    let prompt = prompt_of("journal");
    configure(
        &mut s,
        &[
            "/system identity set name=journal",
            "/interface bridge add name=br1",
        ],
        &prompt,
    );
    let export_1 = s.command("/export", &prompt);
    configure(
        &mut s,
        &[
            "/interface bridge add name=br2",
            "/interface bridge add name=br3",
        ],
        &prompt,
    );
    s.power_cut();
    drop(s);
    let store = flash.store();
    let Some((0, newest)) = store.newest() else {
        panic!("nothing saved in the first half: {store:?}")
    };
    assert_eq!(
        (newest.generation, newest.records.len()),
        (1, 3),
        "{store:?}"
    );

    // A byte of the second record's payload (br2) flipped: the journal ends before it.
    let second = newest.record_offsets()[1];
    flash.flip_region_byte(second + RECORD_HEADER_LEN + 3);
    let store = flash.store();
    let Some((0, damaged)) = store.newest() else {
        panic!("{store:?}")
    };
    assert!(
        damaged.damaged && !damaged.torn && damaged.records.len() == 1,
        "{store:?}"
    );
    let (mut s, boot, identity) = boot_default_login(&flash);
    assert!(
        boot.contains(DAMAGED_JOURNAL),
        "a damaged record, no report:\n{boot}"
    );
    for other in [TORN_RECORD, DAMAGED_COPY, CORRUPT_STORE] {
        assert!(!boot.contains(other), "{boot}");
    }
    assert_eq!(identity, "journal", "{boot}");
    assert_eq!(
        s.command("/export", &prompt),
        export_1,
        "not the configuration the records before the damage give"
    );

    // The next change writes generation 2 in the other half: the configuration as loaded, and
    // the change.
    configure(&mut s, &["/interface bridge add name=br4"], &prompt);
    let export_4 = s.command("/export", &prompt);
    s.power_cut();
    drop(s);
    let store = flash.store();
    let Some((1, compacted)) = store.newest() else {
        panic!("no new generation in the second half: {store:?}")
    };
    assert_eq!(
        (compacted.generation, compacted.records.len()),
        (2, 0),
        "{store:?}"
    );
    let snapshot = String::from_utf8_lossy(&compacted.snapshot);
    assert!(
        snapshot.contains("name=br1") && snapshot.contains("name=br4"),
        "{snapshot}"
    );
    assert!(
        !snapshot.contains("name=br2") && !snapshot.contains("name=br3"),
        "{snapshot}"
    );
    let (mut s, boot, _) = boot_default_login(&flash);
    assert!(
        !boot.contains("configuration:"),
        "unexpected store report: {boot}"
    );
    assert_eq!(s.command("/export", &prompt), export_4);
}

/// A box whose flash holds its configuration where the earlier layout kept it (a first-format
/// copy in the flash's last 256 KiB) keeps it: it comes up with it, says so, and writes it in the
/// current layout while idle.
#[test]
fn malta_a_configuration_in_the_earlier_layout_is_kept() {
    let _serial = one_at_a_time();
    let flash = FlashImage::erased("earlier-layout");
    let payload = b"# saved configuration\n/interface bridge\nadd name=br-old\n/system identity\nset name=oldbox\n/user\nset admin group=full comment=\"system default user\"\n";
    let mut header = [0u8; SNAPSHOT_HEADER_LEN];
    header[..4].copy_from_slice(b"MGC1");
    header[4..8].copy_from_slice(&3u32.to_be_bytes());
    header[8..12].copy_from_slice(&(payload.len() as u32).to_be_bytes());
    header[12..16].copy_from_slice(&store_image::crc32(payload).to_be_bytes());
    let crc = store_image::crc32(&header[..20]);
    header[20..24].copy_from_slice(&crc.to_be_bytes());
    let mut bytes = flash.bytes();
    let at = (MALTA_FLASH_SIZE - (256 << 10)) as usize;
    bytes[at..at + SNAPSHOT_HEADER_LEN].copy_from_slice(&header);
    bytes[at + SNAPSHOT_HEADER_LEN..at + SNAPSHOT_HEADER_LEN + payload.len()]
        .copy_from_slice(payload);
    std::fs::write(&flash.path, bytes).unwrap_or_else(|e| panic!("{}: {e}", flash.path.display()));

    let (mut s, boot, identity) = boot_default_login(&flash);
    assert!(
        boot.contains("configuration: loaded from the flash's earlier layout"),
        "{boot}"
    );
    assert_eq!(identity, "oldbox", "{boot}");
    let export = s.command("/export", &prompt_of("oldbox"));
    assert!(export.contains("add name=br-old"), "{export}");
    // The idle box writes it in the current layout: a generation in the first half.
    let deadline = Instant::now() + Duration::from_secs(20);
    while flash.store().newest().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        flash.store().newest().is_some(),
        "not written in the current layout: {:?}",
        flash.store()
    );
    shutdown(&mut s);
    drop(s);
    let (mut s, boot, identity) = boot_default_login(&flash);
    assert!(!boot.contains("configuration:"), "{boot}");
    assert_eq!(identity, "oldbox");
    assert_eq!(s.command("/export", &prompt_of("oldbox")), export);
}
