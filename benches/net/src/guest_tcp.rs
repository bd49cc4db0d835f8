//! `net-bench --guests [BYTES] [--real-time]`: TCP between two guests through the switch, as a
//! ratio to the same transfer over a loopback inside one guest.
//!
//! QEMU malta (with `-icount shift=0` unless `--real-time`: the guests' clocks then count
//! instructions, so "one CPU shared" is exact and the host's load does not show), two
//! `netguest`s with a vif each in `br1` (10.0.0.1/24 and 10.0.0.2/24). The first listens
//! (`tcp-listen`); it runs `tcp-loop BYTES` three times (two smoltcp sockets over an in-guest
//! frame ring with the vif's settings), then the second runs `tcp-send 10.0.0.1 BYTES` three
//! times. Both rates are the guests' own figures (from the connect to the acknowledgement of
//! the close, in the guest's clock); the medians and their ratio are printed, with the
//! hypervisor's scheduling counters over the guest-to-guest runs.

use std::collections::HashMap;
use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::image::{self, symbols};
use qemu_tests::monitor::Monitor;
use qemu_tests::session::{Session, PROMPT};

use crate::trace;

const RUNS: usize = 3;
const PORT: u16 = 5001;

/// The rate in Mbit/s and the seconds of a guest's `tcp-...: bytes=N time=S rate=R` line,
/// checking the bytes.
pub fn parse_rate(out: &str, tag: &str, bytes: u64) -> Result<(f64, f64), String> {
    let line = out
        .lines()
        .find(|l| l.contains(&format!("{tag}: bytes=")))
        .ok_or(format!("no result line from {tag}:\n{out}"))?;
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .ok_or(format!("no {name} in {line}"))
    };
    let got: u64 = field("bytes=")?
        .parse()
        .map_err(|_| format!("bad bytes in {line}"))?;
    if got != bytes {
        return Err(format!("{tag} carried {got} bytes, not {bytes}: {line}"));
    }
    let secs: f64 = field("time=")?
        .trim_end_matches('s')
        .parse()
        .map_err(|_| format!("bad time in {line}"))?;
    Ok((bytes as f64 * 8.0 / secs / 1e6, secs))
}

/// CP0 Count ticks per second on QEMU malta (half the 320 MHz CPU clock).
const COUNT_HZ: f64 = 160e6;

/// The kernel's counters read through the monitor: idle ticks (`__hv_idle_ticks`), main
/// loop passes (`__hv_loop_passes`) and guest turns (`__hv_guest_turns`).
struct KernelCounters {
    at: [u64; 3],
    last: [u32; 3],
}

impl KernelCounters {
    fn new(monitor: &mut Monitor) -> Result<Self, String> {
        let img = image::build_once(Board::QemuMalta)?;
        let elf = std::fs::read(&img.elf).map_err(|e| format!("{}: {e}", img.elf.display()))?;
        let va = |name: &str| {
            image::symbol(&elf, name)
                .map(u64::from)
                .ok_or(format!("no {name} in the image"))
        };
        let mut me = Self {
            at: [
                va("__hv_idle_ticks")?,
                va("__hv_loop_passes")?,
                va("__hv_guest_turns")?,
            ],
            last: [0; 3],
        };
        me.delta(monitor)?;
        Ok(me)
    }

