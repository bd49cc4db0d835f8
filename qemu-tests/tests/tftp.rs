//! `/tool fetch mode=tftp` on qemu-malta against a real Linux TFTP server: tftpd-hpa's
//! `in.tftpd` (installed by `tools/ensure-toolchain.sh`) in a network namespace on the tap of
//! ether1 (made by the test, removed when it ends, also on failure; needs root, as CI runs),
//! with the box's file store on its IDE disk.
//!
//! - The netguest archive is downloaded into the store, listed by `/file print`, imported as a
//!   guest that then runs; after a shutdown the store on the disk image holds it byte for byte.
//! - An 8 MiB file is downloaded (its rate printed: `-- --nocapture`) and uploaded back under
//!   another name (`upload=yes`): the server's copy is the same bytes. The archive again over
//!   IPv6 (a second `in.tftpd` on the namespace's IPv6 address), and from an address behind a
//!   gateway (a route of the box's: the gateway is resolved, the server addressed).
//! - A file the server does not have gives the server's TFTP error; one larger than the store's
//!   free space is refused from the size the server announces, before any data is written.
//! - The server killed in the middle of a download: a timeout error, and nothing of the file
//!   is left; Ctrl-C in the middle of another: "transfer interrupted", nothing left.

#[path = "disk/common.rs"]
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use filestore::{AreaId, ROOT_INO};
use qemu_tests::guests;
use qemu_tests::netlab::{NetLab, Reaped};
use qemu_tests::qemu::Nic;
use qemu_tests::session::{Session, PROMPT};

const SETUP: &str = "creating taps and network namespaces (the test needs root and iproute2)";
const TFTPD: &str = "/usr/sbin/in.tftpd";
const TRANSFER: Duration = Duration::from_secs(180);

