//! The box as a router between real Linux peers, on both QEMU machines: two network namespaces
//! in different subnets, each on the tap of one Ethernet port (ether1: 10.1.0.0/24 and
//! fd01::/64, ether2: 10.2.0.0/24 and fd02::/64), each with the box as its default gateway
//! (made by the test, removed when it ends, also on failure; needs root, as CI runs).
//!
//! - The peers reach each other through the box: ping over IPv4 and IPv6, a TCP transfer
//!   (what arrives is what was sent), and `traceroute` shows the box as the one hop between.
//! - A static route through a gateway (namespace B answers for 10.5.0.1 on its loopback), and a
//!   recursive one through that route's destination (`target-scope=30`, the seed's rule).
//! - The route types give what the seed says, as the Linux peer reports it: no route: "Destination
//!   Net Unreachable" from the box's address (IPv6: "No route"); `type=unreachable`: "Destination Host
//!   Unreachable"; `type=prohibit`: "Packet filtered" (ICMP 3/13); `type=blackhole`: silence.
//! - A policy rule sends one source address through another table (`/routing rule add
//!   src-address=... table=...`), where the same destination is prohibited.
//! - A route removed while a ping runs stops it within a second and added again restores it.
//! - `/ip settings print` counts what was forwarded and each reason a packet was dropped.
//! - ECMP over two gateway namespaces behind ether2 (a Linux bridge in a third namespace joins
//!   them to ether2's tap): each UDP flow stays on one gateway, and flows use both; IPv4 and
//!   IPv6.
//! - Over an egress MTU of 1000: IPv4 fragmented without DF, "fragmentation needed" with the
//!   MTU when DF is set, IPv6 "packet too big" with the MTU.
//! - IPv6 `traceroute` shows the box as one hop too; ICMP errors to one destination are limited
//!   by `/ip settings icmp-rate-limit` (a burst of 6, then one per interval; 0: unlimited);
//!   `ip-forward=no` and `/ipv6 settings forward=no` stop routing each family silently while
//!   the box's own addresses still answer.
//! - A route changed while two flows run (one through it, one to a gateway directly): the
//!   routed flow moves to the new gateway within a second, and not one datagram of either
//!   flow is lost while other routes are added and removed.
//! - A guest takes part (the seed's client1): its default gateway is the host's vif address,
//!   and through the host's routing it and a namespace on ether1 reach each other.

use std::process::Command;
use std::time::{Duration, Instant};

use std::path::PathBuf;

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::netlab::{ping, run_for, tcp_transfer, NetLab};
use qemu_tests::qemu::Nic;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);
const SETUP: &str = "creating taps and network namespaces (the test needs root and iproute2)";

