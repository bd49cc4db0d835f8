//! `net-bench --machine ppce500 [FRAMES] [--icount | --rate] [--e1000]`: the same
//! measurements on qemu-ppce500, whose two ports are eTSEC controllers on QEMU's platform bus
//! (with `--e1000`: two e1000 on its PCI bus, the driver malta uses), against the same two
//! namespaces.
//!
//! - Instructions per frame (`--icount`): ether to ether (bridged) and routed, 64 and 1514
//!   bytes, from the same kernel counters as on malta (`__hv_ether_*`, `__hv_route_ticks`),
//!   whose ticks are the e500's timebase: 400 MHz in QEMU's ppce500 device tree, so under
//!   `-icount shift=0` (a nanosecond per instruction) a tick is 2.5 instructions. A flood is
//!   sent in bursts of at most [`BURST`] frames, each waited out: QEMU 10's eTSEC model must
//!   never find its 1,024-slot receive ring full (it then ends QEMU with a segmentation fault;
//!   `boards/e500/src/ether.rs`), and a burst shorter than the ring cannot fill it. Ether to
//!   vif is not measured here (the ppce500 guests are built apart, `guests::build_e500*`).
//! - Real time (`--rate`, no `-icount`): the 64-byte UDP rate under 1% loss, bridged and
//!   routed, with [`rate::trial`]s in a search of its own ([`search`]); TCP over [`TCP_BYTES`]
//!   on eTSECs (not malta's 64 MiB, which can fill the ring), [`TCP_BYTES_E1000`] on e1000s.
//!   A rate past what the box carries may fill an eTSEC's ring and end QEMU: the search then
//!   stops, says so, and what follows runs on a fresh boot.

use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::image;
use qemu_tests::qemu::NicModel;

use super::{
    kernel_counters, netpeer, rate, route_through_the_box, scratch_dir, Counters, Rig, ADDR_B,
    ROUTED_B, SIZES,
};

/// Instructions per timebase tick under `-icount shift=0` (the tree's 400 MHz timebase).
const INSTRUCTIONS_PER_TICK: f64 = 2.5;
/// The timebase in real time (without `-icount`).
const TIMEBASE_HZ: f64 = 400e6;
/// The most frames sent at once: fewer than the eTSEC's 1,024 receive slots.
const BURST: u64 = 1_000;
/// The TCP transfer: 1 MiB, as the ppce500 port tests.
const TCP_BYTES: u64 = 1 << 20;
/// With e1000 ports, whose model has no such limit: malta's 64 MiB.
const TCP_BYTES_E1000: u64 = 64 << 20;
/// Where the rate search starts, and the most it tries.
const START_PPS: u64 = 10_000;
const MAX_PPS: u64 = 640_000;

/// Run the instruction counts, the rates, or both, with ports of `model`.
pub fn run(count: Option<u64>, icount: bool, rate: bool, model: NicModel) -> Result<(), String> {
    if icount || !rate {
        run_icount(count.unwrap_or(5_000), model)?;
    }
    if rate || !icount {
        rate_on(false, model)?;
        rate_on(true, model)?;
    }
    Ok(())
}

/// The ports' device, as the output names it.
fn device(model: NicModel) -> &'static str {
    match model {
        NicModel::Board => "eTSEC",
        NicModel::E1000 => "e1000",
    }
}

fn counters() -> Result<Counters, String> {
    let img = image::build_once(Board::QemuPpce500)?;
    let elf = std::fs::read(&img.elf).map_err(|e| format!("{}: {e}", img.elf.display()))?;
    let mut counters = kernel_counters(&elf)?;
    counters.per_tick = INSTRUCTIONS_PER_TICK;
    Ok(counters)
}

