//! `/tool fetch mode=tftp` in the simulator against a guest model's TFTP server: the bytes
//! downloaded are the server's (3 blocks of up to 1428 bytes), an upload and a second download
//! bring them back unchanged, and a refused fetch leaves nothing in the store.

use sim::driver::{Sim, SimOptions};

fn line(sim: &mut Sim, text: &str) -> String {
    sim.out.0.clear();
    sim.replay_line(format!("{text}\r").as_bytes());
    String::from_utf8_lossy(&sim.out.0).replace("\r\n", "\n")
}

fn guest_with_server() -> Sim {
    let mut sim = Sim::new(SimOptions {
        login: false,
        ports: 1,
    });
    for text in [
        "/metarouter add name=mr1",
        "/metarouter interface add virtual-machine=mr1 type=dynamic",
        "/ip address add address=10.0.1.1/24 interface=vif1",
        "/metarouter console mr1",
        "ip 10.0.1.2/24",
    ] {
        line(&mut sim, text);
    }
    sim.replay_line(b"\x01");
    sim.replay_line(b"q");
    sim
}

#[test]
fn bytes_go_down_up_and_down_again_unchanged() {
    let mut sim = guest_with_server();
    let out = line(
        &mut sim,
        "/tool fetch mode=tftp address=10.0.1.2 src-path=guest.bin",
    );
    assert!(out.contains("status: finished"), "{out}");
    let pattern: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(
        sim.board.transfers.contents.get("guest.bin"),
        Some(&pattern)
    );
    let out = line(
        &mut sim,
        "/tool fetch mode=tftp address=10.0.1.2 src-path=guest.bin dst-path=up.bin upload=yes",
    );
    assert!(out.contains("status: finished"), "{out}");
    let out = line(
        &mut sim,
        "/tool fetch mode=tftp address=10.0.1.2 src-path=up.bin dst-path=down.bin",
    );
    assert!(out.contains("status: finished"), "{out}");
    assert_eq!(sim.board.transfers.contents.get("down.bin"), Some(&pattern));
}

#[test]
fn a_refused_file_leaves_nothing() {
    let mut sim = guest_with_server();
    let out = line(
        &mut sim,
        "/tool fetch mode=tftp address=10.0.1.2 src-path=huge.bin",
    );
    assert!(out.contains("not enough free space"), "{out}");
    assert!(sim.board.transfers.contents.is_empty());
    assert!(sim.board.transfers.receiving.is_none());
}
