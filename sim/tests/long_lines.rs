//! Long command lines: accepted whole up to the editor's limit (exported scripts have long
//! lines), saved to flash and loaded back; a longer line is refused with an error and changes
//! nothing. A line is never cut and executed.

use mgmt::shell::editor::MAX_LINE;
use mgmt::MemFlash;
use sim::board::{SimBoard, FLASH_BLOCK};
use sim::driver::{Sim, SimOptions};

fn run(sim: &mut Sim, line: &str) -> String {
    sim.out.0.clear();
    sim.replay_line(format!("{line}\r").as_bytes());
    String::from_utf8_lossy(&sim.out.0).replace("\r\n", "\n")
}

#[test]
fn long_lines_apply_whole_and_survive_a_reboot() {
    let mut sim = Sim::new(SimOptions::default());
    let name = "B".repeat(5000);
    let out = run(&mut sim, &format!("/system identity set name={name}"));
    assert!(!out.contains("failure"), "{out}");
    assert_eq!(sim.shell.config().identity, name);
    let comment = "C".repeat(4000);
    let out = run(
        &mut sim,
        &format!("/interface bridge add name=br1 comment={comment}"),
    );
    assert!(!out.contains("failure"), "{out}");
    let out = run(&mut sim, "/interface bridge print detail");
    assert!(out.contains(&comment), "{out}");
    // Close to the limit.
    let long = "D".repeat(MAX_LINE - 64);
    let out = run(
        &mut sim,
        &format!("/interface bridge add name=br2 comment={long}"),
    );
    assert!(
        !out.contains("failure"),
        "{}",
        &out[out.len().saturating_sub(300)..]
    );
    let saved = sim.shell.saved_configuration();
    assert!(saved.contains(&name) && saved.contains(&comment) && saved.contains(&long));

    let mut board = SimBoard::new(5);
    board.flash = MemFlash::from_bytes(FLASH_BLOCK, sim.board.flash.bytes().to_vec());
    let rebooted = Sim::with_board(SimOptions::default(), board);
    let boot = String::from_utf8_lossy(&rebooted.out.0).into_owned();
    assert!(!boot.contains("configuration"), "boot message: {boot}");
    assert_eq!(rebooted.shell.saved_configuration(), saved);
    assert_eq!(rebooted.shell.config().identity, name);
}

#[test]
fn a_line_over_the_limit_is_refused_and_changes_nothing() {
    let mut sim = Sim::new(SimOptions::default());
    let name = "E".repeat(MAX_LINE);
    let line = format!("/system identity set name={name}");
    let out = run(&mut sim, &line);
    let expected = format!(
        "failure: line too long ({} characters, at most {MAX_LINE}), not executed\n",
        line.len()
    );
    assert!(
        out.contains(&expected),
        "{}",
        &out[out.len().saturating_sub(300)..]
    );
    assert!(out.ends_with("[admin@MikroTik] > "));
    assert_eq!(sim.shell.config().identity, "MikroTik");
    // The console goes on normally.
    let out = run(&mut sim, "/system identity print");
    assert!(out.contains("name: MikroTik"), "{out}");
}