/// Flood `count` frames of each size, in bursts, from A to `to` (B's tap counts arrivals).
fn measure(rig: &mut Rig, counters: &mut Counters, path: &str, to: &str, count: u64) {
    for (frame, payload) in SIZES {
        let before = rate::rx_packets(&rig.ns_b, &rig.tap_b);
        counters.delta(&mut rig.monitor);
        let mut left = count;
        let mut ms = 0;
        while left > 0 {
            let n = left.min(BURST);
            let out = netpeer(
                &rig.ns_a,
                &[
                    "flood",
                    &format!("{to}:9"),
                    &payload.to_string(),
                    &n.to_string(),
                ],
            );
            ms += out
                .split_whitespace()
                .nth(2)
                .and_then(|w| w.parse::<u64>().ok())
                .unwrap_or(0);
            left -= n;
            // The box drains its ring before the next burst.
            std::thread::sleep(Duration::from_millis(700));
        }
        let [passes, frames, ticks, route] = counters.delta(&mut rig.monitor);
        let arrived = rate::rx_packets(&rig.ns_b, &rig.tap_b) - before;
        let per = (ticks + route) as f64 * counters.per_tick / frames.max(1) as f64;
        let routing = route as f64 * counters.per_tick / frames.max(1) as f64;
        let batch = frames as f64 / passes.max(1) as f64;
        println!(
            "{path:<14} {frame:>5} {count:>7} {frames:>9} {arrived:>8} {batch:>11.1} {per:>12.0} {routing:>10.0}   (bursts took {ms} ms)"
        );
    }
}

fn run_icount(count: u64, model: NicModel) -> Result<(), String> {
    let mut counters = counters()?;
    let dir = scratch_dir()?;
    let mut rig = Rig::boot_on(
        Board::QemuPpce500,
        model,
        10,
        &dir,
        None,
        &["-icount", "shift=0"],
        false,
    )?;
    println!(
        "net-bench: QEMU ppce500, -icount shift=0, two {} on taps, {count} frames a run \
         (bursts of {BURST})",
        device(model)
    );
    println!(
        "{:<14} {:>5} {:>7} {:>9} {:>8} {:>11} {:>12} {:>10}",
        "path", "bytes", "sent", "taken", "arrived", "frames/pass", "instr/frame", "of it routing"
    );
    measure(&mut rig, &mut counters, "ether-to-ether", ADDR_B, count);
    for line in [
        "/interface bridge port remove [find interface=ether1]",
        "/interface bridge port remove [find interface=ether2]",
    ] {
        rig.s.command(line, qemu_tests::session::PROMPT);
    }
    {
        let Rig {
            s,
            ns_a,
            ns_b,
            tap_a,
            tap_b,
            ..
        } = &mut rig;
        route_through_the_box(s, ns_a, tap_a, ns_b, tap_b)?;
    }
    measure(&mut rig, &mut counters, "routed", ROUTED_B, count);
    let stats = rig
        .s
        .command("/interface print stats", qemu_tests::session::PROMPT);
    println!("{stats}");
    drop(rig);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Whether process `pid` still runs.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// What the search found: the highest rate carried, the first not carried, and whether QEMU
/// ended during the search (and how).
struct Search {
    best: Option<rate::Trial>,
    failed: Option<u64>,
    ended: Option<String>,
}

/// From [`START_PPS`], a quarter more each step while two trials running lose under 1% (and
/// the sender keeps up); stops at the first rate not carried or when QEMU ends. Finer steps
/// than malta's doubling and no bisection past a failure: every failure may fill the eTSEC's
/// ring and end QEMU.
fn search(rig: &mut Rig, path: &rate::Path) -> Search {
    let mut found = Search {
        best: None,
        failed: None,
        ended: None,
    };
    let mut pps = START_PPS;
    'rates: while pps <= MAX_PPS {
        let mut worse: Option<rate::Trial> = None;
        for _ in 0..2 {
            let t = rate::trial(path, pps);
            if !alive(path.qemu) {
                let status = rig.s.wait_exit(Duration::from_secs(5));
                println!("  asked {pps:>7} pps: QEMU ended during the trial");
                found.ended = Some(format!("at {pps} pps ({status})"));
                found.failed = Some(pps);
                break 'rates;
            }
            println!(
                "  asked {:>7} pps: sent {:>9.0} pps, loss {:>6.2}%, QEMU CPU vCPU {:.2} s other {:.2} s",
                t.asked_pps,
                t.sent_pps(),
                100.0 * t.loss(),
                t.cpu.0,
                t.cpu.1
            );
            if t.loss() >= 0.01 || t.sent_pps() < 0.9 * pps as f64 {
                found.failed = Some(pps);
                break 'rates;
            }
            if worse.is_none_or(|w| t.loss() > w.loss()) {
                worse = Some(t);
            }
        }
        found.best = worse;
        pps += pps / 4;
    }
    found
}

