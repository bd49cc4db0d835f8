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
//! - routed: ether1 (10.79.1.1/24) and ether2 (10.79.2.1/24) in no bridge, namespace A
//!   (10.79.1.2) to namespace B (10.79.2.2) through the box's routing (`vmm::routed`: the
//!   forwarding path with the RIB's decision); the instructions also count the routing step
//!   (`__hv_route_ticks`).
//!
//! Then, in real time (no `-icount`), on a fresh boot with ether1 and ether2 bridged, and on
//! another with them routed: the highest 64-byte UDP rate from A to B with under 1% lost
//! ([`rate::search`]), TCP throughput A to B, and the host CPU time of QEMU's threads
//! meanwhile; routed, also the console's echo and a guest's ping on an idle box and while
//! the box forwards at that rate ([`responsive`]).
//!
//! `--icount` or `--rate` runs one of the two parts alone. `--machine ppce500` runs them on
//! qemu-ppce500 instead ([`ppce500`]: its eTSEC ports, ether to ether and routed). `net-bench
//! --trace [--routed | --vif] [FRAMES]` instead traces a 64-byte flood (ether to ether bridged,
//! or routed, or ether to the guest's vif) instruction by instruction (QEMU `-d
//! in_asm,exec,nochain`) and prints the instructions per frame of each function of the image
//! ([`trace`]), then frame by frame what a frame delivered into a guest's buffer costs; with
//! `NET_BENCH_KEEP_LOG` set to a path, QEMU's log is kept there (to see which block ran after
//! which: callers), and `net-bench --trace-log LOG ELF` analyses it again.
//!
//! `net-bench --guests [BYTES] [--real-time]` instead measures TCP between two guests through
//! the switch against the same transfer over a loopback inside one guest ([`guest_tcp`]).
//!
//! Run as `net-bench netpeer ...`, it is the namespaces' traffic program
//! (`qemu_tests::netpeer`).

mod guest_tcp;
mod ppce500;
mod rate;
mod responsive;
mod trace;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::image::{self, symbol, symbols};
use qemu_tests::monitor::Monitor;
use qemu_tests::netlab::NetLab;
use qemu_tests::qemu::{Nic, NicModel, QemuConfig};
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(120);
const ADDR_A: &str = "10.78.0.1";
const ADDR_B: &str = "10.78.0.2";
const ADDR_GUEST: &str = "10.78.0.3";
/// The routed set-up: A's and B's addresses, and the box's on ether1 and ether2.
const ROUTED_A: &str = "10.79.1.2";
const ROUTED_B: &str = "10.79.2.2";
const ROUTED_BOX: [&str; 2] = [
    "/ip address add address=10.79.1.1/24 interface=ether1",
    "/ip address add address=10.79.2.1/24 interface=ether2",
];
/// Instructions per CP0 Count tick under `-icount shift=0` (Count runs at half the 320 MHz
/// clock QEMU's malta gives the CPU; a nanosecond per instruction).
const INSTRUCTIONS_PER_TICK: f64 = 6.25;
/// UDP payloads for 64- and 1514-byte frames (with the FCS: 64 and 1518 on the wire).
const SIZES: [(usize, usize); 2] = [(64, 18), (1514, 1472)];

/// Kernel counters read through the monitor.
struct Counters {
    /// Passes, frames, ticks, routing ticks at the last read.
    last: [u64; 4],
    /// Where the kernel keeps them.
    at: [u64; 4],
    /// Instructions per counter tick under `-icount shift=0`.
    per_tick: f64,
}

