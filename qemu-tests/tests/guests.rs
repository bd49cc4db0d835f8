//! Guests on qemu-malta: many guests at once with console attach and life-cycle states,
//! networking between guests through the switch (and isolation between bridges), and the
//! attacker's isolation probes while other guests keep running.

use std::time::{Duration, Instant};

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::qemu::{ensure_flash_image, MALTA_FLASH_SIZE};
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);

/// Boot malta with the sample guests' archives in the file store, and log in.
fn boot_with_guests(memory_mib: u32, tag: &str) -> Session {
    let built = guests::build_once().expect("building the guests");
    let dir = std::env::temp_dir().join(format!("mr-guests-{}-{tag}", std::process::id()));
    let store = dir.join("files.bin");
    let archives: Vec<_> = guests::NAMES.iter().map(|n| built.archive(n)).collect();
    build_store(&archives, &store).expect("packing the file store");
    let mut s = Session::boot_with(Board::QemuMalta, |c| {
        c.files = Some(store);
        c.memory_mib = memory_mib;
    });
    s.login(BOOT);
    s
}

fn cmd(s: &mut Session, line: &str) -> String {
    s.command(line, PROMPT)
}

/// The STATE column of `name` in `/metarouter print`.
fn state_of(s: &mut Session, name: &str) -> String {
    let out = cmd(s, "/metarouter print");
    out.lines()
        .find(|l| {
            l.split_whitespace().nth(1) == Some(name) || l.split_whitespace().nth(2) == Some(name)
        })
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("{name} not in /metarouter print:\n{out}"))
        .to_string()
}

