//! PowerPC e500v2 guests on qemu-ppce500: `hello-e500` imported and started, its console
//! output (device tree, its own TLB0 entry, its decrementer interrupts) seen through
//! `/metarouter console`, its state in `/metarouter print`, its console echo, and stop; and
//! `/metarouter add` with no image starting the image's built-in `hello-e500`.

use std::time::{Duration, Instant};

use qemu_tests::boards::Board;
use qemu_tests::files::build_store;
use qemu_tests::guests;
use qemu_tests::session::{Session, PROMPT};

const BOOT: Duration = Duration::from_secs(60);

fn boot_with_hello(tag: &str) -> Session {
    let archive = guests::build_e500_once().expect("building hello-e500");
    let dir = std::env::temp_dir().join(format!("mr-e500-{}-{tag}", std::process::id()));
    let store = dir.join("files.bin");
    build_store(&[archive], &store).expect("packing the file store");
    let mut s = Session::boot_with(Board::QemuPpce500, |c| c.files = Some(store));
    s.login(BOOT);
    s
}

/// The STATE column of `name` in `/metarouter print`.
fn state_of(s: &mut Session, name: &str) -> String {
    let out = s.command("/metarouter print", PROMPT);
    out.lines()
        .find(|l| l.split_whitespace().any(|w| w == name))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("{name} not in /metarouter print:\n{out}"))
        .to_string()
}

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
fn ppce500_hello_guest_runs_prints_echoes_and_stops() {
    let mut s = boot_with_hello("hello");
    let out = s.command(
        "/metarouter import-image file-name=hello-e500.tgz name=h1 memory-size=16",
        PROMPT,
    );
    assert!(!out.contains("failure"), "{out}");
    wait_state(&mut s, "h1", "running", Duration::from_secs(30));
    s.send_line("/metarouter console h1");
    s.expect("[Ctrl-A is the prefix key]");
    let seen = s.expect_within("hello-e500: ready", Duration::from_secs(30));
    for line in [
        "hello-e500: MetaROUTER PowerPC guest",
        "hello-e500: device tree at 0x8",
        "hello-e500: TLB0 alias 0x10000000 -> 0x",
    ] {
        assert!(seen.contains(line), "missing {line:?} in:\n{seen}");
    }
    // It waits for five, and one more may come before it turns the timer off.
    let interrupts: u32 = seen
        .split(" decrementer interrupts")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no decrementer count in:\n{seen}"));
    assert!(
        (5..=6).contains(&interrupts),
        "{interrupts} decrementer interrupts:\n{seen}"
    );
    s.send_line("echo-me-back");
    s.expect_within("hello-e500 heard: echo-me-back", Duration::from_secs(10));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    assert_eq!(state_of(&mut s, "h1"), "running");
    s.command("/metarouter disable h1", PROMPT);
    wait_state(&mut s, "h1", "disabled", Duration::from_secs(10));
    // The machine is still there and answers.
    let out = s.command("/system resource print", PROMPT);
    assert!(out.contains("uptime"), "{out}");
}

/// Without an imported image, `/metarouter add` boots the guest built into the image.
#[test]
fn ppce500_metarouter_add_starts_the_built_in_guest() {
    let mut s = Session::boot(Board::QemuPpce500);
    s.login(BOOT);
    let out = s.command("/metarouter add name=mr1", PROMPT);
    assert!(out.trim().is_empty(), "{out}");
    wait_state(&mut s, "mr1", "running", Duration::from_secs(30));
    s.send_line("/metarouter console mr1");
    s.expect("[Ctrl-A is the prefix key]");
    s.expect_within("hello-e500: ready", Duration::from_secs(30));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    let out = s.command("/export", PROMPT);
    assert!(out.contains("/metarouter"), "{out}");
    assert!(out.contains("name=mr1"), "{out}");
}

/// Attach to `vm`'s console, type `line`, wait for the guest's answer to it, detach.
fn echo_on_console(s: &mut Session, vm: &str, line: &str) {
    s.send_line(&format!("/metarouter console {vm}"));
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line(line);
    s.expect_within(
        &format!("hello-e500 heard: {line}"),
        Duration::from_secs(15),
    );
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
}

/// Eight guests at once, each with its own shadow IDs, timers and console; stopping some
/// leaves the others answering.
#[test]
fn ppce500_eight_guests_run_and_answer() {
    let mut s = Session::boot(Board::QemuPpce500);
    s.login(BOOT);
    for i in 1..=8 {
        let out = s.command(&format!("/metarouter add name=g{i}"), PROMPT);
        assert!(out.trim().is_empty(), "add g{i}: {out}");
    }
    for i in 1..=8 {
        wait_state(&mut s, &format!("g{i}"), "running", Duration::from_secs(30));
    }
    for i in 1..=8 {
        echo_on_console(&mut s, &format!("g{i}"), &format!("guest-{i}-answers"));
    }
    s.command("/metarouter disable g3", PROMPT);
    wait_state(&mut s, "g3", "disabled", Duration::from_secs(10));
    s.command("/metarouter reboot g5", PROMPT);
    wait_state(&mut s, "g5", "running", Duration::from_secs(15));
    for i in [1, 2, 4, 5, 6, 7, 8] {
        echo_on_console(
            &mut s,
            &format!("g{i}"),
            &format!("guest-{i}-still-answers"),
        );
    }
}

