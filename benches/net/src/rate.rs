//! Real time, without `-icount`: the highest rate of 64-byte UDP frames namespace A can send
//! through the box to namespace B with under 1% lost, TCP throughput on the same path, and
//! where the host's CPU time goes meanwhile (QEMU's threads; the hypervisor's share of the
//! vCPU's time in its receive passes).

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use qemu_tests::netlab::NetLab;

/// One trial's length.
const TRIAL: Duration = Duration::from_secs(2);
/// The loss the rate must stay under.
const MAX_LOSS: f64 = 0.01;
/// Where the search starts, and the most it tries.
const START_PPS: u64 = 10_000;
const MAX_PPS: u64 = 640_000;

/// Where the frames go: the far namespace and its tap (whose received-packets counter counts
/// what arrived).
pub struct Path<'a> {
    pub from: &'a str,
    pub to_ns: &'a str,
    pub to_dev: &'a str,
    pub to_addr: &'a str,
    /// The QEMU process.
    pub qemu: u32,
}

/// One trial at a fixed rate.
#[derive(Clone, Copy, Debug)]
pub struct Trial {
    pub asked_pps: u64,
    pub sent: u64,
    pub arrived: u64,
    pub seconds: f64,
    /// Host CPU seconds of QEMU's threads during the trial: (vCPU threads, the others).
    pub cpu: (f64, f64),
}

impl Trial {
    pub fn loss(&self) -> f64 {
        1.0 - self.arrived as f64 / self.sent.max(1) as f64
    }
    pub fn sent_pps(&self) -> f64 {
        self.sent as f64 / self.seconds
    }
}

/// CPU seconds of each thread of process `pid`: (vCPU threads, the others). QEMU names its
/// TCG vCPU threads `CPU n/TCG`.
pub fn thread_cpu(pid: u32) -> (f64, f64) {
    let ticks = 100.0; // USER_HZ
    let mut cpu = (0.0, 0.0);
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return cpu;
    };
    for task in tasks.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        // Fields after the command's closing parenthesis: utime and stime are 14 and 15.
        let after = stat.rsplit(')').next().unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let t = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<f64>().ok());
        let seconds = (t(14).unwrap_or(0.0) + t(15).unwrap_or(0.0)) / ticks;
        if comm.contains("TCG") || comm.starts_with("CPU ") {
            cpu.0 += seconds;
        } else {
            cpu.1 += seconds;
        }
    }
    cpu
}

