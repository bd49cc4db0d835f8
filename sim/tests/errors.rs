//! A failing command changes nothing: for each error case, the configuration, the board (guests,
//! disks, network, flash) and the printed message are checked.

use sim::driver::{Sim, SimOptions};
use sim::fuzz::SETUP;

fn board_state(sim: &mut Sim) -> String {
    let guests: Vec<String> = (0..mgmt::MAX_GUESTS as u8)
        .map(|i| {
            format!(
                "{:?}",
                mgmt::Platform::guest_status(&sim.board, mgmt::GuestId(i))
            )
        })
        .collect();
    format!(
        "{guests:?} {:?} {:?} {}",
        sim.board.disks,
        sim.board.network,
        sim.board.flash.steps()
    )
}

const CASES: &[(&str, &str)] = &[
    ("/nosuch", "bad command name nosuch (line 1 column 2)"),
    (
        "/metarouter frob",
        "bad command name frob (line 1 column 13)",
    ),
    (
        "/interface e",
        "ambiguous command name e (line 1 column 12)",
    ),
    (
        "/metarouter add name=x memory-size=8",
        "value of memory-size out of range (16..256)",
    ),
    (
        "/metarouter add name=x memory-size=lots",
        "invalid value for argument memory-size",
    ),
    (
        "/metarouter add name=x colour=red",
        "expected end of command (line 1 column 24)",
    ),
    (
        "/metarouter add name=x d=1",
        "ambiguous argument name d (line 1 column 24)",
    ),
    (
        "/metarouter add name=\"x",
        "syntax error (line 1 column 22)",
    ),
    (
        "/metarouter add name=mr0",
        "failure: item with such name already exists",
    ),
    (
        "/metarouter add name=huge memory-size=256",
        "failure: not enough memory for huge: needs 256MiB, 224MiB free for guests",
    ),
    ("/metarouter set 9 name=x", "no such item"),
    (
        "/metarouter set name=x",
        "missing value(s) of argument(s) numbers",
    ),
    ("/metarouter remove nosuch", "no such item"),
    ("/metarouter enable mr1,nosuch", "no such item"),
    (
        "/metarouter import-image file-name=nosuch.tgz",
        "input does not match any value of file-name",
    ),
    (
        "/metarouter import-image",
        "missing value(s) of argument(s) file-name",
    ),
    (
        "/metarouter interface add virtual-machine=ghost",
        "input does not match any value of virtual-machine",
    ),
    (
        "/metarouter interface add virtual-machine=mr0 type=static",
        "failure: static interface requires static-interface",
    ),
    (
        "/metarouter interface add virtual-machine=mr0 type=static static-interface=ether2",
        "failure: ether2 is a port of bridge bridge1",
    ),
    (
        "/interface bridge add name=ether1",
        "failure: already have interface with such name",
    ),
    (
        "/interface bridge add protocol-mode=mstp",
        "input does not match any value of protocol-mode",
    ),
    (
        "/interface bridge port add interface=ether2 bridge=bridge1",
        "failure: device already added as bridge port",
    ),
    (
        "/interface bridge port add interface=bridge1 bridge=bridge1",
        "failure: cannot add bridge to itself",
    ),
    (
        "/interface bridge port add interface=vif1 bridge=bridge1",
        "failure: vif1 is already a dynamic port of bridge bridge1",
    ),
    (
        "/interface bridge port add bridge=bridge1",
        "missing value(s) of argument(s) interface",
    ),
    (
        "/interface ethernet set ether1 name=ether2",
        "failure: already have interface with such name",
    ),
    (
        "/interface ethernet set ether1 mtu=10",
        "value of mtu out of range (68..9000)",
    ),
    (
        "/interface ethernet add name=x",
        "bad command name add (line 1 column 21)",
    ),
    (
        "/ip address add address=10.0.1.1/24 interface=vif2",
        "failure: already have such address",
    ),
    (
        "/ip address add address=1.2.3.4/33 interface=ether1",
        "invalid value for argument address",
    ),
    (
        "/ip address add address=1.2.3.4/24 interface=ether1 network=1.2.4.0",
        "failure: network does not match address",
    ),
    (
        "/ipv6 address add address=2001:db8::g/64 interface=ether1",
        "invalid value for argument address",
    ),
    (
        "/user remove admin",
        "failure: at least one enabled user of group full must remain",
    ),
    (
        "/user add name=ro group=full",
        "failure: user with the same name already exists",
    ),
    (
        "/user set admin password-hash=abc",
        "invalid value for argument password-hash",
    ),
    (
        "/system identity set name=\"\"",
        "invalid value for argument name",
    ),
    (
        "/system resource set x=1",
        "bad command name set (line 1 column 18)",
    ),
    (
        "/metarouter print where nosuch=1",
        "expected end of command (line 1 column 25)",
    ),
    (
        "/metarouter print sideways",
        "expected end of command (line 1 column 19)",
    ),
    (
        "/metarouter set [ frob ] name=x",
        "bad command name frob (line 1 column 18)",
    ),
    (
        "/metarouter console 0,1",
        "expected end of command (line 1 column 21)",
    ),
];