/// Sixteen guests of 16 MiB at once (the RAM above the boot map's 256 MiB mapped too), each
/// with its own shadow IDs and console; the hypervisor's TLB1 guest slots (twelve) are shared.
#[test]
fn ppce500_sixteen_guests_run_and_answer() {
    let mut s = Session::boot(Board::QemuPpce500);
    let boot = s.login(BOOT);
    assert!(boot.contains("RAM 512 MiB"), "{boot}");
    for i in 1..=16 {
        let out = s.command(&format!("/metarouter add name=g{i}"), PROMPT);
        assert!(out.trim().is_empty(), "add g{i}: {out}");
    }
    for i in 1..=16 {
        wait_state(&mut s, &format!("g{i}"), "running", Duration::from_secs(60));
    }
    for i in 1..=16 {
        echo_on_console(&mut s, &format!("g{i}"), &format!("guest-{i}-answers"));
    }
}

/// The isolation probes of `hello-e500` (TLB entries past its RAM, on the CCSR and a 1 GiB
/// one over its RAM's end, `dcbi` and `dcbz` outside it, L1CSR/HID0/MMUCSR0 writes, an unknown
/// hypercall) all end in the guest's own exceptions or refusals, and while it spins with
/// interrupts off, and during its decrementer storm, a bystander keeps answering and the host
/// its shell.
#[test]
fn ppce500_isolation_probes_are_contained_while_a_bystander_answers() {
    let mut s = Session::boot(Board::QemuPpce500);
    s.login(BOOT);
    for name in ["attacker", "bystander"] {
        let out = s.command(&format!("/metarouter add name={name}"), PROMPT);
        assert!(out.trim().is_empty(), "add {name}: {out}");
        wait_state(&mut s, name, "running", Duration::from_secs(30));
    }
    s.send_line("/metarouter console attacker");
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line("probe");
    let out = s.expect_within("probes: done", Duration::from_secs(20));
    let probes: Vec<&str> = out.lines().filter(|l| l.starts_with("probe ")).collect();
    assert_eq!(probes.len(), 7, "{out}");
    for line in &probes {
        assert!(line.contains(": contained"), "{line}\n{out}");
    }
    s.send_line("spin");
    s.expect_within("spin: interrupts off", Duration::from_secs(10));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    let spinning = Instant::now();
    echo_on_console(&mut s, "bystander", "while-the-attacker-spins");
    let out = s.command("/system resource print", PROMPT);
    assert!(out.contains("uptime"), "{out}");
    let answered = spinning.elapsed();
    s.send_line("/metarouter console attacker");
    s.expect("[Ctrl-A is the prefix key]");
    s.expect_within("spin: done", Duration::from_secs(60));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    println!("the bystander and the host answered {answered:?} into the attacker's spin");
    // A decrementer storm: the bystander and the host still answer.
    s.send_line("/metarouter console attacker");
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line("storm");
    s.expect_within("storm: decrementer every tick", Duration::from_secs(10));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    let storming = Instant::now();
    echo_on_console(&mut s, "bystander", "while-the-attacker-storms");
    let out = s.command("/system resource print", PROMPT);
    assert!(out.contains("uptime"), "{out}");
    let answered = storming.elapsed();
    println!("the bystander and the host answered {answered:?} into the storm");
    // The storming guest starves itself (an interrupt at every return, as on the core), but
    // the host still stops it.
    assert_eq!(state_of(&mut s, "attacker"), "running");
    s.command("/metarouter disable attacker", PROMPT);
    wait_state(&mut s, "attacker", "disabled", Duration::from_secs(10));
    assert_eq!(state_of(&mut s, "bystander"), "running");
    echo_on_console(&mut s, "bystander", "after-the-storm");
}