/// `in.tftpd` serving `dir` at `address` (`10.1.0.2:69`, `[fd01::2]:69`) in namespace `ns`
/// (creating files on upload).
fn start_server(ns: &str, address: &str, dir: &std::path::Path) -> Reaped {
    assert!(
        std::path::Path::new(TFTPD).exists(),
        "{TFTPD} is missing: install Debian's tftpd-hpa (tools/ensure-toolchain.sh does)"
    );
    let mut c = NetLab::command(ns, TFTPD);
    c.args(["--foreground", "--listen", "--address", address])
        .args(["--user", "root", "--create", "--secure"])
        .arg(dir)
        .stdin(Stdio::null());
    let server = Reaped(c.spawn().expect("starting in.tftpd"));
    // Listening once the namespace has a socket on port 69.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(
        &Command::new("ip")
            .args(["netns", "exec", ns, "ss", "-uln"])
            .output()
            .expect("ss")
            .stdout,
    )
    .contains(address)
    {
        assert!(
            Instant::now() < deadline,
            "in.tftpd did not start listening"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// Kills every process in namespace `ns` (the server and the child serving a transfer: all
/// started by this test), each by its id.
fn kill_servers(ns: &str) {
    let out = Command::new("ip")
        .args(["netns", "pids", ns])
        .output()
        .expect("ip netns pids");
    for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        let _ = Command::new("kill").args(["-9", pid]).status();
    }
}

/// Runs a fetch to its end; what it printed, and the seconds it took.
fn fetch(s: &mut Session, args: &str) -> (String, f64) {
    let start = Instant::now();
    s.send_line(&format!("/tool fetch mode=tftp address=10.1.0.2 {args}"));
    let out = s.expect_within(PROMPT, TRANSFER).replace("\r\n", "\n");
    (out, start.elapsed().as_secs_f64())
}

fn wait_running(s: &mut Session, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !s
        .command("/metarouter print", PROMPT)
        .lines()
        .any(|l| l.contains(name) && l.trim_end().ends_with("running"))
    {
        assert!(
            Instant::now() < deadline,
            "{name} not running\n{}",
            s.transcript()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Names of the files in the store's receiving directory (what unfinished transfers left).
fn left_receiving(store: &mut filestore::Store<ImageFile>) -> Vec<String> {
    let Ok(dir) = store.lookup(AreaId::HOST, ROOT_INO, b".receiving") else {
        return Vec::new();
    };
    let mut left = Vec::new();
    store
        .readdir(AreaId::HOST, dir.ino, 2, &mut |e| {
            left.push(String::from_utf8_lossy(&e.name).into_owned());
            true
        })
        .unwrap();
    left
}

#[test]
fn malta_fetches_from_and_to_a_linux_tftp_server() {
    let built = guests::build_once().expect("building the guests");
    let netguest = std::fs::read(built.archive("netguest")).expect("netguest.tgz");
    let disk = Disk::new("tftp");
    let served = disk.dir.join("served");
    std::fs::create_dir_all(&served).unwrap();
    std::fs::write(served.join("netguest.tgz"), &netguest).unwrap();
    let big = pattern(8 << 20, 29);
    std::fs::write(served.join("big.bin"), &big).unwrap();
    std::fs::write(served.join("slow.bin"), pattern(24 << 20, 31)).unwrap();
    // Larger than the 64 MiB disk (sparse here).
    let huge = std::fs::File::create(served.join("huge.bin")).unwrap();
    huge.set_len(80 << 20).unwrap();
    drop(huge);

    let mut lab = NetLab::new(8);
    let tap = lab.tap("ta").expect(SETUP);
    let ns = lab.namespace("na").expect(SETUP);
    let mut s = Session::boot_with(disk.board, |c| {
        c.disk = Some(disk.image.clone());
        c.nics = vec![Nic::Tap(tap.clone()), Nic::Unplugged];
        c.memory_mib = 256;
    });
    s.login(BOOT);
    lab.move_into(&tap, &ns, "10.1.0.2/24").expect(SETUP);
    lab.add_ipv6(&ns, &tap, "fd01::2/64").expect(SETUP);
    let server = start_server(&ns, "10.1.0.2:69", &served);
    let server6 = start_server(&ns, "[fd01::2]:69", &served);
    // 10.9.0.2 on the namespace's loopback: reached through the gateway 10.1.0.2.
    let out = Command::new("ip")
        .args(["-n", &ns, "addr", "add", "10.9.0.2/32", "dev", "lo"])
        .output()
        .expect("ip addr add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let routed = start_server(&ns, "10.9.0.2:69", &served);
    let _kill_children = Killer(ns.clone());
    for line in [
        "/ip address add address=10.1.0.1/24 interface=ether1",
        "/ipv6 address add address=fd01::1/64 interface=ether1",
        "/ip route add dst-address=10.9.0.0/24 gateway=10.1.0.2",
    ] {
        let out = cmd(&mut s, line);
        assert!(!out.contains("failure"), "{out}");
    }

    // The guest's archive: into the store, listed, imported, running.
    let (out, _) = fetch(&mut s, "src-path=netguest.tgz dst-path=netguest.tgz");
    println!("{out}");
    assert!(out.contains("status: finished"), "{out}");
    assert!(
        out.contains(&format!("downloaded: {}KiB", netguest.len() / 1024))
            && out.contains(&format!("total: {}KiB", netguest.len() / 1024)),
        "{out}"
    );
    let list = cmd(&mut s, "/file print");
    println!("{list}");
    assert!(
        list.contains("netguest.tgz") && list.contains(".tgz file"),
        "{list}"
    );
    let out = cmd(
        &mut s,
        "/metarouter import-image file-name=netguest.tgz name=mr1",
    );
    assert!(!out.contains("failure"), "{out}");
    wait_running(&mut s, "mr1");

    // 8 MiB down (dst-path defaults to the file name) and back up.
    let (out, seconds) = fetch(&mut s, "src-path=big.bin");
    println!("{out}");
    assert!(out.contains("status: finished"), "{out}");
    println!(
        "download of {} bytes: {seconds:.2} s from the command to the prompt, {:.0} KiB/s \
         (QEMU on a shared 2-core host, other jobs running)",
        big.len(),
        big.len() as f64 / 1024.0 / seconds
    );
    let (out, seconds) = fetch(&mut s, "src-path=big.bin dst-path=back.bin upload=yes");
    println!("{out}");
    assert!(out.contains("status: finished"), "{out}");
    assert!(
        out.contains(&format!("uploaded: {}KiB", big.len() / 1024)),
        "{out}"
    );
    println!(
        "upload of {} bytes: {seconds:.2} s, {:.0} KiB/s",
        big.len(),
        big.len() as f64 / 1024.0 / seconds
    );
    assert!(
        std::fs::read(served.join("back.bin")).unwrap() == big,
        "the uploaded copy differs"
    );

    // Over IPv6.
    s.send_line("/tool fetch mode=tftp address=fd01::2 src-path=netguest.tgz dst-path=six.tgz");
    let out = s.expect_within(PROMPT, TRANSFER).replace("\r\n", "\n");
    println!("{out}");
    assert!(out.contains("status: finished"), "{out}");

    // Through a gateway (the box's route to 10.9.0.0/24).
    s.send_line("/tool fetch mode=tftp address=10.9.0.2 src-path=netguest.tgz dst-path=routed.tgz");
    let out = s.expect_within(PROMPT, TRANSFER).replace("\r\n", "\n");
    println!("{out}");
    assert!(out.contains("status: finished"), "{out}");

    // The server's error, and a file larger than the free space: refused, nothing kept.
    let (out, _) = fetch(&mut s, "src-path=missing.bin");
    println!("{out}");
    assert!(
        out.contains("status: failed")
            && out.contains("failure: TFTP server 10.1.0.2: error 1: File not found"),
        "{out}"
    );
    let (out, _) = fetch(&mut s, "src-path=huge.bin");
    println!("{out}");
    assert!(
        out.contains("failure: huge.bin (80.0MiB): not enough free space on the disk"),
        "{out}"
    );

    // Ctrl-C in the middle of a download.
    s.send_line("/tool fetch mode=tftp address=10.1.0.2 src-path=slow.bin");
    s.expect_within("status: downloading", TRANSFER);
    s.send_bytes(b"\x03");
    let out = s.expect_within(PROMPT, TRANSFER);
    println!("{out}");
    assert!(out.contains("failure: transfer interrupted"), "{out}");

    // The server killed in the middle of a download.
    s.send_line("/tool fetch mode=tftp address=10.1.0.2 src-path=slow.bin");
    s.expect_within("status: downloading", TRANSFER);
    kill_servers(&ns);
    drop(server);
    drop(server6);
    drop(routed);
    let out = s.expect_within(PROMPT, TRANSFER);
    println!("{out}");
    assert!(
        out.contains("status: failed") && out.contains("failure: timeout: no answer from 10.1.0.2"),
        "{out}"
    );

    let list = cmd(&mut s, "/file print");
    println!("{list}");
    for name in ["missing.bin", "huge.bin", "slow.bin"] {
        assert!(!list.contains(name), "{name} left:\n{list}");
    }
    assert!(list.contains("big.bin"), "{list}");
    shutdown(&mut s);
    let mut store = disk.host_store();
    assert_eq!(
        host_file(&mut store, "netguest.tgz").as_deref(),
        Some(&netguest[..])
    );
    assert_eq!(host_file(&mut store, "big.bin").as_deref(), Some(&big[..]));
    for name in ["six.tgz", "routed.tgz"] {
        assert_eq!(
            host_file(&mut store, name).as_deref(),
            Some(&netguest[..]),
            "{name}"
        );
    }
    assert_eq!(host_file(&mut store, "slow.bin"), None);
    let left = left_receiving(&mut store);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Kills what is left in the namespace when the test ends (also on failure): the server's
/// children serving a transfer outlive the server.
struct Killer(String);

impl Drop for Killer {
    fn drop(&mut self) {
        kill_servers(&self.0);
    }
}
