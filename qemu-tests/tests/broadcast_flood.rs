//! The console under a broadcast flood on qemu-malta, with real peers: ether1, ether2 and the
//! `netguest` guest's vif in `bridge1` (the host with an address on it), ether1 and ether2 on
//! taps whose host ends sit in two Linux network namespaces (made by the test, removed when it
//! ends, also on failure; needs root, as CI runs). Namespace A sends 64-byte Ethernet
//! broadcasts (UDP to 255.255.255.255) into ether1 as fast as its tap takes them
//! (`netpeer broadcast`) while the test, on the console:
//!
//! - runs `/system resource print`, which completes within [`COMMAND_BOUND`];
//! - types a line of [`LONG_LINE`] characters (`/system identity set name=...`) that must
//!   arrive whole: the prompt then names the box with every character typed, and the console
//!   never reports input lost;
//! - reaches the guest's console, which answers `uptime` within [`GUEST_BOUND`].
//!
//! Afterwards the flood is seen in the counters: ether1 took frames (`/interface print stats`:
//! RX-PACKET, with RX-DROP for what the box could not keep), ether2 flooded them on to B, and
//! the box counted no more than A sent.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::netlab::{ping, NetLab, Reaped};
use qemu_tests::qemu::Nic;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);
const SETUP: &str = "creating taps and network namespaces (the test needs root and iproute2)";
/// How long a console command may take under the flood.
const COMMAND_BOUND: Duration = Duration::from_secs(5);
/// How long the guest may take to answer on its console under the flood.
const GUEST_BOUND: Duration = Duration::from_secs(10);
/// The length of the identity typed under the flood.
const LONG_LINE: usize = 120;
/// How long the flood lasts (the checks take a part of it).
const FLOOD_SECONDS: u64 = 30;

/// The counter `name` of interface `iface` (`/interface print stats value-list`: digits are
/// grouped by spaces).
fn counter(s: &mut Session, iface: &str, name: &str) -> u64 {
    let out = s.checked(&format!(
        "/interface print stats value-list where name={iface}"
    ));
    out.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{name}:")))
        .map(|v| v.replace(' ', ""))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} for {iface}:\n{out}"))
}

/// A counter of `dev` in namespace `ns` (`/sys/class/net/DEV/statistics/NAME`).
fn tap_counter(ns: &str, dev: &str, name: &str) -> u64 {
    let out = NetLab::command(ns, "cat")
        .arg(format!("/sys/class/net/{dev}/statistics/{name}"))
        .output()
        .expect("cat");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{dev}'s {name}: {out:?}"))
}

/// The counters the test compares before and after the flood.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    ether1_rx: u64,
    ether1_drop: u64,
    ether2_tx: u64,
    a_sent: u64,
    a_dropped: u64,
    b_received: u64,
}

fn seen(s: &mut Session, (ns_a, tap_a): (&str, &str), (ns_b, tap_b): (&str, &str)) -> Seen {
    Seen {
        ether1_rx: counter(s, "ether1", "rx-packet"),
        ether1_drop: counter(s, "ether1", "rx-drop"),
        ether2_tx: counter(s, "ether2", "tx-packet"),
        a_sent: tap_counter(ns_a, tap_a, "tx_packets"),
        a_dropped: tap_counter(ns_a, tap_a, "tx_dropped"),
        b_received: tap_counter(ns_b, tap_b, "rx_packets"),
    }
}

/// Run `line` and wait for `prompt`; how long it took.
fn timed(s: &mut Session, line: &str, prompt: &str) -> Duration {
    let start = Instant::now();
    s.send_line(line);
    s.expect_within(prompt, COMMAND_BOUND * 3);
    start.elapsed()
}