#[test]
fn each_error_is_reported_and_changes_nothing() {
    let mut sim = Sim::new(SimOptions {
        login: false,
        ports: 3,
    });
    for line in SETUP {
        sim.replay_line(format!("{line}\r").as_bytes());
    }
    let config = sim.shell.config().clone();
    let state = board_state(&mut sim);
    for (line, message) in CASES {
        sim.out.0.clear();
        sim.input(format!("{line}\r").as_bytes());
        let out = String::from_utf8_lossy(&sim.out.0).replace("\r\n", "\n");
        let expected = format!("{line}\n{message}\n[admin@MikroTik] > ");
        assert_eq!(out, expected, "output of {line:?}");
        assert!(
            sim.shell.config() == &config,
            "{line:?} changed the configuration"
        );
        assert_eq!(board_state(&mut sim), state, "{line:?} changed the board");
    }
}

#[test]
fn read_only_user_changes_nothing() {
    let mut sim = Sim::new(SimOptions {
        login: true,
        ports: 3,
    });
    sim.input(b"admin\r\r/user add name=ro group=read password=x\r/quit\r");
    sim.input(b"ro\rx\r");
    let config = sim.shell.config().clone();
    sim.out.0.clear();
    sim.input(b"/interface bridge add\r");
    let out = String::from_utf8_lossy(&sim.out.0).replace("\r\n", "\n");
    assert_eq!(
        out,
        "/interface bridge add\nnot enough permissions\n[ro@MikroTik] > "
    );
    assert!(sim.shell.config() == &config);
}

const ROUTE_CASES: &[(&str, &str)] = &[
    (
        "/ip route add dst-address=1.0.0.0/8",
        "missing value(s) of argument(s) gateway",
    ),
    (
        "/ip route add gateway=2001:db8::1",
        "invalid value for argument gateway",
    ),
    (
        "/ip route add gateway=nosuchif",
        "invalid value for argument gateway",
    ),
    (
        "/ip route add gateway=10.0.0.1 distance=0",
        "value of distance out of range (1..255)",
    ),
    (
        "/ip route add gateway=10.0.0.1 routing-table=nosuch",
        "input does not match any value of routing-table",
    ),
    (
        "/ipv6 route add gateway=10.0.0.1",
        "invalid value for argument gateway",
    ),
    (
        "/routing table add name=main",
        "failure: already have routing table with such name",
    ),
    ("/routing table add", "missing value(s) of argument(s) name"),
    (
        "/routing rule add src-address=10.0.0.0/8 dst-address=::/0",
        "failure: src-address and dst-address are of different families",
    ),
    (
        "/routing rule add action=jump",
        "input does not match any value of action",
    ),
    (
        "/routing route add dst-address=1.0.0.0/8",
        "bad command name add (line 1 column 16)",
    ),
];

#[test]
fn routing_errors_change_nothing() {
    let mut sim = Sim::new(SimOptions {
        login: false,
        ports: 3,
    });
    for line in [
        "/interface bridge add name=bridge1",
        "/ip route add dst-address=10.1.0.0/16 gateway=bridge1",
    ] {
        sim.replay_line(format!("{line}\r").as_bytes());
    }
    let config = sim.shell.config().clone();
    let state = board_state(&mut sim);
    for (line, message) in ROUTE_CASES {
        sim.out.0.clear();
        sim.input(format!("{line}\r").as_bytes());
        let out = String::from_utf8_lossy(&sim.out.0).replace("\r\n", "\n");
        assert_eq!(
            out,
            format!("{line}\n{message}\n[admin@MikroTik] > "),
            "output of {line:?}"
        );
        assert!(
            sim.shell.config() == &config,
            "{line:?} changed the configuration"
        );
        assert_eq!(board_state(&mut sim), state, "{line:?} changed the board");
    }
}
