//! The Ethernet ports with real peers, on both QEMU machines (qemu-malta: two e1000 on PCI;
//! qemu-ppce500: two eTSEC on the platform bus, and two e1000 on its PCI bus): two ports on tap devices whose host ends sit
//! in two Linux network namespaces (made by the test, removed when it ends, also on
//! failure; needs root, as CI runs). Both ports in one bridge carry ping on an idle box (woken
//! by the ports' interrupts only), then ping and a TCP transfer between the namespaces while a
//! guest runs; a link set down in QEMU shows in
//! `/interface print` and stops traffic, and set up again restores it.
//!
//! On malta, with QEMU's default slots both e1000 share IRQ 10, so the transfer also exercises
//! the shared, level-triggered PCI interrupt; on ppce500 each eTSEC has three MPIC sources of
//! its own, and its link is read from the model's PHY (no link interrupt).

use std::path::PathBuf;

use std::time::{Duration, Instant};

use qemu_tests::boards::Board;
use qemu_tests::monitor::Monitor;
use qemu_tests::netlab::{ping, tcp_transfer, NetLab};
use qemu_tests::qemu::{Nic, NicModel};
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);
const ADDR_A: &str = "10.77.0.1";
const ADDR_B: &str = "10.77.0.2";
/// The TCP transfer on malta: 4 MiB.
const TRANSFER_MALTA: u64 = 4 << 20;
/// On ppce500: 1 MiB, fewer full-size frames than the eTSEC's 1,024 receive slots, so QEMU's
/// model cannot find its ring full (it fails then: `boards/e500/src/ether.rs`).
const TRANSFER_PPCE500: u64 = 1 << 20;

/// The flags of `name` in `/interface print`.
fn flags(s: &mut Session, name: &str) -> String {
    let out = s.command("/interface print", PROMPT);
    let line = out
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == name))
        .unwrap_or_else(|| panic!("{name} not listed:\n{out}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    // ` 1  R  ether2 ether 1500`: the words between the number and the name are the flags.
    let at = words.iter().position(|w| *w == name).expect("found above");
    words[1..at].concat()
}

/// Wait until `/interface print` shows `name` running (or not).
fn wait_running(s: &mut Session, name: &str, running: bool) {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let f = flags(s, name);
        if f.contains('R') == running {
            return;
        }
        assert!(
            Instant::now() < end,
            "{name} flags {f:?} after 10 s\n{}",
            s.transcript()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A TCP transfer of `bytes` from namespace `a` to `b`; Mbit/s.
fn transfer(a: &str, b: &str, bytes: u64) -> f64 {
    tcp_transfer(env!("CARGO_BIN_EXE_netpeer"), a, b, ADDR_B, bytes)
}

#[test]
fn malta_two_ports_in_one_bridge_carry_traffic_between_namespaces_and_follow_their_link() {
    two_ports_in_one_bridge(Board::QemuMalta, 1, NicModel::Board);
}

#[test]
fn ppce500_two_ports_in_one_bridge_carry_traffic_between_namespaces_and_follow_their_link() {
    two_ports_in_one_bridge(Board::QemuPpce500, 2, NicModel::Board);
}

/// ppce500 with two e1000 on its PCI bus instead of eTSECs: their interrupts through the
/// device tree's PCI interrupt map (slots 1 and 2 drive two MPIC sources), DMA through the
/// snooped inbound window.
#[test]
fn ppce500_e1000_ports_on_pci_carry_traffic_between_namespaces_and_follow_their_link() {
    two_ports_in_one_bridge(Board::QemuPpce500, 14, NicModel::E1000);
}

/// The test on `board` with ports of `model`; `lab` tells its taps and namespaces from the
/// other tests'.
fn two_ports_in_one_bridge(board: Board, lab: u8, model: NicModel) {
    let mut lab = NetLab::new(lab);
    let setup = "creating taps and network namespaces (the test needs root and iproute2)";
    let tap_a = lab.tap("ta").expect(setup);
    let tap_b = lab.tap("tb").expect(setup);
    let ns_a = lab.namespace("na").expect(setup);
    let ns_b = lab.namespace("nb").expect(setup);
    let dir: PathBuf =
        std::env::temp_dir().join(format!("mr-ports-{board}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let socket = dir.join("monitor.sock");
    let mut s = Session::boot_with(board, |c| {
        c.nics = vec![Nic::Tap(tap_a.clone()), Nic::Tap(tap_b.clone())];
        c.nic_model = model;
        c.extra = Monitor::qemu_args(&socket);
    });
    let boot = s.login(BOOT);
    assert!(
        boot.contains("ether1: 52:54:00:12:34:56") && boot.contains("ether2: 52:54:00:12:34:57"),
        "{boot}"
    );
    // QEMU holds both taps now: their host ends go into the namespaces.
    lab.move_into(&tap_a, &ns_a, &format!("{ADDR_A}/24"))
        .expect(setup);
    lab.move_into(&tap_b, &ns_b, &format!("{ADDR_B}/24"))
        .expect(setup);
    let mut monitor = Monitor::connect(&socket, &dir).expect("monitor");

    s.command("/interface bridge add name=bridge1", PROMPT);
    for port in ["ether1", "ether2"] {
        let out = s.command(
            &format!("/interface bridge port add interface={port} bridge=bridge1"),
            PROMPT,
        );
        assert!(!out.contains("failure"), "{out}");
    }
    assert_eq!(flags(&mut s, "ether1"), "RS", "{}", s.transcript());
    // No guest: the box sleeps between frames, so only the ports' interrupts wake it.
    assert_eq!(ping(&ns_a, ADDR_B, 5), 5, "{}", s.transcript());
    s.command("/metarouter add name=mr1", PROMPT);
    assert_eq!(ping(&ns_a, ADDR_B, 5), 5, "{}", s.transcript());
    let bytes = match (board, model) {
        (Board::QemuPpce500, NicModel::Board) => TRANSFER_PPCE500,
        _ => TRANSFER_MALTA,
    };
    let mbits = transfer(&ns_a, &ns_b, bytes);
    eprintln!("{board} ({model:?}): TCP through the bridge, ether1 to ether2: {mbits:.0} Mbit/s");
    let status = s.command("/metarouter print", PROMPT);
    assert!(
        status.contains("running"),
        "the guest ran meanwhile: {status}"
    );

    // Link down on ether2: shown, and nothing passes.
    monitor.command("set_link ether2 off").expect("set_link");
    wait_running(&mut s, "ether2", false);
    assert_eq!(ping(&ns_a, ADDR_B, 3), 0, "{}", s.transcript());
    // Up again: traffic flows.
    monitor.command("set_link ether2 on").expect("set_link");
    wait_running(&mut s, "ether2", true);
    assert!(ping(&ns_a, ADDR_B, 5) >= 4, "{}", s.transcript());

    let stats = s.command("/interface print stats", PROMPT);
    assert!(
        stats.lines().any(|l| l.contains("ether2")),
        "counters listed: {stats}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
