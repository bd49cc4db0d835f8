//! The guest SDK's samples built for the PowerPC e500 (`hello-ppc.tgz`, `netguest-ppc.tgz`,
//! `attacker-ppc.tgz`) on qemu-ppce500: `hello`'s banner and console commands, eight `hello`s
//! through start, shut-down, reboot, disable, their own halt and restart, two netguests
//! that ping each other in one bridge and not across bridges, the attacker's probes contained
//! while a bystander keeps answering, and `hello`'s `bench` under `-icount shift=0`.

use std::time::{Duration, Instant};

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);

/// Boot qemu-ppce500 with the e500 archives in the file store, and log in.
fn boot_with_guests(tag: &str, extra: &[&str]) -> Session {
    let built = guests::build_e500_sdk_once().expect("building the e500 guests");
    let dir = std::env::temp_dir().join(format!("mr-sdk-e500-{}-{tag}", std::process::id()));
    let store = dir.join("files.bin");
    let archives: Vec<_> = guests::E500_NAMES
        .iter()
        .map(|n| built.e500_archive(n))
        .collect();
    build_store(&archives, &store).expect("packing the file store");
    let mut s = Session::boot_with(Board::QemuPpce500, |c| {
        c.files = Some(store);
        c.extra.extend(extra.iter().map(|a| a.to_string()));
    });
    s.login(BOOT);
    s
}

fn cmd(s: &mut Session, line: &str) -> String {
    let out = s.command(line, PROMPT);
    assert!(!out.contains("failure"), "{line}: {out}");
    out
}