/// Run `args` in namespace `ns` (setup: must succeed).
fn ns_do(ns: &str, args: &[&str]) {
    let out = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .output()
        .expect("ip netns exec");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `ping` from `ns` with `extra` arguments; its whole output.
fn ping_output(ns: &str, extra: &[&str], to: &str) -> String {
    let mut c = NetLab::command(ns, "ping");
    c.args(["-n", "-c", "2", "-i", "0.3", "-W", "1"])
        .args(extra)
        .arg(to);
    let out = run_for(c, Duration::from_secs(10));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The hops `traceroute -n` from `ns` to `to` lists (first address of each line).
fn traceroute(ns: &str, to: &str) -> Vec<String> {
    let mut c = NetLab::command(ns, "traceroute");
    c.args(["-n", "-q", "1", "-w", "2", "-m", "5", to]);
    let out = run_for(c, Duration::from_secs(30));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn malta_routes_between_two_namespaces_with_the_seeds_decisions() {
    routes_between_two_namespaces(Board::QemuMalta, 6, 4 << 20);
}

#[test]
fn ppce500_routes_between_two_namespaces_with_the_seeds_decisions() {
    // 1 MiB: fewer full-size frames than the eTSEC's receive slots (see tests/ports.rs).
    routes_between_two_namespaces(Board::QemuPpce500, 7, 1 << 20);
}

fn routes_between_two_namespaces(board: Board, lab: u8, transfer: u64) {
    let mut lab = NetLab::new(lab);
    let tap_a = lab.tap("ta").expect(SETUP);
    let tap_b = lab.tap("tb").expect(SETUP);
    let a = lab.namespace("na").expect(SETUP);
    let b = lab.namespace("nb").expect(SETUP);
    let mut s = Session::boot_with(board, |c| {
        c.nics = vec![Nic::Tap(tap_a.clone()), Nic::Tap(tap_b.clone())];
    });
    s.login(BOOT);
    lab.move_into(&tap_a, &a, "10.1.0.2/24").expect(SETUP);
    lab.move_into(&tap_b, &b, "10.2.0.2/24").expect(SETUP);
    lab.add_ipv6(&a, &tap_a, "fd01::2/64").expect(SETUP);
    lab.add_ipv6(&b, &tap_b, "fd02::2/64").expect(SETUP);
    ns_do(&a, &["ip", "addr", "add", "10.1.0.3/24", "dev", &tap_a]);
    ns_do(&a, &["ip", "route", "add", "default", "via", "10.1.0.1"]);
    ns_do(&b, &["ip", "route", "add", "default", "via", "10.2.0.1"]);
    ns_do(
        &a,
        &["ip", "-6", "route", "add", "default", "via", "fd01::1"],
    );
    ns_do(
        &b,
        &["ip", "-6", "route", "add", "default", "via", "fd02::1"],
    );
    // B answers for 10.5.0.1 and 10.4.0.1 (the static and the recursive route's targets).
    ns_do(&b, &["ip", "addr", "add", "10.5.0.1/32", "dev", "lo"]);
    ns_do(&b, &["ip", "addr", "add", "10.4.0.1/32", "dev", "lo"]);
    for line in [
        "/ip address add address=10.1.0.1/24 interface=ether1",
        "/ip address add address=10.2.0.1/24 interface=ether2",
        "/ipv6 address add address=fd01::1/64 interface=ether1",
        "/ipv6 address add address=fd02::1/64 interface=ether2",
    ] {
        s.checked(line);
    }

    // Through the box, both ways, IPv4 and IPv6.
    assert_eq!(ping(&a, "10.2.0.2", 3), 3, "{}", s.transcript());
    assert_eq!(ping(&b, "10.1.0.2", 3), 3, "{}", s.transcript());
    assert_eq!(ping(&a, "fd02::2", 3), 3, "{}", s.transcript());
    // The box's other address, through ether1.
    assert_eq!(ping(&a, "10.2.0.1", 2), 2, "{}", s.transcript());
    let hops = traceroute(&a, "10.2.0.2");
    assert_eq!(hops, ["10.1.0.1", "10.2.0.2"], "{}", s.transcript());
    let hops = traceroute(&a, "fd02::2");
    assert_eq!(hops, ["fd01::1", "fd02::2"], "{}", s.transcript());
    let mbit = tcp_transfer(env!("CARGO_BIN_EXE_netpeer"), &a, &b, "10.2.0.2", transfer);
    println!("{board}: TCP through the box, {transfer} bytes: {mbit:.1} Mbit/s");

    // No route, then the route types.
    let out = ping_output(&a, &[], "10.9.9.9");
    assert!(
        out.contains("From 10.1.0.1") && out.contains("Destination Net Unreachable"),
        "{out}"
    );
    let out = ping_output(&a, &["-6"], "fd09::1");
    assert!(
        out.contains("From fd01::1") && out.contains("No route"),
        "{out}"
    );
    s.checked("/ip route add dst-address=10.6.0.0/16 type=unreachable");
    s.checked("/ip route add dst-address=10.7.0.0/16 type=prohibit");
    s.checked("/ip route add dst-address=10.8.0.0/16 type=blackhole");
    let out = ping_output(&a, &[], "10.6.0.1");
    assert!(out.contains("Destination Host Unreachable"), "{out}");
    let out = ping_output(&a, &[], "10.7.0.1");
    assert!(out.contains("Packet filtered"), "{out}");
    let out = ping_output(&a, &[], "10.8.0.1");
    assert!(
        out.contains(", 0 received") && !out.contains("From "),
        "{out}"
    );

    // A static route through B, and a recursive one through its destination.
    s.checked("/ip route add dst-address=10.5.0.0/24 gateway=10.2.0.2");
    s.checked("/ip route add dst-address=10.4.0.0/24 gateway=10.5.0.1 target-scope=30");
    assert_eq!(ping(&a, "10.5.0.1", 3), 3, "{}", s.transcript());
    assert_eq!(ping(&a, "10.4.0.1", 3), 3, "{}", s.transcript());
    let routes = s.command("/ip route print", PROMPT);
    println!("{routes}");

    // A rule: from 10.1.0.3, 10.5.0.0/24 is looked up in table `alt`, where it is prohibited.
    s.checked("/routing table add name=alt fib");
    s.checked("/ip route add dst-address=10.5.0.0/24 type=prohibit routing-table=alt");
    s.checked("/routing rule add src-address=10.1.0.3/32 table=alt");
    let out = ping_output(&a, &["-I", "10.1.0.3"], "10.5.0.1");
    assert!(out.contains("Packet filtered"), "{out}");
    assert_eq!(ping(&a, "10.5.0.1", 2), 2, "{}", s.transcript());

    // The counters saw it all.
    let settings = s.command("/ip settings print", PROMPT);
    println!("{settings}");
    let counter = |name: &str| -> u64 {
        settings
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {settings}"))
    };
    // The TCP transfer alone is at least one packet per 1,448 bytes of data, one way.
    assert!(counter("forwarded-packets") > transfer / 1448, "{settings}");
    assert!(counter("forwarded-ipv6-packets") >= 3, "{settings}");
    for reason in [
        "ttl-expired",
        "network-unreachable",
        "blackhole",
        "prohibited",
    ] {
        assert!(counter(reason) >= 1, "{reason}: {settings}");
    }

    // A route removed while traffic flows: the path changes within a second.
    s.checked("/ip route remove [find dst-address=10.5.0.0/24 gateway=10.2.0.2]");
    let removed = Instant::now();
    let out = ping_output(&a, &[], "10.5.0.1");
    assert!(out.contains("Destination Net Unreachable"), "{out}");
    assert!(removed.elapsed() < Duration::from_secs(5));
    s.checked("/ip route add dst-address=10.5.0.0/24 gateway=10.2.0.2");
    assert_eq!(ping(&a, "10.5.0.1", 2), 2, "{}", s.transcript());

    // ICMP errors to one destination: a burst of 6, then one per `icmp-rate-limit` ms.
    let errors = || {
        // (No `-w`: with a deadline ping stops at the first error.)
        let flood = ["-c", "50", "-i", "0.002"];
        let out = ping_output(&a, &flood, "10.9.9.9");
        out.matches("Destination Net Unreachable").count()
    };
    s.checked("/ip settings set icmp-rate-limit=1000");
    let limited = errors();
    s.checked("/ip settings set icmp-rate-limit=0");
    let unlimited = errors();
    assert!(
        (6..=9).contains(&limited) && unlimited == 50,
        "{limited} errors with a limit, {unlimited} without: {}",
        s.transcript()
    );

    // Routing switched off per family: silence, while the box itself still answers.
    s.checked("/ip settings set ip-forward=no");
    let out = ping_output(&a, &[], "10.2.0.2");
    assert!(
        out.contains(", 0 received") && !out.contains("From "),
        "{out}"
    );
    assert_eq!(ping(&a, "10.2.0.1", 2), 2, "{}", s.transcript());
    assert_eq!(ping(&a, "fd02::2", 2), 2, "{}", s.transcript());
    s.checked("/ipv6 settings set forward=no");
    let out = ping_output(&a, &["-6"], "fd02::2");
    assert!(
        out.contains(", 0 received") && !out.contains("From "),
        "{out}"
    );
    s.checked("/ip settings set ip-forward=yes");
    s.checked("/ipv6 settings set forward=yes");
    assert_eq!(ping(&a, "10.2.0.2", 2), 2, "{}", s.transcript());
    assert_eq!(ping(&a, "fd02::2", 2), 2, "{}", s.transcript());
    let settings = s.command("/ip settings print", PROMPT);
    assert!(settings.contains("forwarding-disabled: 4"), "{settings}");

    // An egress MTU below the packet: IPv4 fragmented without DF, "fragmentation needed"
    // with it; IPv6 "packet too big".
    s.checked("/interface ethernet set ether2 mtu=1000");
    let out = ping_output(&a, &["-s", "1400", "-M", "dont"], "10.2.0.2");
    assert!(out.contains(", 2 received"), "fragmented: {out}");
    let out = ping_output(&a, &["-s", "1400", "-M", "do"], "10.2.0.2");
    assert!(
        out.contains("Frag needed and DF set (mtu = 1000)"),
        "DF set: {out}"
    );
    let out = ping_output(&a, &["-s", "1400", "-6"], "fd02::2");
    assert!(out.contains("Packet too big: mtu=1000"), "IPv6: {out}");
    s.checked("/interface ethernet set ether2 mtu=1500");
    let settings = s.command("/ip settings print", PROMPT);
    assert!(!settings.contains("fragments-sent: 0"), "{settings}");
}

#[test]
fn malta_a_guest_reaches_a_namespace_on_ether1_through_the_hosts_routing() {
    let mut lab = NetLab::new(8);
    let tap = lab.tap("ta").expect(SETUP);
    let ns = lab.namespace("na").expect(SETUP);
    let built = guests::build_once().expect("building the guests");
    let dir: PathBuf = std::env::temp_dir().join(format!("mr-routing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("files.bin");
    build_store(&[built.archive("netguest")], &store).expect("packing the file store");
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.nics = vec![Nic::Tap(tap.clone()), Nic::Unplugged];
        c.files = Some(store.clone());
    });
    s.login(BOOT);
    lab.move_into(&tap, &ns, "192.168.88.2/24").expect(SETUP);
    ns_do(
        &ns,
        &["ip", "route", "add", "default", "via", "192.168.88.1"],
    );
    s.checked("/ip address add address=192.168.88.1/24 interface=ether1");
    // The seed's client1: a guest on vif1, the host at 10.0.1.1/24 there.
    s.checked("/metarouter import-image file-name=netguest.tgz name=client1");
    s.checked("/metarouter interface add virtual-machine=client1 type=dynamic");
    s.checked("/ip address add address=10.0.1.1/24 interface=vif1");
    s.wait_running("client1");
    let t = Duration::from_secs(10);
    s.on_console("client1", "ip 10.0.1.2/24", "address=10.0.1.2/24", t);
    // In the guest: `add gateway=10.0.1.1`.
    s.on_console("client1", "gw 10.0.1.1", "gateway: 10.0.1.1", t);

    assert_eq!(ping(&ns, "10.0.1.2", 3), 3, "{}", s.transcript());
    let mut echo = NetLab::command(&ns, env!("CARGO_BIN_EXE_netpeer"));
    echo.args(["echo", "10.0.1.2:7", "routed-to-the-guest"]);
    let out = run_for(echo, Duration::from_secs(15));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("echoed routed-to-the-guest"),
        "{}{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        s.transcript()
    );
    let out = s.on_console(
        "client1",
        "ping 192.168.88.2 3",
        "packet-loss=",
        Duration::from_secs(20),
    );
    assert!(out.contains("received=3"), "{out}\n{}", s.transcript());
    let _ = std::fs::remove_dir_all(&dir);
}

/// UDP datagrams namespace `ns` received for a port nobody listens on (`Udp: NoPorts` of its
/// `/proc/net/snmp`): the flood's datagrams, and nothing else.
fn udp_no_ports(ns: &str) -> u64 {
    let mut c = NetLab::command(ns, "cat");
    c.arg("/proc/net/snmp");
    let out = c.output().expect("cat");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut udp = text.lines().filter(|l| l.starts_with("Udp:"));
    let (names, values) = (udp.next().unwrap_or(""), udp.next().unwrap_or(""));
    let column = names
        .split_whitespace()
        .position(|w| w == "NoPorts")
        .expect("Udp NoPorts in /proc/net/snmp");
    values
        .split_whitespace()
        .nth(column)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The IPv6 counterpart of [`udp_no_ports`] (`Udp6NoPorts` of `/proc/net/snmp6`).
fn udp6_no_ports(ns: &str) -> u64 {
    let mut c = NetLab::command(ns, "cat");
    c.arg("/proc/net/snmp6");
    let out = c.output().expect("cat");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Udp6NoPorts"))
        .and_then(|v| v.trim().parse().ok())
        .expect("Udp6NoPorts in /proc/net/snmp6")
}

/// The lab of the gateway tests: namespace `na` (10.1.0.2) on ether1; on ether2's tap a Linux
/// bridge in namespace `sw` joins two gateway namespaces, `g1` (10.2.0.11, fd02::11) and `g2`
/// (10.2.0.12, fd02::12), each answering for 10.3.0.1 and fd03::1 on its loopback. The box has
/// 10.1.0.1, 10.2.0.1, fd01::1 and fd02::1, and `route` (its gateways' next hops resolved).
struct GatewayLab {
    /// Removes the taps and namespaces when dropped.
    _lab: NetLab,
    s: Session,
    a: String,
    g1: String,
    g2: String,
}

fn gateway_lab(number: u8, route: &str) -> GatewayLab {
    let mut lab = NetLab::new(number);
    let tap_a = lab.tap("ta").expect(SETUP);
    let tap_b = lab.tap("tb").expect(SETUP);
    let a = lab.namespace("na").expect(SETUP);
    let sw = lab.namespace("sw").expect(SETUP);
    let g1 = lab.namespace("g1").expect(SETUP);
    let g2 = lab.namespace("g2").expect(SETUP);
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.nics = vec![Nic::Tap(tap_a.clone()), Nic::Tap(tap_b.clone())];
    });
    s.login(BOOT);
    lab.move_into(&tap_a, &a, "10.1.0.2/24").expect(SETUP);
    ns_do(&a, &["ip", "route", "add", "default", "via", "10.1.0.1"]);
    lab.add_ipv6(&a, &tap_a, "fd01::2/64").expect(SETUP);
    ns_do(
        &a,
        &["ip", "-6", "route", "add", "default", "via", "fd01::1"],
    );
    // ether2's tap in a bridge with the two gateways' veths.
    let status = Command::new("ip")
        .args(["link", "set", &tap_b, "netns", &sw])
        .status()
        .expect("ip");
    assert!(status.success(), "{SETUP}");
    ns_do(&sw, &["ip", "link", "add", "br0", "type", "bridge"]);
    ns_do(&sw, &["ip", "link", "set", &tap_b, "master", "br0", "up"]);
    ns_do(&sw, &["ip", "link", "set", "br0", "up"]);
    for (g, dev, addr, addr6) in [
        (&g1, "e1", "10.2.0.11/24", "fd02::11/64"),
        (&g2, "e2", "10.2.0.12/24", "fd02::12/64"),
    ] {
        let port = format!("p{dev}");
        ns_do(
            &sw,
            &[
                "ip", "link", "add", &port, "type", "veth", "peer", "name", dev, "netns", g,
            ],
        );
        ns_do(&sw, &["ip", "link", "set", &port, "master", "br0", "up"]);
        ns_do(g, &["ip", "addr", "add", addr, "dev", dev]);
        ns_do(g, &["ip", "link", "set", dev, "up"]);
        ns_do(g, &["ip", "addr", "add", "10.3.0.1/32", "dev", "lo"]);
        ns_do(g, &["ip", "route", "add", "default", "via", "10.2.0.1"]);
        lab.add_ipv6(g, dev, addr6).expect(SETUP);
        lab.add_ipv6(g, "lo", "fd03::1/128").expect(SETUP);
        ns_do(
            g,
            &["ip", "-6", "route", "add", "default", "via", "fd02::1"],
        );
    }
    s.checked("/ipv6 address add address=fd01::1/64 interface=ether1");
    s.checked("/ipv6 address add address=fd02::1/64 interface=ether2");
    s.checked("/ip address add address=10.1.0.1/24 interface=ether1");
    s.checked("/ip address add address=10.2.0.1/24 interface=ether2");
    s.checked(route);
    // Both next hops resolved (the box asks for each when a packet first goes to it).
    assert_eq!(ping(&a, "10.2.0.11", 2), 2, "{}", s.transcript());
    assert_eq!(ping(&a, "10.2.0.12", 2), 2, "{}", s.transcript());
    GatewayLab {
        _lab: lab,
        s,
        a,
        g1,
        g2,
    }
}

/// 16 flows of 50 datagrams from `a` to `to` (a new source port each): each flow's datagrams
/// all reach one of the gateways (`udp_no_ports`, `v6`: its IPv6 counter), none the other.
/// How many flows each gateway got.
fn ecmp_flows(lab: &mut GatewayLab, to: &str, v6: bool) -> [u32; 2] {
    let GatewayLab { s, a, g1, g2, .. } = lab;
    let count = |ns: &str| {
        if v6 {
            udp6_no_ports(ns)
        } else {
            udp_no_ports(ns)
        }
    };
    let mut flows = [0u32; 2];
    for flow in 0..16 {
        let before = [count(g1), count(g2)];
        let mut c = NetLab::command(a, env!("CARGO_BIN_EXE_netpeer"));
        c.args(["flood", to, "18", "50"]);
        let out = run_for(c, Duration::from_secs(20));
        assert!(out.status.success(), "flood {flow}");
        std::thread::sleep(Duration::from_millis(300));
        let d = [count(g1) - before[0], count(g2) - before[1]];
        let (to, other) = if d[0] > d[1] { (0, 1) } else { (1, 0) };
        assert!(
            d[to] == 50 && d[other] == 0,
            "flow {flow}: {d:?} packets at g1, g2\n{}",
            s.transcript()
        );
        flows[to] += 1;
    }
    flows
}

#[test]
fn malta_ecmp_over_two_gateways_keeps_each_flow_on_one_and_spreads_flows() {
    let mut lab = gateway_lab(
        9,
        "/ip route add dst-address=10.3.0.0/24 gateway=10.2.0.11,10.2.0.12",
    );
    let flows = ecmp_flows(&mut lab, "10.3.0.1:9", false);
    println!(
        "16 flows: {} through 10.2.0.11, {} through 10.2.0.12",
        flows[0], flows[1]
    );
    assert!(flows[0] > 0 && flows[1] > 0, "flows {flows:?}");

    lab.s
        .checked("/ipv6 route add dst-address=fd03::/64 gateway=fd02::11,fd02::12");
    for gateway in ["fd02::11", "fd02::12"] {
        assert_eq!(ping(&lab.a, gateway, 2), 2, "{}", lab.s.transcript());
    }
    let flows = ecmp_flows(&mut lab, "[fd03::1]:9", true);
    println!(
        "16 IPv6 flows: {} through fd02::11, {} through fd02::12",
        flows[0], flows[1]
    );
    assert!(flows[0] > 0 && flows[1] > 0, "IPv6 flows {flows:?}");
}

/// `netpeer rate` from `ns` to `to` in the background: `pps` datagrams a second for
/// `millis` ms; joined, it gives how many were sent.
fn rate_in_background(ns: &str, to: &str, pps: u64, millis: u64) -> std::thread::JoinHandle<u64> {
    let mut c = NetLab::command(ns, env!("CARGO_BIN_EXE_netpeer"));
    c.args(["rate", to, "18", &pps.to_string(), &millis.to_string()]);
    std::thread::spawn(move || {
        let out = run_for(c, Duration::from_secs(millis / 1000 + 20));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("netpeer rate said {text:?}"))
    })
}

