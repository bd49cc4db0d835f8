//! Real peers for the Ethernet ports: Linux network namespaces, each holding the host end of a
//! tap device that QEMU plugs a port into (`Nic::Tap`). Needs root (CI runs as root) and
//! `ip` (iproute2, installed by `tools/ensure-toolchain.sh`).
//!
//! [`NetLab`] creates taps and namespaces with names unique to the process and removes them
//! when dropped, also when a test fails (its panic unwinds through the drop). A tap is created
//! in the host's namespace so QEMU can open it by name; once QEMU holds it,
//! [`NetLab::move_into`] moves its host end into a namespace and gives it an address.

use std::process::{Command, Output};

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

    /// A command run inside namespace `ns`.
    pub fn command(ns: &str, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, program]);
        cmd
    }
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
