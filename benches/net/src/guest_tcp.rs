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

use std::time::Duration;

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::session::{Session, PROMPT};

const RUNS: usize = 3;
const PORT: u16 = 5001;

/// The rate in Mbit/s of a guest's `tcp-...: bytes=N time=S rate=R` line, checking the bytes.
pub fn parse_rate(out: &str, tag: &str, bytes: u64) -> Result<f64, String> {
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
    Ok(bytes as f64 * 8.0 / secs / 1e6)
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

/// The bench.
pub fn run(bytes: u64, real_time: bool) -> Result<(), String> {
    let extra: &[&str] = if real_time {
        &[]
    } else {
        &["-icount", "shift=0"]
    };
    let mut s = two_netguests("bench", extra)?;
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
        let rate = parse_rate(&out, "tcp-loop", bytes)?;
        println!("  loopback in n1:    {rate:>8.2} Mbit/s");
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
        let rate = parse_rate(&out, "tcp-send", bytes)?;
        println!("  n2 to n1 (switch): {rate:>8.2} Mbit/s");
        between.push(rate);
    }
    let (l, b) = (median(looped), median(between));
    println!("loopback median        {l:>8.2} Mbit/s");
    println!("guest-to-guest median  {b:>8.2} Mbit/s");
    println!("ratio                  {:>8.3}", b / l);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_lines_are_parsed_and_checked() {
        let out = "x\r\ntcp-send: bytes=8388608 time=2.000000s rate=33.55Mbit/s\r\n";
        let r = parse_rate(out, "tcp-send", 8 << 20).unwrap();
        assert!((r - 33.554432).abs() < 1e-6);
        assert!(parse_rate(out, "tcp-send", 1).is_err());
        assert!(parse_rate(out, "tcp-loop", 8 << 20).is_err());
    }
}