/// Received packets on `dev` in namespace `ns`.
pub fn rx_packets(ns: &str, dev: &str) -> u64 {
    let mut cmd = NetLab::command(ns, "cat");
    cmd.arg(format!("/sys/class/net/{dev}/statistics/rx_packets"));
    let out = cmd.output().expect("cat");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

fn peer(ns: &str) -> std::process::Command {
    let me = std::env::current_exe().expect("this program");
    let mut cmd = NetLab::command(ns, &me.display().to_string());
    cmd.arg("netpeer");
    cmd
}

/// Send 64-byte frames at `pps` for one trial.
pub fn trial(path: &Path, pps: u64) -> Trial {
    let before = rx_packets(path.to_ns, path.to_dev);
    let cpu_before = thread_cpu(path.qemu);
    let out = peer(path.from)
        .args([
            "rate",
            &format!("{}:9", path.to_addr),
            "18",
            &pps.to_string(),
            &TRIAL.as_millis().to_string(),
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("netpeer rate");
    // Frames still in the box's rings.
    std::thread::sleep(Duration::from_millis(300));
    let arrived = rx_packets(path.to_ns, path.to_dev) - before;
    let cpu_after = thread_cpu(path.qemu);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace().skip(1);
    let sent = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    let millis: f64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(1.0);
    Trial {
        asked_pps: pps,
        sent,
        arrived: arrived.min(sent),
        seconds: millis / 1000.0,
        cpu: (cpu_after.0 - cpu_before.0, cpu_after.1 - cpu_before.1),
    }
}

/// Two trials at `pps`; the worse one (the host is shared: a rate counts as carried only when
/// it is carried twice).
fn confirmed(path: &Path, pps: u64, show: impl Fn(&Trial)) -> Trial {
    let first = trial(path, pps);
    show(&first);
    if first.loss() >= MAX_LOSS {
        return first;
    }
    let second = trial(path, pps);
    show(&second);
    if second.loss() > first.loss() || second.sent_pps() < first.sent_pps() {
        second
    } else {
        first
    }
}

/// The highest rate with under 1% loss in two trials running: doubling from [`START_PPS`]
/// until a rate fails (or the sender cannot keep up), then halving the interval four times.
/// Prints each trial.
pub fn search(path: &Path) -> Option<Trial> {
    let mut best: Option<Trial> = None;
    let mut failed = None;
    let mut pps = START_PPS;
    let show = |t: &Trial| {
        println!(
            "  asked {:>7} pps: sent {:>9.0} pps, loss {:>6.2}%, QEMU CPU vCPU {:.2} s other {:.2} s",
            t.asked_pps,
            t.sent_pps(),
            100.0 * t.loss(),
            t.cpu.0,
            t.cpu.1
        )
    };
    while pps <= MAX_PPS {
        let t = confirmed(path, pps, show);
        let kept_up = t.sent_pps() >= 0.9 * pps as f64;
        if t.loss() < MAX_LOSS && kept_up {
            best = Some(t);
            pps *= 2;
        } else {
            failed = Some(pps);
            break;
        }
    }
    let (mut low, mut high) = (best.map_or(0, |t| t.asked_pps), failed?);
    for _ in 0..4 {
        let mid = (low + high) / 2;
        let t = confirmed(path, mid, show);
        if t.loss() < MAX_LOSS && t.sent_pps() >= 0.9 * mid as f64 {
            best = Some(t);
            low = mid;
        } else {
            high = mid;
        }
    }
    best
}

/// TCP throughput from `from` to `to_addr` in `to_ns`: `bytes` through one connection, in
/// Mbit/s (the sender's time to the peer's close).
pub fn tcp(from: &str, to_ns: &str, to_addr: &str, bytes: u64) -> Result<f64, String> {
    let addr = format!("{to_addr}:5001");
    let mut sink: Child = peer(to_ns)
        .args(["sink", &addr])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("netpeer sink: {e}"))?;
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let out = peer(from)
        .args(["send", &addr, &bytes.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("netpeer send: {e}"))?;
    let elapsed = start.elapsed();
    let _ = sink.wait();
    if !out.status.success() {
        return Err("the TCP transfer failed".into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let millis: f64 = text
        .split_whitespace()
        .nth(3)
        .and_then(|w| w.parse().ok())
        .unwrap_or(elapsed.as_millis() as f64);
    Ok(bytes as f64 * 8.0 / (millis / 1000.0) / 1e6)
}

/// Where QEMU's host CPU time goes during `during` (run meanwhile), by `perf record` of the
/// QEMU process: each line of `perf report --sort dso` (share of samples, then where: the
/// translated guest code, i.e. the hypervisor, shows as QEMU's anonymous code buffer,
/// `[unknown]` or `[JIT]`; QEMU's own code, i.e. device emulation, the TCG runtime and its
/// main loop, as `qemu-system-mips`; the host kernel, i.e. the taps and system calls, as
/// `[kernel.kallsyms]`). `None` when `perf` cannot be run.
pub fn perf_profile<T>(
    pid: u32,
    dir: &std::path::Path,
    during: impl FnOnce() -> T,
) -> (T, Option<String>) {
    let data = dir.join("perf.data");
    let recorder = std::process::Command::new("perf")
        .args(["record", "-q", "-F", "999", "-p", &pid.to_string(), "-o"])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let result = during();
    let Ok(mut recorder) = recorder else {
        return (result, None);
    };
    // perf writes its data when interrupted.
    let _ = std::process::Command::new("kill")
        .args(["-INT", &recorder.id().to_string()])
        .status();
    let _ = recorder.wait();
    let report = std::process::Command::new("perf")
        .args(["report", "--stdio", "--sort", "dso", "-i"])
        .arg(&data)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    let lines = report.map(|r| {
        r.lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .take(8)
            .map(|l| format!("  {}\n", l.trim()))
            .collect::<String>()
    });
    (result, lines.filter(|l| !l.is_empty()))
}
