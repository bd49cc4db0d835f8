//! `./x bench net [FRAMES]`: what the hypervisor spends per bridged frame, on QEMU malta with
//! `-icount shift=0` (one instruction per nanosecond of virtual time, so CP0 Count, at 160 MHz,
//! counts 6.25 instructions per tick).
//!
//! Two e1000 ports on tap devices whose host ends sit in two network namespaces (made here and
//! removed at the end; needs root). A UDP flood from one namespace crosses the box:
//!
//! - ether to ether: ether1 and ether2 in one bridge, namespace A to namespace B;
//! - ether to vif: ether1 and the `netguest` guest's vif in one bridge, namespace A to the
//!   guest's MAC (the guest's UDP stack drops the datagrams; its own work is not counted).
//!
//! For 64- and 1514-byte frames it prints the instructions the hypervisor spent in its receive
//! pass (`vmm::ether::receive_from_ports`: the driver's receive poll, the switch, the copy into
//! the other port's transmit ring or the guest's RX buffer, the doorbells, and the passes that
//! found nothing meanwhile) per frame taken from a port, read from the kernel's counters
//! (`__hv_ether_frames`, `__hv_ether_ticks`) through the QEMU monitor, and how many frames
//! reached the far side. Interrupt entry and exit are outside the pass and not counted.
//!
//! Run as `net-bench netpeer ...`, it is the namespaces' traffic program
//! (`qemu_tests::netpeer`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::image::{self, symbol};
use qemu_tests::monitor::Monitor;
use qemu_tests::netlab::NetLab;
use qemu_tests::qemu::Nic;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(120);
const ADDR_A: &str = "10.78.0.1";
const ADDR_B: &str = "10.78.0.2";
const ADDR_GUEST: &str = "10.78.0.3";
/// Instructions per CP0 Count tick under `-icount shift=0` (Count runs at half the 320 MHz
/// clock QEMU's malta gives the CPU; a nanosecond per instruction).
const INSTRUCTIONS_PER_TICK: f64 = 6.25;
/// UDP payloads for 64- and 1514-byte frames (with the FCS: 64 and 1518 on the wire).
const SIZES: [(usize, usize); 2] = [(64, 18), (1514, 1472)];

/// Kernel counters read through the monitor.
struct Counters {
    /// Passes, frames, ticks at the last read.
    last: [u64; 3],
    /// Where the kernel keeps them.
    at: [u64; 3],
}

