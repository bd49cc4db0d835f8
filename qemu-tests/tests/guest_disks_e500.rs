//! Disks on qemu-ppce500: the virtio block device on PCI holds the file store as the IDE disk
//! does on malta. Preloaded files are copied onto it and `/file remove` takes them away for
//! good; `import-image` of the SDK's `hello-ppc.tgz` unpacks into the guest's area; the e500
//! guest writes and reads its disk over metafs, and finds what it wrote after a guest reboot
//! and after a host reboot (QEMU restarted on the same image, which the host then reads with
//! the `filestore` crate). A guest without a disk gets the PowerPC (generic) errno numbers. The
//! disk and the eTSECs share the device window. A power cut while the guest writes leaves a
//! clean store holding only whole pages it wrote (as on malta).
//!
//! Figures are printed (`-- --nocapture`): the guest's 4 KiB metafs rates (`disk-bench`).

#[path = "disk/common.rs"]
mod common;

use common::*;
use qemu_tests::boards::Board;
use qemu_tests::guests;
use qemu_tests::qemu::Nic;
use qemu_tests::session::Session;

fn import_hello(s: &mut Session) {
    let out = cmd(
        s,
        "/metarouter import-image file-name=hello-ppc.tgz name=h1 memory-size=32",
    );
    assert!(!out.contains("failure"), "{out}");
    wait_running_detail(s, "h1");
}

#[test]
fn an_e500_guest_keeps_its_disk_across_guest_and_host_reboots() {
    let built = guests::build_e500_sdk_once().expect("building the e500 guests");
    let disk = Disk::on(Board::QemuPpce500, "e500-metafs");
    let notes = pattern(10_000, 3);
    let files = [built.e500_archive("hello"), disk.file("notes.bin", &notes)];
    let mut s = disk.boot(&files);
    s.expect_within(FORMATTED, BOOT);
    s.expect_within("preloaded files copied in", BOOT);
    s.login(BOOT);
    let list = cmd(&mut s, "/file print");
    assert!(
        list.contains("hello-ppc.tgz") && list.contains("notes.bin"),
        "{list}"
    );
    let out = cmd(&mut s, "/file remove notes.bin");
    assert!(!out.contains("failure"), "{out}");
    assert!(!cmd(&mut s, "/file print").contains("notes.bin"));

    import_hello(&mut s);
    let out = hello_console(&mut s, "h1", "write /greeting hello from e500", "write: ");
    assert!(!out.contains("errno"), "{out}");
    hello_console(&mut s, "h1", "write /greeting second line", "write: ");
    let out = hello_console(&mut s, "h1", "cat /greeting", "hello from");
    assert!(
        out.contains("hello from e500") && out.contains("second line"),
        "{out}"
    );
    assert!(out.contains("cat: 28 bytes"), "{out}");
    let out = hello_console(&mut s, "h1", "ls /", "ls");
    assert!(out.contains("greeting"), "{out}");

    // A guest reboot: the guest's RAM is loaded anew, its disk stays.
    let out = hello_console(&mut s, "h1", "reboot", "rebooting");
    assert!(out.contains("hello: MetaROUTER guest"), "{out}");
    let out = hello_console(&mut s, "h1", "cat /greeting", "hello from");
    assert!(
        out.contains("second line") && out.contains("cat: 28 bytes"),
        "{out}"
    );
    shutdown(&mut s);

    // What the guest wrote is in its area of the image; the removed file is gone.
    let mut store = disk.host_store();
    assert_eq!(
        area_file(&mut store, "h1", &["greeting"]).as_deref(),
        Some(&b"hello from e500\nsecond line\n"[..])
    );
    assert_eq!(host_file(&mut store, "notes.bin"), None);
    assert!(host_file(&mut store, "hello-ppc.tgz").is_some());
    drop(store);

    // A host reboot on the same image, nothing preloaded: the archive comes from the disk,
    // and the guest (defined again: this machine is given no configuration flash) finds its
    // file.
    let mut s = disk.boot(&[]);
    let check = s.expect_within(CHECKED, BOOT);
    assert!(!check.contains(FORMATTED), "{check}");
    s.login(BOOT);
    let list = cmd(&mut s, "/file print");
    assert!(
        list.contains("hello-ppc.tgz") && !list.contains("notes.bin"),
        "{list}"
    );
    import_hello(&mut s);
    let out = hello_console(&mut s, "h1", "cat /greeting", "hello from");
    assert!(
        out.contains("hello from e500") && out.contains("cat: 28 bytes"),
        "{out}"
    );
    let out = hello_console(&mut s, "h1", "disk-bench 64", "disk-bench");
    println!("ppce500 metafs, as the guest sees it: {}", out.trim());
    shutdown(&mut s);
}

#[test]
fn an_e500_guest_without_a_disk_gets_the_powerpc_errno_numbers() {
    let built = guests::build_e500_sdk_once().expect("building the e500 guests");
    let dir = std::env::temp_dir().join(format!("mr-e500-nodisk-{}", std::process::id()));
    let store = dir.join("files.bin");
    qemu_tests::files::build_store(&[built.e500_archive("hello")], &store).unwrap();
    let mut s = Session::boot_with(Board::QemuPpce500, |c| c.files = Some(store.clone()));
    s.login(BOOT);
    import_hello(&mut s);
    // No disk: every metafs request is refused with ENOSYS, which is 38 to a PowerPC guest
    // (`asm-generic/errno.h`) and 89 only to a MIPS one.
    let out = hello_console(&mut s, "h1", "ls /", "ls: ");
    assert!(out.contains("ls: errno 38"), "{out}");
    shutdown(&mut s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// As `./x run` boots it: the disk and two eTSECs, whose registers share one device window
/// (the disk maps it first, at mount; the ports find theirs in it).
#[test]
fn the_disk_and_the_ethernet_ports_share_the_device_window() {
    let disk = Disk::on(Board::QemuPpce500, "e500-window");
    let mut s = Session::boot_with(Board::QemuPpce500, |c| {
        c.disk = Some(disk.image.clone());
        c.nics = vec![Nic::User, Nic::Unplugged];
    });
    let boot = s.login(BOOT);
    assert!(boot.contains(FORMATTED), "{boot}");
    for port in ["ether1: ", "ether2: "] {
        assert!(boot.contains(port), "{port} missing:\n{boot}");
    }
    assert!(!boot.contains("out of reach"), "{boot}");
    let ports = cmd(&mut s, "/interface print");
    assert!(
        ports.contains("ether1") && ports.contains("ether2"),
        "{ports}"
    );
    shutdown(&mut s);
    disk.host_store();
}

#[test]
fn an_e500_power_cut_while_a_guest_writes_leaves_a_clean_store_with_whole_pages() {
    let built = guests::build_e500_sdk_once().expect("building the e500 guests");
    power_cuts_while_a_guest_writes(
        Board::QemuPpce500,
        built.e500_archive("hello"),
        "/metarouter import-image file-name=hello-ppc.tgz name=h1 memory-size=32",
    );
}