/// Poll `/metarouter print` until `name` is in `state`.
fn wait_state(s: &mut Session, name: &str, state: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let now = state_of(s, name);
        if now == state {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} is {now}, not {state}, after {timeout:?}\n{}",
            s.transcript()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn eight_guests_with_consoles_and_states() {
    let mut s = boot_with_guests(256, "eight");
    for i in 1..=8 {
        let out = cmd(&mut s, &format!("/metarouter add name=g{i}"));
        assert!(out.trim().is_empty(), "add g{i}: {out}");
    }
    for i in 1..=8 {
        wait_state(&mut s, &format!("g{i}"), "running", Duration::from_secs(30));
    }
    for i in 1..=8 {
        s.on_console(
            &format!("g{i}"),
            "uptime",
            "uptime: ",
            Duration::from_secs(10),
        );
    }
    // The host shuts a guest down: it is asked to halt, obeys, and stops.
    cmd(&mut s, "/metarouter shut-down g1");
    wait_state(&mut s, "g1", "stopped", Duration::from_secs(15));
    cmd(&mut s, "/metarouter start g1");
    wait_state(&mut s, "g1", "running", Duration::from_secs(15));
    // The host reboots a guest: it comes back running, with a fresh uptime.
    cmd(&mut s, "/metarouter reboot g2");
    wait_state(&mut s, "g2", "running", Duration::from_secs(15));
    // A disabled guest stops and shows as disabled.
    cmd(&mut s, "/metarouter disable g3");
    wait_state(&mut s, "g3", "disabled", Duration::from_secs(10));
    // A guest halting itself stops.
    s.on_console("g4", "halt", "halting", Duration::from_secs(10));
    wait_state(&mut s, "g4", "stopped", Duration::from_secs(10));
    // A guest restarting itself comes back.
    s.on_console("g5", "reboot", "rebooting", Duration::from_secs(10));
    wait_state(&mut s, "g5", "running", Duration::from_secs(15));
    // Everybody else kept running.
    for i in [1, 2, 5, 6, 7, 8] {
        s.on_console(
            &format!("g{i}"),
            "uptime",
            "uptime: ",
            Duration::from_secs(10),
        );
    }
    let print = cmd(&mut s, "/metarouter print");
    assert!(!s.transcript().contains("panic"), "{}", s.transcript());
    println!("{print}");
}

/// Two netguests on vifs: `bridges` names the bridge of each.
fn ping_between(bridges: [&str; 2], expect_reply: bool) {
    let mut s = boot_with_guests(256, bridges.join("-").as_str());
    for b in ["br1", "br2"] {
        cmd(&mut s, &format!("/interface bridge add name={b}"));
    }
    for (i, b) in bridges.iter().enumerate() {
        let n = i + 1;
        cmd(
            &mut s,
            &format!("/metarouter import-image file-name=netguest.tgz name=n{n}"),
        );
        cmd(
            &mut s,
            &format!("/metarouter interface add virtual-machine=n{n} dynamic-bridge={b}"),
        );
    }
    for n in 1..=2 {
        wait_state(&mut s, &format!("n{n}"), "running", Duration::from_secs(30));
        s.on_console(
            &format!("n{n}"),
            &format!("ip 10.0.0.{n}/24"),
            &format!("address=10.0.0.{n}/24"),
            Duration::from_secs(10),
        );
    }
    let out = s.on_console(
        "n2",
        "ping 10.0.0.1 3",
        "packet-loss",
        Duration::from_secs(20),
    );
    if expect_reply {
        assert!(out.contains("received=3"), "{out}\n{}", s.transcript());
    } else {
        assert!(out.contains("received=0"), "{out}\n{}", s.transcript());
    }
}

#[test]
fn netguests_in_one_bridge_reach_each_other() {
    ping_between(["br1", "br1"], true);
}

#[test]
fn netguests_in_different_bridges_do_not() {
    ping_between(["br1", "br2"], false);
}

/// A TCP transfer between two netguests through the switch completes, and both ends count
/// every byte: the sender's figure comes after the acknowledgement of its close, the
/// listener's when the sender closed.
#[test]
fn netguests_carry_a_tcp_transfer() {
    const BYTES: u64 = 2 << 20;
    let mut s = boot_with_guests(256, "tcp");
    cmd(&mut s, "/interface bridge add name=br1");
    for n in 1..=2 {
        cmd(
            &mut s,
            &format!("/metarouter import-image file-name=netguest.tgz name=n{n}"),
        );
        cmd(
            &mut s,
            &format!("/metarouter interface add virtual-machine=n{n} dynamic-bridge=br1"),
        );
    }
    for n in 1..=2 {
        wait_state(&mut s, &format!("n{n}"), "running", Duration::from_secs(30));
        s.on_console(
            &format!("n{n}"),
            &format!("ip 10.0.0.{n}/24"),
            &format!("address=10.0.0.{n}/24"),
            Duration::from_secs(10),
        );
    }
    s.on_console(
        "n1",
        "tcp-listen 5001",
        "tcp-listen: listening on port 5001",
        Duration::from_secs(10),
    );
    let sent = s.on_console(
        "n2",
        &format!("tcp-send 10.0.0.1 5001 {BYTES}"),
        "Mbit/s",
        Duration::from_secs(120),
    );
    assert!(
        sent.contains(&format!("tcp-send: bytes={BYTES} time=")),
        "{sent}\n{}",
        s.transcript()
    );
    // The listener's status line (its console also replays the line it printed meanwhile).
    s.send_line("/metarouter console n1");
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line("tcp-listen");
    s.expect_within("tcp-listen: port 5001 served=", Duration::from_secs(10));
    let status = s.expect_within("Mbit/s", Duration::from_secs(10));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    assert!(
        status.starts_with(&format!("1 last from 10.0.0.2:49152 bytes={BYTES} time=")),
        "{status}\n{}",
        s.transcript()
    );
}

/// With 512 MiB: the hypervisor's kseg3 window onto RAM above 512 MiB exists while the
/// attacker probes kseg3 and foreign frames, and with a 240 MiB bystander filling the low RAM
/// the attacker itself runs in the RAM above (reached by the hypervisor through the window).
#[test]
fn attacker_is_contained_while_others_keep_running() {
    let mut s = boot_with_guests(512, "attacker");
    cmd(&mut s, "/interface bridge add name=br1");
    cmd(&mut s, "/metarouter add name=bystander memory-size=240");
    cmd(
        &mut s,
        "/metarouter import-image file-name=attacker.tgz name=attacker",
    );
    cmd(
        &mut s,
        "/metarouter interface add virtual-machine=attacker dynamic-bridge=br1",
    );
    wait_state(&mut s, "bystander", "running", Duration::from_secs(30));
    s.send_line("/metarouter console attacker");
    s.expect("[Ctrl-A is the prefix key]");
    let report = s.expect_within("attacker: idle", Duration::from_secs(400));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    println!("{report}");
    let done = report
        .lines()
        .find(|l| l.contains("probes done:"))
        .unwrap_or_else(|| panic!("no summary:\n{report}"));
    assert!(done.contains(" 0 not contained"), "{done}\n{report}");
    assert!(!report.contains("NOT CONTAINED"), "{report}");
    assert!(
        !report.contains(": FAILED ("),
        "a check of the guest's own view failed:\n{report}"
    );
    let probes = report.lines().filter(|l| l.starts_with("probe ")).count();
    assert!(probes >= 20, "only {probes} probes ran:\n{report}");
    // The bystander never noticed.
    s.on_console("bystander", "uptime", "uptime: ", Duration::from_secs(10));
    let state = state_of(&mut s, "bystander");
    assert_eq!(state, "running");
    assert!(
        !s.transcript().contains("hypervisor panic"),
        "{}",
        s.transcript()
    );
}

/// MetaROUTER's stated future limit is 16 guests. With 512 MiB, malta has RAM above kseg0's
/// 512 MiB physical reach (its upper 256 MiB sits at 0x9000_0000), which the hypervisor maps
/// through its kseg3 window. Below it, guests get 256 MiB minus the hypervisor's 4 MiB, so a
/// 256 MiB guest can only be placed above, and of sixteen 16 MiB guests at least one is.
#[test]
fn sixteen_guests_with_ram_above_512_mib() {
    let mut s = boot_with_guests(512, "sixteen");
    // Only the high RAM can hold 256 MiB in one piece; a second one does not fit anywhere.
    let out = cmd(&mut s, "/metarouter add name=big memory-size=256");
    assert!(out.trim().is_empty(), "add big: {out}");
    wait_state(&mut s, "big", "running", Duration::from_secs(60));
    s.on_console("big", "uptime", "uptime: ", Duration::from_secs(20));
    let out = cmd(&mut s, "/metarouter add name=big2 memory-size=256");
    assert!(out.contains("not enough memory"), "{out}");
    assert!(!cmd(&mut s, "/metarouter print").contains("big2"));
    let out = cmd(&mut s, "/metarouter remove big");
    assert!(out.trim().is_empty(), "remove big: {out}");

    for i in 1..=16 {
        let out = cmd(&mut s, &format!("/metarouter add name=g{i}"));
        assert!(out.trim().is_empty(), "add g{i}: {out}");
    }
    let out = cmd(&mut s, "/metarouter add name=g17");
    assert!(
        out.contains("too many virtual machines (at most 16)"),
        "{out}"
    );
    for i in 1..=16 {
        wait_state(&mut s, &format!("g{i}"), "running", Duration::from_secs(60));
    }
    for i in [1, 8, 15, 16] {
        s.on_console(
            &format!("g{i}"),
            "uptime",
            "uptime: ",
            Duration::from_secs(20),
        );
    }
    let print = cmd(&mut s, "/metarouter print");
    assert!(!print.contains("g17"), "{print}");
    assert_eq!(print.matches("running").count(), 16, "{print}");
    assert!(
        !s.transcript().contains("hypervisor panic"),
        "{}",
        s.transcript()
    );
}

/// An imported image is part of the saved configuration: after a host reboot the machine boots
/// the same image from the file store; if the file is gone, it stays stopped and says why.
#[test]
fn imported_image_survives_a_host_reboot() {
    let built = guests::build_once().expect("building the guests");
    let dir = std::env::temp_dir().join(format!("mr-guests-{}-reboot", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let flash = dir.join("flash.img");
    ensure_flash_image(&flash, MALTA_FLASH_SIZE).expect("flash image");
    let all = dir.join("all.bin");
    let archives: Vec<_> = guests::NAMES.iter().map(|n| built.archive(n)).collect();
    build_store(&archives, &all).expect("packing the file store");
    let hello_only = dir.join("hello-only.bin");
    build_store(&[built.archive("hello")], &hello_only).expect("packing the file store");
    let boot = |files: &std::path::Path| {
        let mut s = Session::boot_with(Board::QemuMalta, |c| {
            c.files = Some(files.to_path_buf());
            c.flash = Some(flash.clone());
        });
        s.login(BOOT);
        s
    };

    let mut s = boot(&all);
    cmd(
        &mut s,
        "/metarouter import-image file-name=netguest.tgz name=n1",
    );
    wait_state(&mut s, "n1", "running", Duration::from_secs(30));
    let before = cmd(&mut s, "/metarouter print");
    s.power_cut();

    // Same files: the netguest image again (the built-in guest has no `ip` command).
    let mut s = boot(&all);
    wait_state(&mut s, "n1", "running", Duration::from_secs(30));
    s.on_console(
        "n1",
        "ip 10.0.0.1/24",
        "set for the first interface",
        Duration::from_secs(10),
    );
    assert_eq!(
        cmd(&mut s, "/metarouter print"),
        before,
        "used-disk or state differ after the reboot"
    );
    assert!(
        !cmd(&mut s, "/export").contains("image-file"),
        "export shows the image file"
    );
    s.power_cut();

    // The file is gone: the machine stays stopped, with the reason.
    let mut s = boot(&hello_only);
    assert!(
        s.transcript()
            .contains("n1: cannot boot: image file netguest.tgz is not in the file store"),
        "{}",
        s.transcript()
    );
    assert_eq!(state_of(&mut s, "n1"), "stopped");
    let detail = cmd(&mut s, "/metarouter print detail");
    assert!(detail.contains("not in the file store"), "{detail}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A guest without a runtime (`bare`, laid out like the small C guests): interrupts off, its
/// first privileged instruction a `wait` (in its entry's branch delay slot), then its
/// hypercalls at once through the fast path. A `wait` with interrupts off is a yield, so the
/// guest goes on at once, is `running` as soon as it made its first hypercall (not when its
/// never-programmed timer wraps, 27 s later at 160 MHz), and its console answers.
#[test]
fn a_guest_with_interrupts_off_is_running_at_once() {
    let mut s = boot_with_guests(256, "bare");
    let out = cmd(
        &mut s,
        "/metarouter import-image file-name=bare.tgz name=b1",
    );
    assert!(out.contains("imported: 100%"), "{out}");
    let imported = Instant::now();
    wait_state(&mut s, "b1", "running", Duration::from_secs(5));
    println!(
        "b1 running {:.1} s after its import",
        imported.elapsed().as_secs_f64()
    );
    s.send_line("/metarouter console b1");
    s.expect("[Ctrl-A is the prefix key]");
    s.expect_within(
        "bare: MetaROUTER guest without a runtime",
        Duration::from_secs(5),
    );
    s.send("echo-me");
    s.expect_within("echo-me", Duration::from_secs(5));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
}
