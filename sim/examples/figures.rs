//! Prints measured figures of the management plane on the simulated board: the size of the saved
//! configuration and the flash operations per save for a sample box, and how long replaying a
//! transcript takes. `cargo run --release -p sim --example figures`

use std::time::Instant;

use sim::driver::{replay, Sim, SimOptions};

const SAMPLE: &[&str] = &[
    "/system identity set name=edge",
    "/interface bridge add name=lan protocol-mode=rstp",
    "/interface bridge port add interface=ether2 bridge=lan",
    "/interface bridge port add interface=ether3 bridge=lan",
    "/metarouter add name=mr0 memory-size=32",
    "/metarouter add name=mr1 memory-size=64",
    "/metarouter interface add virtual-machine=mr0 dynamic-bridge=lan",
    "/metarouter interface add virtual-machine=mr1 dynamic-bridge=lan",
    "/metarouter interface add virtual-machine=mr1",
    "/ip address add address=192.168.88.1/24 interface=lan",
    "/ip address add address=10.0.0.2/30 interface=ether1",
    "/ip route add gateway=10.0.0.1",
    "/user set admin password=secret",
];

fn main() {
    let mut sim = Sim::new(SimOptions::default());
    for line in SAMPLE {
        sim.replay_line(format!("{line}\r").as_bytes());
    }
    let saved = sim.shell.saved_configuration();
    let steps = sim.board.flash.steps();
    let before = sim.board.flash.steps();
    sim.replay_line(b"/system identity set name=edge2\r");
    let per_save = sim.board.flash.steps() - before;
    println!("sample box ({} commands):", SAMPLE.len());
    println!("  saved configuration        {} bytes", saved.len());
    println!(
        "  flash erase+program steps  {per_save} per save ({steps} for the {} saves)",
        SAMPLE.len()
    );

    let script: String =
        SAMPLE.iter().map(|l| format!("{l}\n")).collect::<String>() + "/export\n/ip route print\n";
    let runs = 200;
    let start = Instant::now();
    for _ in 0..runs {
        let _ = replay(script.as_bytes(), SimOptions::default());
    }
    let each = start.elapsed() / runs;
    println!(
        "replay of {} lines (boot, commands, 1 s virtual time per line): {:?} each",
        SAMPLE.len() + 2,
        each
    );
}
