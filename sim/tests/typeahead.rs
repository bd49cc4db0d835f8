//! Type-ahead: input the shell cannot handle yet (during an image import, a login delay) waits
//! in order and is handled when the shell is done; nothing typed or pasted is lost.

use sim::driver::{Sim, SimOptions};

const IMAGE: &str = "openwrt-mr-mips-rootfs.tgz";

fn text(sim: &Sim) -> String {
    String::from_utf8_lossy(&sim.out.0).replace("\r\n", "\n")
}

/// Polls (10 ms steps) until the shell is idle with nothing typed ahead.
fn settle(sim: &mut Sim) {
    for _ in 0..10_000 {
        if !sim.shell.is_busy() && sim.shell.typeahead_len() == 0 {
            return;
        }
        sim.advance(10);
    }
    panic!("the shell never settled:\n{}", text(sim));
}

#[test]
fn a_line_typed_with_an_import_runs_after_it() {
    let mut sim = Sim::new(SimOptions::default());
    // One chunk, as a paste or a fast typist delivers it.
    sim.input(
        format!("/metarouter import-image file-name={IMAGE}\r/system identity print\r").as_bytes(),
    );
    assert!(sim.shell.is_busy());
    assert_eq!(sim.shell.typeahead_len(), "/system identity print\r".len());
    settle(&mut sim);
    let out = text(&sim);
    let imported = out.find("imported: 100%").expect("import done");
    let printed = out
        .find("name: MikroTik")
        .unwrap_or_else(|| panic!("no identity:\n{out}"));
    assert!(imported < printed, "{out}");
    assert!(
        out.contains("[admin@MikroTik] > /system identity print\n"),
        "{out}"
    );
    assert!(!out.contains("bad command"), "{out}");
}

#[test]
fn a_second_import_typed_during_the_first_runs_whole() {
    let mut sim = Sim::new(SimOptions::default());
    sim.input(format!("/metarouter import-image file-name={IMAGE}\r").as_bytes());
    sim.advance(100);
    assert!(sim.shell.is_busy());
    // Typed in pieces while the first import runs.
    for piece in [
        "/metarou",
        "ter import-image ",
        &format!("file-name={IMAGE}\r"),
    ] {
        sim.input(piece.as_bytes());
        sim.advance(30);
    }
    settle(&mut sim);
    let out = text(&sim);
    assert_eq!(out.matches("imported: 100%").count(), 2, "{out}");
    assert!(!out.contains("bad command"), "{out}");
    sim.input(b"/metarouter print count-only\r");
    assert!(
        text(&sim).ends_with("2\n[admin@MikroTik] > "),
        "{}",
        text(&sim)
    );
}

/// A whole exported configuration pasted right after an import command is applied exactly.
#[test]
fn a_pasted_configuration_replays_exactly_after_an_import() {
    let mut source = Sim::new(SimOptions::default());
    for line in [
        "/system identity set name=\"Edge Router\"",
        "/interface bridge add name=lan",
        "/interface bridge port add interface=ether2 bridge=lan",
        "/ip address add address=192.168.88.1/24 interface=lan",
        "/ip route add dst-address=10.8.0.0/16 gateway=192.168.88.254 comment=tunnel",
        "/metarouter add name=mr0 memory-size=32 disabled=yes",
    ] {
        source.replay_line(format!("{line}\r").as_bytes());
    }
    let export = mgmt::export::export_menu(&[], source.shell.config(), "x");
    let mut paste = format!("/metarouter import-image file-name={IMAGE} name=imp\r");
    for line in export.lines().filter(|l| !l.starts_with('#')) {
        paste.push_str(line);
        paste.push('\r');
    }
    paste.push_str("/\r");
    let mut sim = Sim::new(SimOptions::default());
    sim.input(paste.as_bytes());
    settle(&mut sim);
    let out = text(&sim);
    assert!(
        !out.contains("bad command") && !out.contains("failure"),
        "{out}"
    );
    sim.input(b"/metarouter remove imp\r");
    let again = mgmt::export::export_menu(&[], sim.shell.config(), "x");
    assert_eq!(export, again, "{out}");
}

#[test]
fn input_room_shrinks_while_busy_and_recovers() {
    let mut sim = Sim::new(SimOptions::default());
    let room = sim.shell.input_room();
    assert_eq!(room, mgmt::shell::TYPEAHEAD_CAPACITY);
    sim.input(format!("/metarouter import-image file-name={IMAGE}\r").as_bytes());
    sim.input(b"/system identity print\r");
    assert_eq!(
        sim.shell.input_room(),
        room - "/system identity print\r".len()
    );
    settle(&mut sim);
    assert_eq!(sim.shell.input_room(), room);
}