#[test]
fn malta_the_console_and_a_guest_answer_while_a_namespace_floods_broadcasts_into_ether1() {
    let mut lab = NetLab::new(13);
    let tap_a = lab.tap("ta").expect(SETUP);
    let tap_b = lab.tap("tb").expect(SETUP);
    let ns_a = lab.namespace("na").expect(SETUP);
    let ns_b = lab.namespace("nb").expect(SETUP);
    let built = guests::build_once().expect("building the guests");
    let dir: PathBuf = std::env::temp_dir().join(format!("mr-flood-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("files.bin");
    build_store(&[built.archive("netguest")], &store).expect("packing the file store");
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.nics = vec![Nic::Tap(tap_a.clone()), Nic::Tap(tap_b.clone())];
        c.files = Some(store.clone());
    });
    s.login(BOOT);
    lab.move_into(&tap_a, &ns_a, "10.40.0.9/24").expect(SETUP);
    lab.move_into(&tap_b, &ns_b, "10.40.0.8/24").expect(SETUP);
    for line in [
        "/interface bridge add name=bridge1",
        "/interface bridge port add interface=ether1 bridge=bridge1",
        "/interface bridge port add interface=ether2 bridge=bridge1",
        "/ip address add address=10.40.0.1/24 interface=bridge1",
        "/metarouter import-image file-name=netguest.tgz name=n1",
        "/metarouter interface add virtual-machine=n1 dynamic-bridge=bridge1",
    ] {
        s.checked(line);
    }
    s.wait_running("n1");
    s.on_console("n1", "ip 10.40.0.5/24", "address=10.40.0.5/24", GUEST_BOUND);
    // All of it works before the flood.
    assert_eq!(ping(&ns_a, "10.40.0.8", 3), 3, "{}", s.transcript());
    assert_eq!(ping(&ns_a, "10.40.0.5", 3), 3, "{}", s.transcript());
    assert_eq!(ping(&ns_a, "10.40.0.1", 3), 3, "{}", s.transcript());
    let idle = timed(&mut s, "/system resource print", PROMPT);
    let a = (ns_a.as_str(), tap_a.as_str());
    let b = (ns_b.as_str(), tap_b.as_str());
    let before = seen(&mut s, a, b);

    let mut flood = NetLab::command(&ns_a, env!("CARGO_BIN_EXE_netpeer"));
    flood
        .args(["broadcast", &tap_a, &FLOOD_SECONDS.to_string()])
        .stdout(Stdio::piped());
    let mut flood = Reaped(flood.spawn().expect("starting the flood"));
    std::thread::sleep(Duration::from_secs(2));
    let flood_start = Instant::now();

    // The console answers within the bound.
    let mut slowest = Duration::ZERO;
    for _ in 0..3 {
        slowest = slowest.max(timed(&mut s, "/system resource print", PROMPT));
    }
    // A long line arrives whole: the prompt names the box with all of it.
    let name: String = (0..LONG_LINE)
        .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[i * 7 % 36]))
        .collect();
    let renamed = format!("[admin@{name}] > ");
    let typed = timed(
        &mut s,
        &format!("/system identity set name={name}"),
        &renamed,
    );
    slowest = slowest.max(typed);
    slowest = slowest.max(timed(&mut s, "/system identity set name=MikroTik", PROMPT));
    // The guest answers on its console.
    let guest_start = Instant::now();
    s.on_console("n1", "uptime", "uptime: ", GUEST_BOUND);
    let guest = guest_start.elapsed();
    assert!(
        flood_start.elapsed() < Duration::from_secs(FLOOD_SECONDS - 3),
        "the checks outlasted the flood: they did not run under it"
    );

    let mut report = String::new();
    std::io::Read::read_to_string(flood.0.stdout.as_mut().expect("piped"), &mut report)
        .expect("the flood's report");
    drop(flood);
    std::thread::sleep(Duration::from_secs(1));
    let after = seen(&mut s, a, b);
    let stats = s.checked("/interface print stats");
    println!("{stats}");
    let words: Vec<&str> = report.split_whitespace().collect();
    assert_eq!(words.first(), Some(&"broadcast"), "netpeer: {report}");
    let (sent, ms): (u64, u64) = (words[1].parse().unwrap(), words[2].parse().unwrap());
    let d = |f: fn(&Seen) -> u64| f(&after) - f(&before);
    let taken = d(|c| c.ether1_rx);
    println!(
        "flood: {sent} broadcasts in {ms} ms ({:.0}/s) accepted by A's socket; A's tap sent {} \
         and dropped {}; the box took {taken} on ether1 ({:.0}/s) and dropped {} there, sent {} \
         on ether2; B received {}",
        sent as f64 * 1000.0 / ms as f64,
        d(|c| c.a_sent),
        d(|c| c.a_dropped),
        taken as f64 * 1000.0 / ms as f64,
        d(|c| c.ether1_drop),
        d(|c| c.ether2_tx),
        d(|c| c.b_received),
    );
    println!(
        "console: /system resource print {idle:?} idle, at most {slowest:?} under the flood \
         ({LONG_LINE}-character line {typed:?}); guest console {guest:?}"
    );

    assert!(
        slowest <= COMMAND_BOUND,
        "the console took {slowest:?}\n{}",
        s.transcript()
    );
    assert!(guest <= GUEST_BOUND, "the guest took {guest:?}");
    assert!(
        !s.transcript().contains("input was lost"),
        "{}",
        s.transcript()
    );
    // The flood was one, the box saw it and counted it, and flooded it on to ether2.
    assert!(sent >= 10_000, "only {sent} broadcasts sent");
    assert!(taken >= 5_000, "ether1 took only {taken}\n{stats}");
    assert!(
        taken + d(|c| c.ether1_drop) <= d(|c| c.a_sent) + 100,
        "the box counted more than A sent"
    );
    assert!(
        d(|c| c.ether2_tx) >= taken / 2,
        "ether2 sent little on\n{stats}"
    );
    assert!(d(|c| c.b_received) >= taken / 2, "B received little");
    // And all of it still works after it.
    assert_eq!(ping(&ns_a, "10.40.0.5", 3), 3, "{}", s.transcript());
    assert_eq!(ping(&ns_a, "10.40.0.1", 3), 3, "{}", s.transcript());
    let _ = std::fs::remove_dir_all(&dir);
}