/// The path from A to B (at `to`) through `rig`'s box.
fn path_of<'a>(rig: &'a Rig, to: &'a str) -> rate::Path<'a> {
    rate::Path {
        from: &rig.ns_a,
        to_ns: &rig.ns_b,
        to_dev: &rig.tap_b,
        to_addr: to,
        qemu: rig.s.pid(),
    }
}

/// The highest 64-byte rate under 1% loss and TCP, bridged or `routed`.
fn rate_on(routed: bool, model: NicModel) -> Result<(), String> {
    let mut counters = counters()?;
    let dir = scratch_dir()?;
    let boot = || Rig::boot_on(Board::QemuPpce500, model, 11, &dir, None, &[], routed);
    let mut rig = boot()?;
    let to = if routed { ROUTED_B } else { ADDR_B };
    let how = if routed { "routed" } else { "bridged" };
    println!(
        "\nnet-bench: QEMU ppce500, real time (no -icount), ether1 to ether2 {how} ({}), \
         64-byte UDP, 2 s a trial",
        device(model)
    );
    let (ns_a, ns_b, tap_b, pid) = (
        rig.ns_a.clone(),
        rig.ns_b.clone(),
        rig.tap_b.clone(),
        rig.s.pid(),
    );
    let found = search(
        &mut rig,
        &rate::Path {
            from: &ns_a,
            to_ns: &ns_b,
            to_dev: &tap_b,
            to_addr: to,
            qemu: pid,
        },
    );
    if let Some(how) = &found.ended {
        println!(
            "QEMU ended {how}: its eTSEC model fails once its receive ring fills \
             (boards/e500/src/ether.rs); a fresh boot for what follows"
        );
        drop(rig);
        rig = boot()?;
    } else if let Some(pps) = found.failed {
        println!("not carried: {pps} pps");
    }
    match found.best {
        Some(t) => {
            println!(
                "highest rate under 1% loss: {:.0} frames/s ({:.2}% lost; steps of a quarter)",
                t.arrived as f64 / t.seconds,
                100.0 * t.loss()
            );
            counters.delta(&mut rig.monitor);
            let again = rate::trial(&path_of(&rig, to), t.asked_pps);
            let [passes, frames, ticks, route] = counters.delta(&mut rig.monitor);
            println!(
                "at {} pps again: {:.2}% lost; QEMU's vCPU thread {:.0}% of a host CPU, \
                 its other threads {:.0}%; the vCPU in receive passes {:.0}% of the time \
                 ({:.1} frames a pass)",
                t.asked_pps,
                100.0 * again.loss(),
                100.0 * again.cpu.0 / again.seconds,
                100.0 * again.cpu.1 / again.seconds,
                100.0 * (ticks + route) as f64 / TIMEBASE_HZ / again.seconds,
                frames as f64 / passes.max(1) as f64
            );
        }
        None => println!("no rate kept loss under 1%"),
    }
    let tcp_bytes = match model {
        NicModel::Board => TCP_BYTES,
        NicModel::E1000 => TCP_BYTES_E1000,
    };
    if alive(rig.s.pid()) {
        let mut runs = Vec::new();
        for _ in 0..3 {
            runs.push(rate::tcp(&rig.ns_a, &rig.ns_b, to, tcp_bytes)?);
        }
        let shown: Vec<String> = runs.iter().map(|m| format!("{m:.0}")).collect();
        runs.sort_by(f64::total_cmp);
        println!(
            "TCP {how}, {} MiB A to B, three runs: {} Mbit/s (median {:.0})",
            tcp_bytes >> 20,
            shown.join(", "),
            runs[1]
        );
    } else {
        println!("QEMU ended again: no TCP figure");
    }
    drop(rig);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