impl Counters {
    fn read_u32(monitor: &mut Monitor, va: u64) -> u32 {
        let bytes = monitor
            .read_physical(va & 0x1FFF_FFFF, 4)
            .unwrap_or_else(|e| panic!("monitor: {e}"));
        u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    /// Passes, frames, ticks and routing ticks since the last read (the kernel's counters
    /// wrap at 32 bits).
    fn delta(&mut self, monitor: &mut Monitor) -> [u64; 4] {
        let now = self.at.map(|va| u64::from(Self::read_u32(monitor, va)));
        let d = [0, 1, 2, 3].map(|i| now[i].wrapping_sub(self.last[i]) & 0xFFFF_FFFF);
        self.last = now;
        d
    }
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
        let before = far.map(|(ns, dev)| rate::rx_packets(ns, dev));
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
        let [passes, frames, ticks, route] = counters.delta(monitor);
        let arrived = match (far, before) {
            (Some((ns, dev)), Some(b)) => format!("{}", rate::rx_packets(ns, dev) - b),
            _ => "-".into(),
        };
        let per = (ticks + route) as f64 * counters.per_tick / frames.max(1) as f64;
        let routing = route as f64 * counters.per_tick / frames.max(1) as f64;
        let batch = frames as f64 / passes.max(1) as f64;
        let ms = out.split_whitespace().nth(2).unwrap_or("?");
        println!(
            "{path:<14} {frame:>5} {count:>7} {frames:>9} {arrived:>8} {batch:>11.1} {per:>12.0} {routing:>10.0}   (flood took {ms} ms)"
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
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let count = args.iter().find_map(|a| a.parse().ok());
    let machine = args
        .iter()
        .position(|a| a == "--machine")
        .map(|i| args.get(i + 1).map_or("", String::as_str));
    let done = if has("--guests") {
        let bytes = args
            .iter()
            .find_map(|a| a.parse().ok())
            .unwrap_or(8u64 << 20);
        if has("--trace") {
            guest_tcp::run_trace(
                args.iter()
                    .find_map(|a| a.parse().ok())
                    .unwrap_or(256 << 10),
            )
        } else {
            guest_tcp::run(bytes, has("--real-time"))
        }
    } else if let Some(machine) = machine {
        match machine {
            "malta" => Err("--machine malta is the default: leave it out".to_string()),
            "ppce500" if has("--trace") => Err("--trace runs on malta only".to_string()),
            "ppce500" => ppce500::run(
                count,
                has("--icount"),
                has("--rate"),
                if has("--e1000") {
                    NicModel::E1000
                } else {
                    NicModel::Board
                },
            ),
            "" => Err("--machine needs a machine: ppce500 (malta is the default)".to_string()),
            other => Err(format!(
                "--machine {other}: the machines are malta and ppce500"
            )),
        }
    } else if let Some(at) = args.iter().position(|a| a == "--trace-log") {
        analyse_kept_log(args.get(at + 1), args.get(at + 2))
    } else if has("--trace") {
        let path = if has("--routed") {
            TracePath::Routed
        } else if has("--vif") {
            TracePath::EtherToVif
        } else {
            TracePath::EtherToEther
        };
        run_trace(count.unwrap_or(2_000), path, has("--icount"))
    } else if has("--icount") {
        run(count.unwrap_or(20_000))
    } else if has("--rate") {
        run_rate()
    } else {
        run(count.unwrap_or(20_000)).and_then(|()| run_rate())
    };
    if let Err(e) = done {
        eprintln!("net-bench: {e}");
        std::process::exit(1);
    }
}

/// The kernel's per-pass counters in the image.
fn kernel_counters(elf: &[u8]) -> Result<Counters, String> {
    let va = |name: &str| {
        symbol(elf, name)
            .map(u64::from)
            .ok_or(format!("no symbol {name} in the image"))
    };
    Ok(Counters {
        last: [0; 4],
        at: [
            va("__hv_ether_passes")?,
            va("__hv_ether_frames")?,
            va("__hv_ether_ticks")?,
            va("__hv_route_ticks")?,
        ],
        per_tick: INSTRUCTIONS_PER_TICK,
    })
}

/// A booted box with ether1 and ether2 on taps in namespaces A and B, bridged in `bridge1`.
struct Rig {
    s: Session,
    monitor: Monitor,
    ns_a: String,
    ns_b: String,
    tap_a: String,
    tap_b: String,
    /// Removes the taps and namespaces when dropped.
    _lab: NetLab,
}

impl Rig {
    /// A box with A and B bridged (same subnet), or `routed` (A and B in two subnets, the box
    /// the gateway of each).
    fn boot(
        tag: u8,
        dir: &Path,
        files: Option<PathBuf>,
        extra: &[&str],
        routed: bool,
    ) -> Result<Rig, String> {
        Rig::boot_on(
            Board::QemuMalta,
            NicModel::Board,
            tag,
            dir,
            files,
            extra,
            routed,
        )
    }

    /// [`Rig::boot`] on `board` (qemu-malta or qemu-ppce500) with ports of `model`.
    fn boot_on(
        board: Board,
        model: NicModel,
        tag: u8,
        dir: &Path,
        files: Option<PathBuf>,
        extra: &[&str],
        routed: bool,
    ) -> Result<Rig, String> {
        let img = image::build_once(board)?;
        let mut lab = NetLab::new(tag);
        let tap_a = lab.tap("ta")?;
        let tap_b = lab.tap("tb")?;
        let ns_a = lab.namespace("na")?;
        let ns_b = lab.namespace("nb")?;
        let socket = dir.join(format!("monitor-{tag}.sock"));
        let mut config = QemuConfig::new(board, &img.image);
        // Thread names (`CPU 0/TCG`) for the CPU time of QEMU's threads.
        config.extra = vec!["-name".into(), "mr,debug-threads=on".into()];
        config.no_reboot = true;
        config.nics = vec![Nic::Tap(tap_a.clone()), Nic::Tap(tap_b.clone())];
        config.nic_model = model;
        config.files = files;
        config.extra.extend(Monitor::qemu_args(&socket));
        config.extra.extend(extra.iter().map(|a| a.to_string()));
        let cmd = config.command()?;
        let mut s = Session::start(&board.to_string(), cmd, Duration::from_secs(1800));
        s.login(BOOT);
        lab.move_into(&tap_a, &ns_a, &format!("{ADDR_A}/24"))?;
        lab.move_into(&tap_b, &ns_b, &format!("{ADDR_B}/24"))?;
        let monitor = Monitor::connect(&socket, dir)?;
        if routed {
            route_through_the_box(&mut s, &ns_a, &tap_a, &ns_b, &tap_b)?;
        } else {
            for line in [
                "/interface bridge add name=bridge1",
                "/interface bridge port add interface=ether1 bridge=bridge1",
                "/interface bridge port add interface=ether2 bridge=bridge1",
            ] {
                s.command(line, PROMPT);
            }
            ping(&ns_a, ADDR_B);
        }
        Ok(Rig {
            s,
            monitor,
            ns_a,
            ns_b,
            tap_a,
            tap_b,
            _lab: lab,
        })
    }
}

/// A and B in two subnets with the box as their gateway (ether1 and ether2 in no bridge).
fn route_through_the_box(
    s: &mut Session,
    ns_a: &str,
    tap_a: &str,
    ns_b: &str,
    tap_b: &str,
) -> Result<(), String> {
    for (ns, tap, addr, gw) in [
        (ns_a, tap_a, ROUTED_A, "10.79.1.1"),
        (ns_b, tap_b, ROUTED_B, "10.79.2.1"),
    ] {
        let cidr = format!("{addr}/24");
        for args in [
            &["ip", "addr", "add", cidr.as_str(), "dev", tap][..],
            &["ip", "route", "add", "10.79.0.0/16", "via", gw][..],
        ] {
            let out = NetLab::command(ns, args[0])
                .args(&args[1..])
                .output()
                .map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(format!(
                    "{args:?} in {ns}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    for line in ROUTED_BOX {
        s.command(line, PROMPT);
    }
    ping(ns_a, ROUTED_B);
    Ok(())
}

fn scratch_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("mr-net-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

fn run(count: u64) -> Result<(), String> {
    let img = image::build_once(Board::QemuMalta)?;
    let elf = std::fs::read(&img.elf).map_err(|e| format!("{}: {e}", img.elf.display()))?;
    let mut counters = kernel_counters(&elf)?;
    let built = guests::build_once()?;
    let dir = scratch_dir()?;
    let store = dir.join("files.bin");
    build_store(&[built.archive("netguest")], &store)?;
    let mut rig = Rig::boot(7, &dir, Some(store), &["-icount", "shift=0"], false)?;

    println!("net-bench: QEMU malta, -icount shift=0, two e1000 on taps, {count} frames a run");
    println!(
        "{:<14} {:>5} {:>7} {:>9} {:>8} {:>11} {:>12} {:>10}",
        "path", "bytes", "sent", "taken", "arrived", "frames/pass", "instr/frame", "of it routing"
    );
    let Rig {
        s,
        monitor,
        ns_a,
        ns_b,
        tap_a,
        tap_b,
        ..
    } = &mut rig;
    measure(
        "ether-to-ether",
        monitor,
        &mut counters,
        ns_a,
        ADDR_B,
        Some((ns_b, tap_b)),
        count,
    );

    bridge_the_guest(s, ns_a);
    measure(
        "ether-to-vif",
        monitor,
        &mut counters,
        ns_a,
        ADDR_GUEST,
        None,
        count,
    );
    // ether1 and ether2 out of the bridges, routed.
    for line in [
        "/interface bridge port remove [find interface=ether1]",
        "/interface bridge port remove [find interface=ether2]",
    ] {
        s.command(line, PROMPT);
    }
    route_through_the_box(s, ns_a, tap_a, ns_b, tap_b)?;
    measure(
        "routed",
        monitor,
        &mut counters,
        ns_a,
        ROUTED_B,
        Some((ns_b, tap_b)),
        count,
    );
    let stats = s.command("/interface print stats", PROMPT);
    println!("{stats}");
    drop(rig);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Real time: the highest 64-byte rate under 1% loss, and TCP, ether1 to ether2, bridged and
/// routed.
fn run_rate() -> Result<(), String> {
    rate_on(false)?;
    rate_on(true)
}

/// [`run_rate`] on one set-up.
fn rate_on(routed: bool) -> Result<(), String> {
    let img = image::build_once(Board::QemuMalta)?;
    let elf = std::fs::read(&img.elf).map_err(|e| format!("{}: {e}", img.elf.display()))?;
    let mut counters = kernel_counters(&elf)?;
    let dir = scratch_dir()?;
    let files = if routed {
        let built = guests::build_once()?;
        let store = dir.join("files.bin");
        build_store(&[built.archive("netguest")], &store)?;
        Some(store)
    } else {
        None
    };
    let mut rig = Rig::boot(8, &dir, files, &[], routed)?;
    if routed {
        // A guest on vif1 (10.0.1.2), the host at 10.0.1.1 there: what `/ping` reaches.
        for line in [
            "/metarouter import-image file-name=netguest.tgz name=n1",
            "/metarouter interface add virtual-machine=n1 type=dynamic",
            "/ip address add address=10.0.1.1/24 interface=vif1",
        ] {
            rig.s.command(line, PROMPT);
        }
        guest_address(&mut rig.s, "10.0.1.2");
    }
    let to = if routed { ROUTED_B } else { ADDR_B };
    let path = rate::Path {
        from: &rig.ns_a,
        to_ns: &rig.ns_b,
        to_dev: &rig.tap_b,
        to_addr: to,
        qemu: rig.s.pid(),
    };
    let how = if routed { "routed" } else { "bridged" };
    println!(
        "\nnet-bench: real time (no -icount), ether1 to ether2 {how}, 64-byte UDP, 2 s a trial"
    );
    let best = rate::search(&path);
    match best {
        Some(t) => {
            println!(
                "highest rate under 1% loss: {:.0} frames/s ({:.2}% lost)",
                t.arrived as f64 / t.seconds,
                100.0 * t.loss()
            );
            // Once more at that rate, with the hypervisor's own counters.
            counters.delta(&mut rig.monitor);
            let (again, profile) =
                rate::perf_profile(path.qemu, &dir, || rate::trial(&path, t.asked_pps));
            let [passes, frames, ticks, route] = counters.delta(&mut rig.monitor);
            let in_passes = (ticks + route) as f64 / 160e6 / again.seconds;
            println!(
                "at {} pps again: {:.2}% lost; QEMU's vCPU thread {:.0}% of a host CPU, its \
                 other threads {:.0}%; the vCPU in receive passes {:.0}% of the time \
                 ({:.1} frames a pass)",
                t.asked_pps,
                100.0 * again.loss(),
                100.0 * again.cpu.0 / again.seconds,
                100.0 * again.cpu.1 / again.seconds,
                100.0 * in_passes,
                frames as f64 / passes.max(1) as f64
            );
            match profile {
                Some(p) => {
                    println!("QEMU's host CPU time at that rate, by where it ran (perf):\n{p}")
                }
                None => println!("(perf could not be run: no profile of QEMU)"),
            }
        }
        None => println!("no rate kept loss under 1%"),
    }
    if let (true, Some(t)) = (routed, best) {
        let s = &mut rig.s;
        let idle = responsive::feel(s, "10.0.1.2");
        println!("console and guest on an idle box: {}", idle.line());
        let busy = responsive::under_load(s, "10.0.1.2", || {
            rate::trial(&path, t.asked_pps);
        });
        println!(
            "console and guest while forwarding {} pps: {}",
            t.asked_pps,
            busy.line()
        );
    }
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(rate::tcp(&rig.ns_a, &rig.ns_b, to, 64 << 20)?);
    }
    let shown: Vec<String> = runs.iter().map(|m| format!("{m:.0}")).collect();
    runs.sort_by(f64::total_cmp);
    println!(
        "TCP {how}, 64 MiB A to B, three runs: {} Mbit/s (median {:.0})",
        shown.join(", "),
        runs[1]
    );
    drop(rig);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// What `--trace` floods.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TracePath {
    /// ether1 to ether2, bridged.
    EtherToEther,
    /// ether1 to the guest's vif, bridged (`--vif`).
    EtherToVif,
    /// ether1 to ether2, routed (`--routed`).
    Routed,
}

/// Trace a 64-byte flood of `count` frames on `path` and print where the instructions go.
fn run_trace(count: u64, path: TracePath, icount: bool) -> Result<(), String> {
    let img = image::build_once(Board::QemuMalta)?;
    let elf = std::fs::read(&img.elf).map_err(|e| format!("{}: {e}", img.elf.display()))?;
    let mut counters = kernel_counters(&elf)?;
    let dir = scratch_dir()?;
    let log = dir.join("qemu.log");
    let log_arg = log.display().to_string();
    let mut extra = vec!["-d", "in_asm,nochain", "-D", &log_arg];
    if icount {
        extra.extend(["-icount", "shift=0"]);
    }
    let routed = path == TracePath::Routed;
    let files = if path == TracePath::EtherToVif {
        let built = guests::build_once()?;
        let store = dir.join("files.bin");
        build_store(&[built.archive("netguest")], &store)?;
        Some(store)
    } else {
        None
    };
    let mut rig = Rig::boot(9, &dir, files, &extra, routed)?;
    let to = match path {
        TracePath::EtherToEther => ADDR_B,
        TracePath::EtherToVif => {
            bridge_the_guest(&mut rig.s, &rig.ns_a);
            ADDR_GUEST
        }
        TracePath::Routed => ROUTED_B,
    };
    counters.delta(&mut rig.monitor);
    rig.monitor.command("log in_asm,exec,nochain")?;
    netpeer(
        &rig.ns_a,
        &["flood", &format!("{to}:9"), "18", &count.to_string()],
    );
    std::thread::sleep(Duration::from_millis(500));
    rig.monitor.command("log in_asm,nochain")?;
    let [passes, frames, ticks, route] = counters.delta(&mut rig.monitor);
    drop(rig);
    let text = std::fs::read_to_string(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let syms = symbols(&elf).ok_or("no symbol table in the image")?;
    let b = trace::analyse(&text, &syms);
    let per = |n: u64| n as f64 / frames.max(1) as f64;
    if icount {
        println!(
            "the kernel's counters meanwhile: {:.0} instructions per frame in the receive passes \
             and routing steps",
            (ticks + route) as f64 * INSTRUCTIONS_PER_TICK / frames.max(1) as f64
        );
    }
    println!(
        "net-bench trace: 64-byte {}, {frames} frames taken in {passes} passes; \
         {:.0} instructions per frame in all ({} block runs of unknown length)",
        match path {
            TracePath::EtherToEther => "ether-to-ether bridged",
            TracePath::EtherToVif => "ether-to-vif bridged",
            TracePath::Routed => "ether-to-ether routed",
        },
        per(b.total),
        b.unknown_blocks
    );
    for (name, n) in trace::demangle_all(b.functions).iter().take(40) {
        println!("{:>9.1}  {name}", per(*n));
    }
    print_passes(&text, &syms, Some(frames));
    // The log for a closer look (which block ran after which: callers), when asked for.
    if let Some(keep) = std::env::var_os("NET_BENCH_KEEP_LOG") {
        std::fs::copy(&log, &keep).map_err(|e| format!("{}: {e}", Path::new(&keep).display()))?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The receive passes of a trace (`trace::analyse_passes`) per frame of `frames` (by default
/// the walk's calls found in the log), then frame by frame ([`print_frames`]).
fn print_passes(text: &str, syms: &[trace::Symbol], frames: Option<u64>) {
    // Inside the receive passes that took frames only (found by the functions' demangled
    // names): what part 1 counts, less the guests' interrupts after the pass.
    let demangled: Vec<trace::Symbol> =
        trace::demangle_all(syms.iter().map(|s| (s.0.clone(), 0)).collect())
            .into_iter()
            .zip(syms)
            .map(|((name, _), s)| (name, s.1, s.2))
            .collect();
    let (inside, pass_count) = trace::analyse_passes(text, &demangled);
    let split = trace::analyse_frames(text, &demangled);
    let frames = frames.unwrap_or(split.delivered.frames + split.other.frames);
    let per = |n: u64| n as f64 / frames.max(1) as f64;
    println!(
        "inside the {pass_count} receive passes that took frames: {:.0} instructions per frame",
        per(inside.total)
    );
    for (name, n) in inside.functions.iter().take(25) {
        println!("{:>9.1}  {name}", per(*n));
    }
    print_frames(&split, inside.total);
}

/// `--trace-log LOG ELF`: the analysis of `--trace` again, of a log kept with
/// `NET_BENCH_KEEP_LOG` and the image (with its symbols) that ran it
/// (`target/cross/mips-mti-none-elf/firmware/hypervisor-qemu-malta`); per frame of the walk's
/// calls found in the log.
fn analyse_kept_log(log: Option<&String>, elf: Option<&String>) -> Result<(), String> {
    let (Some(log), Some(elf)) = (log, elf) else {
        return Err("--trace-log needs the kept log and the image's ELF".to_string());
    };
    let text = std::fs::read_to_string(log).map_err(|e| format!("{log}: {e}"))?;
    let elf = std::fs::read(elf).map_err(|e| format!("{elf}: {e}"))?;
    let syms = symbols(&elf).ok_or("no symbol table in the image")?;
    print_passes(&text, &syms, None);
    Ok(())
}

/// Frame by frame, what a frame delivered into a guest's buffer costs without the copy, and
/// what the others cost: the walk's call for each (from `trace::analyse_frames`), plus the
/// rest of the receive passes (`inside_total`, the passes' instructions, less all the calls:
/// the port's poll, the pass's fixed costs) shared among all the frames.
fn print_frames(split: &trace::FrameSplit, inside_total: u64) {
    let (delivered, other) = (&split.delivered, &split.other);
    let frames = delivered.frames + other.frames;
    if frames == 0 {
        return;
    }
    let each = |n: u64, of: u64| n as f64 / of.max(1) as f64;
    let rest = each(
        inside_total.saturating_sub(delivered.total + other.total),
        frames,
    );
    println!(
        "frame by frame: the walk's call (from the closure's entry back to the poll) for {} \
         frames delivered into a guest's buffer, {:.0} instructions each of which the copy {:.0}; \
         for {} others {:.0} each; the rest of the passes (the poll, the pass's share) {rest:.0} \
         per frame",
        delivered.frames,
        each(delivered.total, delivered.frames),
        each(delivered.copy, delivered.frames),
        other.frames,
        each(other.total, other.frames),
    );
    if delivered.frames > 0 {
        println!(
            "a frame delivered into a guest's buffer: {:.0} instructions without the copy \
             (with it {:.0}); its call by function:",
            each(delivered.total - delivered.copy, delivered.frames) + rest,
            each(delivered.total, delivered.frames) + rest,
        );
        for (name, n) in delivered.functions.iter().take(12) {
            println!("{:>9.1}  {name}", each(*n, delivered.frames));
        }
    }
    if other.frames > 0 {
        println!(
            "a frame not delivered into a guest's buffer (dropped at a vif for want of a buffer, or sent \
             out of a port, its copy included): {:.0} instructions; its call by function:",
            each(other.total, other.frames) + rest
        );
        for (name, n) in other.functions.iter().take(8) {
            println!("{:>9.1}  {name}", each(*n, other.frames));
        }
    }
}

/// ether1 and the `netguest` guest's vif alone in a second bridge, the guest at
/// [`ADDR_GUEST`] (the image must be in the box's files).
fn bridge_the_guest(s: &mut Session, ns_a: &str) {
    for line in [
        "/interface bridge port remove [find interface=ether1]",
        "/interface bridge add name=bridge2",
        "/interface bridge port add interface=ether1 bridge=bridge2",
        "/metarouter import-image file-name=netguest.tgz name=n1",
        "/metarouter interface add virtual-machine=n1 dynamic-bridge=bridge2",
    ] {
        s.command(line, PROMPT);
    }
    guest_address(s, ADDR_GUEST);
    ping(ns_a, ADDR_GUEST);
}

/// Give the guest `n1` its address (/24) on its console.
fn guest_address(s: &mut Session, address: &str) {
    s.send_line("/metarouter console n1");
    std::thread::sleep(Duration::from_secs(3));
    s.send_line("");
    s.expect_within("netguest> ", Duration::from_secs(60));
    s.send_line(&format!("ip {address}/24"));
    s.expect("netguest> ");
    // Ctrl-A then Q leaves the console.
    s.send_bytes(&[0x01, b'q']);
    s.expect_within(PROMPT, Duration::from_secs(10));
}
