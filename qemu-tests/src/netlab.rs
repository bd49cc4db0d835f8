//! Real peers for the Ethernet ports: Linux network namespaces, each holding the host end of a
//! tap device that QEMU plugs a port into (`Nic::Tap`). Needs root (CI runs as root) and
//! `ip` (iproute2, installed by `tools/ensure-toolchain.sh`).
//!
//! [`NetLab`] creates taps and namespaces with names unique to the process and removes them
//! when dropped, also when a test fails (its panic unwinds through the drop). A tap is created
//! in the host's namespace so QEMU can open it by name; once QEMU holds it,
//! [`NetLab::move_into`] moves its host end into a namespace and gives it an address.
//! [`ping`], [`run_for`] and [`tcp_transfer`] run the peers' side of a test inside a namespace.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Taps and namespaces made for one test.
pub struct NetLab {
    tag: String,
    taps: Vec<String>,
    namespaces: Vec<String>,
}

fn run(args: &[&str]) -> Result<Output, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e} (is iproute2 installed?)", args.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out)
}

impl NetLab {
    /// A lab whose names start with `mr` and a tag unique to this process and `test`
    /// (interface names are at most 15 bytes).
    pub fn new(test: u8) -> NetLab {
        NetLab {
            tag: format!("mr{}{test}", std::process::id() % 100_000),
            taps: Vec::new(),
            namespaces: Vec::new(),
        }
    }

    /// The name of this lab's object `suffix` (a tap or a namespace).
    pub fn name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.tag)
    }

    /// Create tap `suffix` in the host's namespace; returns its name (for `Nic::Tap`).
    pub fn tap(&mut self, suffix: &str) -> Result<String, String> {
        let name = self.name(suffix);
        run(&["ip", "tuntap", "add", "dev", &name, "mode", "tap"])?;
        self.taps.push(name.clone());
        Ok(name)
    }

    /// Create namespace `suffix` with its loopback up; returns its name.
    pub fn namespace(&mut self, suffix: &str) -> Result<String, String> {
        let name = self.name(suffix);
        run(&["ip", "netns", "add", &name])?;
        self.namespaces.push(name.clone());
        run(&["ip", "-n", &name, "link", "set", "lo", "up"])?;
        Ok(name)
    }

    /// Move `tap` (held open by QEMU) into namespace `ns`, give it `cidr` and bring it up.
    pub fn move_into(&self, tap: &str, ns: &str, cidr: &str) -> Result<(), String> {
        run(&["ip", "link", "set", tap, "netns", ns])?;
        run(&["ip", "-n", ns, "addr", "add", cidr, "dev", tap])?;
        run(&["ip", "-n", ns, "link", "set", tap, "up"])?;
        Ok(())
    }

    /// Give `dev` in namespace `ns` the IPv6 address `cidr` at once (no duplicate address
    /// detection to wait for).
    pub fn add_ipv6(&self, ns: &str, dev: &str, cidr: &str) -> Result<(), String> {
        run(&[
            "ip", "-n", ns, "-6", "addr", "add", cidr, "dev", dev, "nodad",
        ])?;
        Ok(())
    }

    /// A command run inside namespace `ns`.
    pub fn command(ns: &str, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, program]);
        cmd
    }
}

/// Run `cmd` for at most `limit` (then kill it); its output.
pub fn run_for(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let end = Instant::now() + limit;
    while child.try_wait().expect("waiting").is_none() {
        if Instant::now() > end {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// `ping -c count` from namespace `ns` to `to` (IPv4 or IPv6); how many replies came back.
pub fn ping(ns: &str, to: &str, count: u32) -> u32 {
    let mut cmd = NetLab::command(ns, "ping");
    if to.contains(':') {
        cmd.arg("-6");
    }
    cmd.args(["-c", &count.to_string(), "-i", "0.2", "-W", "1", to]);
    let out = run_for(cmd, Duration::from_secs(u64::from(count) + 10));
    let text = String::from_utf8_lossy(&out.stdout);
    text.split(", ")
        .find_map(|part| part.strip_suffix(" received"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("ping printed no summary: {text}"))
}

/// A child process killed when the test ends.
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP transfer of `bytes` from namespace `a` to `to` (an address of namespace `b`, port
/// 5001) with the `netpeer` program at `netpeer`: checks that what arrived is what was sent;
/// Mbit/s.
pub fn tcp_transfer(netpeer: &str, a: &str, b: &str, to: &str, bytes: u64) -> f64 {
    let to = if to.contains(':') {
        format!("[{to}]:5001")
    } else {
        format!("{to}:5001")
    };
    let mut sink = NetLab::command(b, netpeer);
    sink.args(["sink", &to]);
    let mut sink = Reaped(
        sink.stdout(Stdio::piped())
            .spawn()
            .expect("starting the sink"),
    );
    let mut send = NetLab::command(a, netpeer);
    send.args(["send", &to, &bytes.to_string()]);
    let sent = run_for(send, Duration::from_secs(120));
    let sent_text = String::from_utf8_lossy(&sent.stdout).into_owned();
    assert!(
        sent.status.success(),
        "send: {sent_text} {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let mut received = String::new();
    std::io::Read::read_to_string(sink.0.stdout.as_mut().expect("piped"), &mut received)
        .expect("sink output");
    let sent_words: Vec<&str> = sent_text.split_whitespace().collect();
    let received_words: Vec<&str> = received.split_whitespace().collect();
    assert_eq!(
        received_words.get(1..),
        sent_words.get(1..3),
        "what arrived is what was sent"
    );
    let ms: f64 = sent_words[3].parse().expect("milliseconds");
    bytes as f64 * 8.0 / (ms / 1000.0) / 1e6
}

impl Drop for NetLab {
    fn drop(&mut self) {
        // A namespace's taps go with it (QEMU's end closes when it exits); delete both anyway.
        for ns in &self.namespaces {
            let _ = run(&["ip", "netns", "del", ns]);
        }
        for tap in &self.taps {
            let _ = Command::new("ip").args(["link", "del", tap]).output();
        }
    }
}