/// The STATE column of `name` in `/metarouter print`.
fn state_of(s: &mut Session, name: &str) -> String {
    let out = cmd(s, "/metarouter print");
    out.lines()
        .find(|l| l.split_whitespace().any(|w| w == name))
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
fn ppce500_sdk_hello_answers_its_commands() {
    let mut s = boot_with_guests("hello", &[]);
    cmd(
        &mut s,
        "/metarouter import-image file-name=hello-ppc.tgz name=h1 memory-size=32",
    );
    wait_state(&mut s, "h1", "running", Duration::from_secs(30));
    s.send_line("/metarouter console h1");
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line("");
    let banner = s.expect_within("hello> ", Duration::from_secs(20));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    println!("{banner}");
    let transcript = s.transcript();
    for line in [
        "hello: MetaROUTER guest (mr-guest",
        "memory-size: 32MiB",
        "virtualized: yes",
    ] {
        assert!(transcript.contains(line), "missing {line:?}:\n{transcript}");
    }
    let help = s.on_console(
        "h1",
        "help",
        "anything else is echoed",
        Duration::from_secs(10),
    );
    assert!(help.contains("uptime"), "{help}");
    s.on_console("h1", "say hi", "echo: say hi", Duration::from_secs(10));
    // The decrementer tick drives the uptime: two readings 2 s apart differ.
    let first = s.on_console("h1", "uptime", "hello> ", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(3));
    let second = s.on_console("h1", "uptime", "hello> ", Duration::from_secs(10));
    let secs = |out: &str| -> u64 {
        let word = out
            .rsplit("uptime: ")
            .next()
            .and_then(|t| t.split_whitespace().next())
            .unwrap_or_else(|| panic!("no uptime in {out:?}"));
        mr_seconds(word)
    };
    assert!(
        secs(&second) >= secs(&first) + 2,
        "uptime did not advance: {first:?} then {second:?}"
    );
    // `halt` ends the guest through the control queue.
    s.on_console("h1", "halt", "halting", Duration::from_secs(10));
    wait_state(&mut s, "h1", "stopped", Duration::from_secs(15));
    assert!(!s.transcript().contains("panic"), "{}", s.transcript());
}

/// Eight SDK `hello` guests through their life cycle, as on MIPS (`guests.rs`): each answers
/// on its console; the host shuts one down (it obeys through the control queue) and starts it
/// again, reboots one, disables one; one halts itself and one restarts itself; the others kept
/// running and answer again.
#[test]
fn ppce500_eight_sdk_guests_through_their_life_cycle() {
    let mut s = boot_with_guests("eight", &[]);
    for i in 1..=8 {
        cmd(
            &mut s,
            &format!("/metarouter import-image file-name=hello-ppc.tgz name=g{i} memory-size=16"),
        );
    }
    for i in 1..=8 {
        wait_state(&mut s, &format!("g{i}"), "running", Duration::from_secs(60));
    }
    let uptime = |s: &mut Session, i: u32| {
        s.on_console(
            &format!("g{i}"),
            "uptime",
            "uptime: ",
            Duration::from_secs(20),
        );
    };
    for i in 1..=8 {
        uptime(&mut s, i);
    }
    // The host shuts a guest down: it is asked to halt, obeys, and stops; it starts again.
    cmd(&mut s, "/metarouter shut-down g1");
    wait_state(&mut s, "g1", "stopped", Duration::from_secs(20));
    cmd(&mut s, "/metarouter start g1");
    wait_state(&mut s, "g1", "running", Duration::from_secs(30));
    // The host reboots a guest: it comes back running.
    cmd(&mut s, "/metarouter reboot g2");
    wait_state(&mut s, "g2", "running", Duration::from_secs(30));
    // A disabled guest stops and shows as disabled.
    cmd(&mut s, "/metarouter disable g3");
    wait_state(&mut s, "g3", "disabled", Duration::from_secs(20));
    // A guest halting itself stops.
    s.on_console("g4", "halt", "halting", Duration::from_secs(20));
    wait_state(&mut s, "g4", "stopped", Duration::from_secs(20));
    // A guest restarting itself comes back.
    s.on_console("g5", "reboot", "rebooting", Duration::from_secs(20));
    wait_state(&mut s, "g5", "running", Duration::from_secs(30));
    // The restarted ones and everybody else answer.
    for i in [1, 2, 5, 6, 7, 8] {
        uptime(&mut s, i);
    }
    for (name, state) in [("g3", "disabled"), ("g4", "stopped")] {
        assert_eq!(state_of(&mut s, name), state, "{}", s.transcript());
    }
    println!("{}", cmd(&mut s, "/metarouter print"));
    assert!(!s.transcript().contains("panic"), "{}", s.transcript());
}

/// Seconds of a RouterOS-style duration (`1m3s`, `5s`, `2h5s`).
fn mr_seconds(word: &str) -> u64 {
    let mut total = 0;
    let mut n = 0;
    for c in word.chars() {
        match c {
            '0'..='9' => n = n * 10 + u64::from(c as u8 - b'0'),
            's' => (total, n) = (total + n, 0),
            'm' => (total, n) = (total + n * 60, 0),
            'h' => (total, n) = (total + n * 3600, 0),
            'd' => (total, n) = (total + n * 86400, 0),
            'w' => (total, n) = (total + n * 604_800, 0),
            _ => break,
        }
    }
    total
}

/// Two e500 netguests on vifs: `bridges` names the bridge of each.
fn ping_between(bridges: [&str; 2], expect_reply: bool) {
    let mut s = boot_with_guests(&bridges.join("-"), &[]);
    for b in ["br1", "br2"] {
        cmd(&mut s, &format!("/interface bridge add name={b}"));
    }
    for (i, b) in bridges.iter().enumerate() {
        let n = i + 1;
        cmd(
            &mut s,
            &format!("/metarouter import-image file-name=netguest-ppc.tgz name=n{n}"),
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
            Duration::from_secs(20),
        );
    }
    let out = s.on_console(
        "n2",
        "ping 10.0.0.1 3",
        "packet-loss",
        Duration::from_secs(30),
    );
    println!("{out}");
    if expect_reply {
        assert!(out.contains("received=3"), "{out}\n{}", s.transcript());
    } else {
        assert!(out.contains("received=0"), "{out}\n{}", s.transcript());
    }
    assert!(!s.transcript().contains("panic"), "{}", s.transcript());
}

#[test]
fn ppce500_netguests_in_one_bridge_reach_each_other() {
    ping_between(["br1", "br1"], true);
}

#[test]
fn ppce500_netguests_in_different_bridges_do_not() {
    ping_between(["br1", "br2"], false);
}

/// The attacker's e500 probes, all contained, while a bystander (the SDK's hello) keeps
/// answering on its console.
#[test]
fn ppce500_attacker_is_contained_while_a_bystander_answers() {
    let mut s = boot_with_guests("attacker", &[]);
    cmd(&mut s, "/interface bridge add name=br1");
    cmd(
        &mut s,
        "/metarouter import-image file-name=hello-ppc.tgz name=bystander",
    );
    wait_state(&mut s, "bystander", "running", Duration::from_secs(30));
    cmd(
        &mut s,
        "/metarouter import-image file-name=attacker-ppc.tgz name=attacker",
    );
    cmd(
        &mut s,
        "/metarouter interface add virtual-machine=attacker dynamic-bridge=br1",
    );
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
    assert!(probes >= 40, "only {probes} probes ran:\n{report}");
    for name in [
        "tlb1-every-size-past-ram",
        "tlb1-ccsr-read",
        "rfi-to-problem-state",
        "l1csr0-flash-invalidate",
        "hid0-doze-nap-sleep",
        "ivpr-ivor-write",
        "queue-ring-above-ram",
        "hypercall-unknown",
        "decrementer-storm",
        "spin-irqs-off",
    ] {
        assert!(
            report.contains(&format!("probe {name}: ")),
            "no probe {name}:\n{report}"
        );
    }
    // The bystander never noticed.
    s.on_console("bystander", "uptime", "uptime: ", Duration::from_secs(10));
    assert_eq!(state_of(&mut s, "bystander"), "running");
    assert_eq!(state_of(&mut s, "attacker"), "running");
    assert!(
        !s.transcript().contains("hypervisor panic"),
        "{}",
        s.transcript()
    );
}

/// The SDK hello's `bench` under `-icount shift=0` (one instruction per virtual nanosecond):
/// each figure converted to instructions per operation (the loop subtracted) and printed;
/// every trapping operation must cost more than the bare loop.
/// `cargo test -p qemu-tests --test sdk_e500 -- bench --nocapture`.
#[test]
fn ppce500_sdk_hello_bench_under_icount() {
    let mut s = boot_with_guests("bench", &["-icount", "shift=0"]);
    cmd(
        &mut s,
        "/metarouter import-image file-name=hello-ppc.tgz name=b1 memory-size=32",
    );
    wait_state(&mut s, "b1", "running", Duration::from_secs(60));
    let out = s.on_console("b1", "bench", "tlb-rewrite=", Duration::from_secs(120));
    let tail = s.transcript();
    let text = &tail[tail
        .rfind("bench: timebase-frequency=")
        .expect("bench header")..];
    let hz: f64 = text["bench: timebase-frequency=".len()..]
        .split("Hz")
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no time-base rate:\n{out}"));
    let figure = |name: &str| -> f64 {
        text.split(&format!("bench: {name}="))
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} figure:\n{text}"))
    };
    let ns_per_tick = 1e9 / hz;
    let empty = figure("loop");
    for name in [
        "hypercall",
        "spr-read",
        "spr-write",
        "msr-read",
        "wrteei-pair",
        "syscall",
        "tlb-pages",
        "tlb-wide",
        "tlb-rewrite",
    ] {
        let ticks = figure(name);
        println!(
            "{name}: {:.0} instructions ({ticks} ticks per round, loop {empty})",
            (ticks - empty) * ns_per_tick
        );
        assert!(ticks > empty, "{name} costs no more than the loop:\n{text}");
    }
}