#[test]
fn malta_a_route_changed_under_traffic_moves_within_a_second_and_loses_nothing_else() {
    let GatewayLab { s, a, g1, g2, .. } = &mut gateway_lab(
        10,
        "/ip route add dst-address=10.3.0.0/24 gateway=10.2.0.11",
    );
    let before = [udp_no_ports(g1), udp_no_ports(g2)];
    // Two flows for 4 s: one through the route, one to g1 itself (the route never covers it).
    let routed = rate_in_background(a, "10.3.0.1:9", 400, 4000);
    let direct = rate_in_background(a, "10.2.0.11:9", 400, 4000);
    std::thread::sleep(Duration::from_millis(1200));
    // The route now goes through g2: its datagrams arrive there within a second.
    s.checked("/ip route set [find dst-address=10.3.0.0/24] gateway=10.2.0.12");
    let changed = Instant::now();
    while udp_no_ports(g2) == before[1] {
        assert!(
            changed.elapsed() < Duration::from_secs(1),
            "no datagram through g2 a second after the change\n{}",
            s.transcript()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let moved_ms = changed.elapsed().as_millis();
    // Other routes come and go meanwhile.
    for _ in 0..3 {
        s.checked("/ip route add dst-address=10.9.0.0/24 gateway=10.2.0.11");
        s.checked("/ip route remove [find dst-address=10.9.0.0/24]");
    }
    let sent = routed.join().expect("routed flow") + direct.join().expect("direct flow");
    std::thread::sleep(Duration::from_millis(500));
    let got = udp_no_ports(g1) - before[0] + udp_no_ports(g2) - before[1];
    println!("route change: the flow moved in {moved_ms} ms; {got} of {sent} datagrams arrived");
    assert_eq!(got, sent, "datagrams lost\n{}", s.transcript());
}