/// `hello-e500`'s `bench` under `-icount shift=0` (one instruction per virtual nanosecond):
/// instructions per hypercall round trip, emulated `mfspr`/`mtspr`, `mfmsr` and `wrteei`
/// (the guest's loop subtracted), printed; each must cost more than the bare loop (it traps
/// to the hypervisor). `cargo test -p qemu-tests --test guests_e500 -- icount --nocapture`.
#[test]
fn ppce500_trap_costs_under_icount() {
    let mut s = Session::boot_with(Board::QemuPpce500, |c| {
        c.extra = vec!["-icount".into(), "shift=0".into()];
    });
    let banner = s.login(BOOT);
    let timer_mhz: f64 = banner
        .split(" MHz")
        .next()
        .and_then(|h| h.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no timer rate in the banner:\n{banner}"));
    s.command("/metarouter add name=b1", PROMPT);
    wait_state(&mut s, "b1", "running", Duration::from_secs(60));
    s.send_line("/metarouter console b1");
    s.expect("[Ctrl-A is the prefix key]");
    s.expect_within("hello-e500: ready", Duration::from_secs(60));
    s.send_line("bench");
    let out = s.expect_within("wrteei ", Duration::from_secs(60));
    let line = s.expect_within("\r\n", Duration::from_secs(5));
    let text = format!("{out}wrteei {line}");
    let numbers: Vec<(String, u64)> = text
        .rsplit("ticks per 1000: ")
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .chunks(2)
        .filter_map(|p| Some((p[0].to_string(), p.get(1)?.trim().parse().ok()?)))
        .collect();
    assert_eq!(numbers.len(), 11, "{text}");
    let per_instruction = 1000.0 / timer_mhz; // virtual ns per time-base tick
    let loop_ticks = numbers[0].1;
    for (name, ticks) in &numbers[1..] {
        let instructions = (*ticks as f64 - loop_ticks as f64) * per_instruction / 1000.0;
        println!("{name}: {instructions:.0} instructions (time-base ticks {ticks} per 1000, loop {loop_ticks})");
        assert!(*ticks > loop_ticks, "{name} does not trap: {text}");
    }
    // The host TLB miss after a changed guest entry, served from the refill cache in the
    // TLB-error vector: within the budget of 120 hypervisor instructions.
    let ticks_of = |name: &str| {
        numbers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| *t as f64)
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    let miss = (ticks_of("remap+miss") - ticks_of("remap")) * per_instruction / 1000.0;
    println!("host TLB miss from the refill cache: {miss:.0} instructions");
    assert!(
        miss <= 120.0,
        "a refill-cache miss costs {miss:.0} instructions: {text}"
    );
}

/// The emulated `mtspr`, `mfspr` and `mfmsr` (served in assembly for plain SPRs) read and
/// write whichever general register the instruction names: `hello-e500`'s `regs` moves a
/// pattern of each of r0..r31 through SPRG0 and SPRG1, and the MSR through SPRG2.
#[test]
fn ppce500_emulated_spr_moves_reach_every_register() {
    let mut s = Session::boot(Board::QemuPpce500);
    s.login(BOOT);
    s.command("/metarouter add name=r1", PROMPT);
    wait_state(&mut s, "r1", "running", Duration::from_secs(60));
    s.send_line("/metarouter console r1");
    s.expect("[Ctrl-A is the prefix key]");
    s.expect_within("hello-e500: ready", Duration::from_secs(60));
    s.send_line("regs");
    let seen = s.try_expect("regs: ok, r0..r31", Duration::from_secs(30));
    assert!(seen.is_some(), "{}", s.transcript());
}

/// The hypervisor memory a running guest costs beyond its RAM (its state, devices, console
/// buffers and CPU model), as the image prints it at boot: within the budget of 16 KiB.
#[test]
fn ppce500_hypervisor_memory_per_guest_fits_16_kib() {
    let mut s = Session::boot(Board::QemuPpce500);
    let banner = s.login(BOOT);
    let bytes: usize = banner
        .split(" bytes of hypervisor memory per running guest")
        .next()
        .filter(|head| head.len() < banner.len())
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no per-guest memory in the boot log:\n{banner}"));
    println!("hypervisor memory per running guest: {bytes} bytes");
    assert!(bytes <= 16 * 1024, "{bytes} bytes per guest:\n{banner}");
}

/// A machine check the guest takes with MSR\[ME\] = 0 stops it, as a checkstop stops the core,
/// and says so; the host and another guest carry on.
#[test]
fn ppce500_a_guest_checkstop_stops_only_that_guest() {
    let mut s = Session::boot(Board::QemuPpce500);
    s.login(BOOT);
    for name in ["victim", "other"] {
        s.command(&format!("/metarouter add name={name}"), PROMPT);
        wait_state(&mut s, name, "running", Duration::from_secs(30));
    }
    s.send_line("/metarouter console victim");
    s.expect("[Ctrl-A is the prefix key]");
    s.send_line("checkstop");
    s.expect_within("checkstop: machine checks off", Duration::from_secs(10));
    s.send("\x01q");
    s.expect("Welcome back!");
    s.expect(PROMPT);
    wait_state(&mut s, "victim", "stopped", Duration::from_secs(10));
    assert!(
        s.transcript()
            .contains("victim: stopped: a machine check with MSR[ME] = 0 (checkstop)"),
        "{}",
        s.transcript()
    );
    assert!(!s.transcript().contains("checkstop: ESCAPED"));
    echo_on_console(&mut s, "other", "after-the-checkstop");
}