impl Counters {
    fn read_u32(monitor: &mut Monitor, va: u64) -> u32 {
        let bytes = monitor
            .read_physical(va & 0x1FFF_FFFF, 4)
            .unwrap_or_else(|e| panic!("monitor: {e}"));
        u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    /// Passes, frames and ticks since the last read (the kernel's counters wrap at 32 bits).
    fn delta(&mut self, monitor: &mut Monitor) -> [u64; 3] {
        let now = self.at.map(|va| u64::from(Self::read_u32(monitor, va)));
        let d = [0, 1, 2].map(|i| now[i].wrapping_sub(self.last[i]) & 0xFFFF_FFFF);
        self.last = now;
        d
    }
}

/// Received packets on `dev` in namespace `ns` (`/sys/class/net/DEV/statistics/rx_packets`).
fn rx_packets(ns: &str, dev: &str) -> u64 {
    let mut cmd = NetLab::command(ns, "cat");
    cmd.arg(format!("/sys/class/net/{dev}/statistics/rx_packets"));
    let out = cmd.output().expect("cat");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

fn netpeer(ns: &str, args: &[&str]) -> String {
    let me = std::env::current_exe().expect("this program");
    let mut cmd = NetLab::command(ns, &me.display().to_string());
    cmd.arg("netpeer").args(args);
    let out = cmd.stderr(Stdio::inherit()).output().expect("netpeer");
    assert!(out.status.success(), "netpeer {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ping(ns: &str, to: &str) {
    let out = NetLab::command(ns, "ping")
        .args(["-c", "3", "-i", "0.2", "-W", "2", to])
        .output()
        .expect("ping");
    assert!(
        out.status.success(),
        "ping {to} from {ns}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Flood `count` frames of each size from namespace `from` to `to`, and print what they cost.
#[allow(clippy::too_many_arguments)]
fn measure(
    path: &str,
    monitor: &mut Monitor,
    counters: &mut Counters,
    from: &str,
    to: &str,
    far: Option<(&str, &str)>,
    count: u64,
) {
    for (frame, payload) in SIZES {
        let before = far.map(|(ns, dev)| rx_packets(ns, dev));
        counters.delta(monitor);
        let out = netpeer(
            from,
            &[
                "flood",
                &format!("{to}:9"),
                &payload.to_string(),
                &count.to_string(),
            ],
        );
        std::thread::sleep(Duration::from_millis(500));
        let [passes, frames, ticks] = counters.delta(monitor);
        let arrived = match (far, before) {
            (Some((ns, dev)), Some(b)) => format!("{}", rx_packets(ns, dev) - b),
            _ => "-".into(),
        };
        let per = ticks as f64 * INSTRUCTIONS_PER_TICK / frames.max(1) as f64;
        let batch = frames as f64 / passes.max(1) as f64;
        let ms = out.split_whitespace().nth(2).unwrap_or("?");
        println!(
            "{path:<14} {frame:>5} {count:>7} {frames:>9} {arrived:>8} {batch:>11.1} {per:>12.0}   (flood took {ms} ms)"
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("netpeer") {
        if let Err(e) = qemu_tests::netpeer::run(&args[1..]) {
            eprintln!("netpeer: {e}");
            std::process::exit(1);
        }
        return;
    }
    let count: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    if let Err(e) = run(count) {
        eprintln!("net-bench: {e}");
        std::process::exit(1);
    }
}

fn run(count: u64) -> Result<(), String> {
    let img = image::build_once(Board::QemuMalta)?;
    let elf = std::fs::read(&img.elf).map_err(|e| format!("{}: {e}", img.elf.display()))?;
    let va = |name: &str| {
        symbol(&elf, name)
            .map(u64::from)
            .ok_or(format!("no symbol {name} in the image"))
    };
    let mut counters = Counters {
        last: [0; 3],
        at: [
            va("__hv_ether_passes")?,
            va("__hv_ether_frames")?,
            va("__hv_ether_ticks")?,
        ],
    };
    let built = guests::build_once()?;
    let dir: PathBuf = std::env::temp_dir().join(format!("mr-net-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let store = dir.join("files.bin");
    build_store(&[built.archive("netguest")], &store)?;

    let mut lab = NetLab::new(7);
    let tap_a = lab.tap("ta")?;
    let tap_b = lab.tap("tb")?;
    let ns_a = lab.namespace("na")?;
    let ns_b = lab.namespace("nb")?;
    let socket = dir.join("monitor.sock");
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.nics = vec![Nic::Tap(tap_a.clone()), Nic::Tap(tap_b.clone())];
        c.files = Some(store.clone());
        c.extra = Monitor::qemu_args(&socket);
        c.extra.extend(["-icount".into(), "shift=0".into()]);
    });
    s.login(BOOT);
    lab.move_into(&tap_a, &ns_a, &format!("{ADDR_A}/24"))?;
    lab.move_into(&tap_b, &ns_b, &format!("{ADDR_B}/24"))?;
    let mut monitor = Monitor::connect(&socket, &dir)?;

    println!("net-bench: QEMU malta, -icount shift=0, two e1000 on taps, {count} frames a run");
    println!(
        "{:<14} {:>5} {:>7} {:>9} {:>8} {:>11} {:>12}",
        "path", "bytes", "sent", "taken", "arrived", "frames/pass", "instr/frame"
    );
    for line in [
        "/interface bridge add name=bridge1",
        "/interface bridge port add interface=ether1 bridge=bridge1",
        "/interface bridge port add interface=ether2 bridge=bridge1",
    ] {
        s.command(line, PROMPT);
    }
    ping(&ns_a, ADDR_B);
    measure(
        "ether-to-ether",
        &mut monitor,
        &mut counters,
        &ns_a,
        ADDR_B,
        Some((&ns_b, &tap_b)),
        count,
    );

    // ether1 and the guest's vif alone in a second bridge.
    for line in [
        "/interface bridge port remove [find interface=ether1]",
        "/interface bridge add name=bridge2",
        "/interface bridge port add interface=ether1 bridge=bridge2",
        "/metarouter import-image file-name=netguest.tgz name=n1",
        "/metarouter interface add virtual-machine=n1 dynamic-bridge=bridge2",
    ] {
        s.command(line, PROMPT);
    }
    guest_address(&mut s);
    ping(&ns_a, ADDR_GUEST);
    measure(
        "ether-to-vif",
        &mut monitor,
        &mut counters,
        &ns_a,
        ADDR_GUEST,
        None,
        count,
    );
    let stats = s.command("/interface print stats", PROMPT);
    println!("{stats}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Give the guest its address on its console.
fn guest_address(s: &mut Session) {
    s.send_line("/metarouter console n1");
    std::thread::sleep(Duration::from_secs(3));
    s.send_line("");
    s.expect_within("netguest> ", Duration::from_secs(60));
    s.send_line(&format!("ip {ADDR_GUEST}/24"));
    s.expect("netguest> ");
    // Ctrl-A then Q leaves the console.
    s.send_bytes(&[0x01, b'q']);
    s.expect_within(PROMPT, Duration::from_secs(10));
}
