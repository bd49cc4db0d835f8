//! The test side of an 802.1Q VLAN peer in a network namespace: a Linux VLAN interface
//! (`ip link add link TAP name vVID type vlan id VID`) where the kernel has them (`8021q`),
//! else the user-space peer of [`crate::vlanpeer`] (`netpeer vlan-ping` / `vlan-serve`), which
//! tags its ARP and ping on a packet socket. Either way the box sees the same tagged frames.

use std::process::Command;
use std::time::Duration;

use crate::netlab::{ping, run_for, NetLab, Reaped};
use crate::session::{Session, PROMPT};

/// What a test says when the set-up fails.
pub const SETUP: &str = "creating taps, namespaces and VLANs (the test needs root and iproute2)";

/// `ip ARGS` inside namespace `ns`, which must succeed; its output.
pub fn ip(ns: &str, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["-n", ns])
        .args(args)
        .output()
        .expect(SETUP);
    assert!(
        out.status.success(),
        "ip -n {ns} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The MAC of `dev` in namespace `ns`, upper case as the box prints it.
pub fn mac_of(ns: &str, dev: &str) -> String {
    let out = ip(ns, &["link", "show", dev]);
    let words: Vec<&str> = out.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "link/ether")
        .expect("an Ethernet device");
    words[at + 1].to_uppercase()
}

/// `/ping to count=3` from the host: how many were answered.
pub fn host_pings(s: &mut Session, to: &str) -> u32 {
    let out = s.command(&format!("/ping {to} count=3"), PROMPT);
    println!("{out}");
    out.split_whitespace()
        .find_map(|w| w.strip_prefix("received="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary: {out}\n{}", s.transcript()))
}

/// A VLAN peer on `dev` in namespace `ns`: VLAN `vid` (0: untagged), address `ip`/24.
pub struct VlanPeer {
    pub ns: String,
    pub dev: String,
    pub vid: u16,
    pub ip: String,
    /// The Linux VLAN interface, if there is one.
    pub linux: Option<String>,
    /// `netpeer`, the program that is the user-space peer.
    netpeer: String,
}

impl VlanPeer {
    /// A peer on a VLAN interface of its own (a Linux one if the kernel can).
    pub fn new(netpeer: &str, ns: &str, dev: &str, vid: u16, address: &str) -> VlanPeer {
        let name = format!("v{vid}");
        let vid_text = vid.to_string();
        let linux = Command::new("ip")
            .args(["-n", ns, "link", "add", "link", dev, "name", &name])
            .args(["type", "vlan", "id", &vid_text])
            .status()
            .is_ok_and(|s| s.success());
        if linux {
            ip(ns, &["addr", "add", &format!("{address}/24"), "dev", &name]);
            ip(ns, &["link", "set", &name, "up"]);
        } else {
            eprintln!("no Linux VLAN interfaces here (8021q): the user-space VLAN peer stands in");
        }
        VlanPeer {
            ns: ns.into(),
            dev: dev.into(),
            vid,
            ip: address.into(),
            linux: linux.then_some(name),
            netpeer: netpeer.into(),
        }
    }

    /// An untagged peer at `address` on `dev` itself: the kernel's own stack when Linux VLAN
    /// interfaces are used (it gets the address), else the user-space peer with VLAN id 0.
    pub fn untagged(netpeer: &str, ns: &str, dev: &str, address: &str, linux: bool) -> VlanPeer {
        if linux {
            ip(ns, &["addr", "add", &format!("{address}/24"), "dev", dev]);
        }
        VlanPeer {
            ns: ns.into(),
            dev: dev.into(),
            vid: 0,
            ip: address.into(),
            linux: linux.then(|| dev.to_string()),
            netpeer: netpeer.into(),
        }
    }

    /// Send what the peer addresses to `cidr` out of its own interface (a Linux peer has a
    /// route for its own /24 only; the user-space peer asks any address on its VLAN).
    pub fn route(&self, cidr: &str) {
        if let Some(dev) = &self.linux {
            ip(&self.ns, &["route", "add", cidr, "dev", dev]);
        }
    }

    /// The peer pings `to` 3 times; how many answers came back.
    pub fn ping(&self, to: &str) -> u32 {
        if self.linux.is_some() {
            return ping(&self.ns, to, 3);
        }
        let mut cmd = NetLab::command(&self.ns, &self.netpeer);
        let vid = self.vid.to_string();
        cmd.args(["vlan-ping", &self.dev, &vid, &self.ip, to, "3"]);
        let out = run_for(cmd, Duration::from_secs(20));
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .nth(2)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("vlan-ping: {text}{}", String::from_utf8_lossy(&out.stderr)))
    }

    /// Answer ARP and ping for the peer's address until the value returned is dropped (the
    /// user-space peer, for at most 15 s; a Linux peer's kernel answers anyway).
    pub fn serve(&self) -> Option<Reaped> {
        if self.linux.is_some() {
            return None;
        }
        let mut cmd = NetLab::command(&self.ns, &self.netpeer);
        let vid = self.vid.to_string();
        cmd.args(["vlan-serve", &self.dev, &vid, &self.ip, "15"]);
        let server = Reaped(cmd.spawn().expect("starting vlan-serve"));
        std::thread::sleep(Duration::from_millis(300));
        Some(server)
    }

    /// The host `/ping`s the peer 3 times (the peer answering); how many answers came back.
    pub fn pinged_by(&self, s: &mut Session) -> u32 {
        let _server = self.serve();
        host_pings(s, &self.ip)
    }

    /// The MAC the peer answers from.
    pub fn mac(&self) -> String {
        mac_of(&self.ns, self.linux.as_deref().unwrap_or(&self.dev))
    }
}