    /// Seconds idle, loop passes and guest turns since the last read.
    fn delta(&mut self, monitor: &mut Monitor) -> Result<(f64, u32, u32), String> {
        let mut d = [0u32; 3];
        for ((va, last), d) in self.at.iter().zip(&mut self.last).zip(&mut d) {
            let b = monitor.read_physical(va & 0x1FFF_FFFF, 4)?;
            let now = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            *d = now.wrapping_sub(*last);
            *last = now;
        }
        Ok((f64::from(d[0]) / COUNT_HZ, d[1], d[2]))
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Attach to `vm`'s console, type `line`, wait for `until`, detach; what came before `until`
/// and the line it ends.
pub fn on_console(s: &mut Session, vm: &str, line: &str, until: &str, timeout: Duration) -> String {
    s.send_line(&format!("/metarouter console {vm}"));
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line(line);
    let mut out = s.expect_within(until, timeout);
    out.push_str(until);
    out.push_str(&s.expect_within("\n", Duration::from_secs(10)));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    out
}

/// Boot malta with two netguests in one bridge, addressed, the first listening on [`PORT`].
pub fn two_netguests(tag: &str, extra: &[&str]) -> Result<Session, String> {
    let built = guests::build_once()?;
    let dir = std::env::temp_dir().join(format!("mr-net-guests-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let store = dir.join("files.bin");
    build_store(&[built.archive("netguest")], &store)?;
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.files = Some(store);
        c.memory_mib = 256;
        c.extra = extra.iter().map(|a| a.to_string()).collect();
    });
    s.login(Duration::from_secs(300));
    s.command("/interface bridge add name=br1", PROMPT);
    for n in 1..=2 {
        s.command(
            &format!("/metarouter import-image file-name=netguest.tgz name=n{n}"),
            PROMPT,
        );
        s.command(
            &format!("/metarouter interface add virtual-machine=n{n} dynamic-bridge=br1"),
            PROMPT,
        );
    }
    for n in 1..=2 {
        let mut tries = 0;
        while !s
            .command("/metarouter print", PROMPT)
            .lines()
            .any(|l| l.contains(&format!("n{n}")) && l.trim_end().ends_with("running"))
        {
            tries += 1;
            if tries > 100 {
                return Err(format!("n{n} is not running:\n{}", s.transcript()));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        on_console(
            &mut s,
            &format!("n{n}"),
            &format!("ip 10.0.0.{n}/24"),
            &format!("address=10.0.0.{n}/24"),
            Duration::from_secs(60),
        );
    }
    on_console(
        &mut s,
        "n1",
        &format!("tcp-listen {PORT}"),
        "tcp-listen: listening",
        Duration::from_secs(60),
    );
    Ok(s)
}

/// `--guests --trace [BYTES]`: both transfers (default 256 KiB) under QEMU's trace
/// (`-d in_asm,exec,nochain` switched on through the monitor for each transfer, no `-icount`,
/// see [`crate::trace`]); prints the instructions per KiB carried of each function of the
/// hypervisor and of the guest (one image for both guests), guest-to-guest beside loopback.
pub fn run_trace(bytes: u64) -> Result<(), String> {
    let img = image::build_once(Board::QemuMalta)?;
    let built = guests::build_once()?;
    let mut syms = Vec::new();
    for (elf, tag) in [(img.elf.clone(), "hv"), (built.elf("netguest"), "guest")] {
        let bytes = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
        let found = symbols(&bytes).ok_or(format!("no symbols in {}", elf.display()))?;
        syms.extend(
            found
                .into_iter()
                .map(|(n, a, l)| (format!("{tag}:{n}"), a, l)),
        );
    }
    let dir = std::env::temp_dir().join(format!("mr-net-guests-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let log = dir.join("qemu.log");
    let socket = dir.join("monitor.sock");
    let mut extra = Monitor::qemu_args(&socket);
    extra.extend(["-d", "in_asm,nochain", "-D"].map(String::from));
    extra.push(log.display().to_string());
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let mut s = two_netguests("trace", &extra)?;
    let mut monitor = Monitor::connect(&socket, &dir)?;
    let timeout = Duration::from_secs(1800);
    let mut charged = Vec::new();
    for (vm, line, tag) in [
        ("n1", format!("tcp-loop {bytes}"), "tcp-loop: "),
        (
            "n2",
            format!("tcp-send 10.0.0.1 {PORT} {bytes}"),
            "tcp-send: ",
        ),
    ] {
        monitor.command("log in_asm,exec,nochain")?;
        let out = on_console(&mut s, vm, &line, tag, timeout);
        monitor.command("log in_asm,nochain")?;
        parse_rate(&out, tag.trim_end_matches(": "), bytes)?;
        let text = std::fs::read_to_string(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        charged.push(trace::analyse(&text, &syms));
    }
    drop(s);
    let kib = bytes as f64 / 1024.0;
    let looped: HashMap<String, u64> = charged[0].functions.iter().cloned().collect();
    let mut between: Vec<(String, u64)> = charged[1]
        .functions
        .iter()
        .map(|(f, n)| (f.clone(), n - looped.get(f).copied().unwrap_or(0)))
        .collect();
    between.sort_by_key(|f| std::cmp::Reverse(f.1));
    let total = |v: &[(String, u64)]| v.iter().map(|f| f.1).sum::<u64>() as f64 / kib;
    println!(
        "net-bench --guests --trace: {bytes} bytes each way; instructions per KiB carried: \
         guest-to-guest {:.0}, loopback {:.0} (console attach and shell included)",
        total(&between),
        charged[0].total as f64 / kib
    );
    println!("{:>10} {:>10}  function", "g-to-g", "loopback");
    let shown: Vec<&(String, u64)> = between.iter().take(50).collect();
    let raw: Vec<(String, u64)> = shown
        .iter()
        .map(|(n, c)| {
            (
                n.split_once(':').map_or(n.as_str(), |t| t.1).to_string(),
                *c,
            )
        })
        .collect();
    for ((name, n), (demangled, _)) in shown.iter().zip(trace::demangle_all(raw)) {
        let tag = name.split_once(':').map_or("", |t| t.0);
        let looped = looped.get(name).copied().unwrap_or(0);
        println!(
            "{:>10.1} {:>10.1}  {tag:<5} {demangled}",
            *n as f64 / kib,
            looped as f64 / kib
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The bench.
pub fn run(bytes: u64, real_time: bool) -> Result<(), String> {
    let extra: &[&str] = if real_time {
        &[]
    } else {
        &["-icount", "shift=0"]
    };
    let dir = std::env::temp_dir().join(format!("mr-net-guests-mon-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let socket = dir.join("monitor.sock");
    let mut all: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
    all.extend(Monitor::qemu_args(&socket));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let mut s = two_netguests("bench", &all)?;
    let mut monitor = Monitor::connect(&socket, &dir)?;
    let mut counters = KernelCounters::new(&mut monitor)?;
    let clock = if real_time {
        "real time (no -icount)"
    } else {
        "-icount shift=0 (guest time = instructions)"
    };
    println!(
        "net-bench --guests: QEMU malta, {clock}, two netguests in one bridge, {bytes} bytes a run, {RUNS} runs"
    );
    let timeout = Duration::from_secs(1200);
    let mut looped = Vec::new();
    for _ in 0..RUNS {
        let out = on_console(
            &mut s,
            "n1",
            &format!("tcp-loop {bytes}"),
            "tcp-loop: ",
            timeout,
        );
        let (idle_s, passes, turns) = counters.delta(&mut monitor)?;
        let (rate, secs) = parse_rate(&out, "tcp-loop", bytes)?;
        println!(
            "  loopback in n1:    {rate:>8.2} Mbit/s  ({secs:.6} s; box idle {:.1} ms, {passes} loop passes, {turns} guest turns)",
            idle_s * 1e3
        );
        looped.push(rate);
    }
    let mut between = Vec::new();
    for _ in 0..RUNS {
        let out = on_console(
            &mut s,
            "n2",
            &format!("tcp-send 10.0.0.1 {PORT} {bytes}"),
            "tcp-send: ",
            timeout,
        );
        let (idle_s, passes, turns) = counters.delta(&mut monitor)?;
        let (rate, secs) = parse_rate(&out, "tcp-send", bytes)?;
        println!(
            "  n2 to n1 (switch): {rate:>8.2} Mbit/s  ({secs:.6} s; box idle {:.1} ms, {passes} loop passes, {turns} guest turns)",
            idle_s * 1e3
        );
        between.push(rate);
    }
    let (l, b) = (median(looped), median(between));
    println!("loopback median        {l:>8.2} Mbit/s");
    println!("guest-to-guest median  {b:>8.2} Mbit/s");
    println!("ratio                  {:>8.3}", b / l);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_lines_are_parsed_and_checked() {
        let out = "x\r\ntcp-send: bytes=8388608 time=2.000000s rate=33.55Mbit/s\r\n";
        let (r, secs) = parse_rate(out, "tcp-send", 8 << 20).unwrap();
        assert!((r - 33.554432).abs() < 1e-6);
        assert_eq!(secs, 2.0);
        assert!(parse_rate(out, "tcp-send", 1).is_err());
        assert!(parse_rate(out, "tcp-loop", 8 << 20).is_err());
    }
}
