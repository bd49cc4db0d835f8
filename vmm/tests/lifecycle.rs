//! A guest's life: booting the built-in guest into a fresh partition, becoming running with its
//! first hypercall, shutting down and rebooting through its control queue or by force after the
//! grace period, and giving its RAM back.

mod common;

use common::*;
use guest_mem::Gva;
use vmm::lifecycle::{State, GRACE_MS};
use vmm::{GuestError, GuestId, GuestSpec};

fn state(m: &vmm::Manager<FakeMachine>, id: u8) -> State {
    m.status(GuestId(id)).unwrap().state
}

#[test]
fn start_loads_the_builtin_guest_into_a_zeroed_partition_with_its_arguments() {
    let mut m = manager(None);
    let cpu = started(&mut m, 0, "mr1");
    let cpu = cpu.borrow();
    // The first partition above the hypervisor's 4 MiB, 1 MiB aligned, of the defined size.
    assert_eq!(cpu.partition.base, 4 * MIB);
    assert_eq!(cpu.partition.size, u64::from(GUEST_MIB) * MIB);
    // The sample kernel's entry; argc = 4 (HZ, board, mem, kmac), argv in the last page.
    assert_eq!(cpu.entry.pc, 0xC010_0000);
    assert_eq!(cpu.entry.args[0], 4);
    assert_eq!(cpu.entry.args[1], 0xC000_0000 + (GUEST_MIB << 20) - 4096);
    drop(cpu);
    let mut ram = m.guest_ram(GuestId(0)).unwrap();
    // RAM outside the kernel and the arguments was zeroed (the machine hands out 0xA5s).
    assert_eq!(ram.read_u32(Gva::new(0xC030_0000)).unwrap(), 0);
    let argv0 = ram
        .read_u32(Gva::new(0xC000_0000 + (GUEST_MIB << 20) - 4096))
        .unwrap();
    let mut hz = [0u8; 13];
    ram.read_into(Gva::new(argv0), &mut hz).unwrap();
    assert_eq!(&hz, b"HZ=100000000\0");
    ram.write_u32(Gva::new(0xC030_0000), 1).unwrap();
    assert_eq!(state(&m, 0), State::Booting);
}

#[test]
fn the_first_hypercall_makes_a_guest_running() {
    let mut m = manager(None);
    let cpu = started(&mut m, 0, "mr1");
    round(&mut m);
    assert_eq!(state(&m, 0), State::Booting, "no hypercall yet");
    cpu.borrow_mut()
        .script
        .push_back(Step::Hypercall(6, [0; 4]));
    round(&mut m);
    assert_eq!(cpu.borrow().results, [0], "vm_running answers 0");
    assert_eq!(state(&m, 0), State::Running);
}

#[test]
fn a_guest_that_does_not_fit_is_refused_and_nothing_is_taken() {
    let mut m = manager(None);
    let big = GuestSpec {
        memory_mib: 61,
        ..spec("big")
    };
    m.define(GuestId(0), &big).unwrap();
    assert_eq!(m.start(GuestId(0)), Err(GuestError::OutOfMemory));
    assert_eq!(state(&m, 0), State::Stopped);
    assert_eq!(m.machine().ram.free_bytes(), 60 * MIB);
    assert!(cpus().is_empty());
    assert!(m.guest_ram(GuestId(0)).is_none());
}

#[test]
fn shutdown_without_a_control_queue_stops_at_once_and_frees_the_ram() {
    let mut m = manager(None);
    started(&mut m, 0, "mr1");
    assert_eq!(m.machine().ram.free_bytes(), 56 * MIB);
    m.shutdown(GuestId(0)).unwrap();
    assert_eq!(state(&m, 0), State::Stopped);
    assert_eq!(m.machine().ram.free_bytes(), 60 * MIB);
    assert!(m.guest_ram(GuestId(0)).is_none());
    assert_eq!(m.shutdown(GuestId(0)), Err(GuestError::WrongState));
}

#[test]
fn shutdown_asks_the_guest_which_halts_itself() {
    let mut m = manager(None);
    let cpu = started(&mut m, 0, "mr1");
    bring_up(&mut m, 0, &cpu);
    assert_eq!(state(&m, 0), State::Running);
    m.shutdown(GuestId(0)).unwrap();
    assert_eq!(state(&m, 0), State::ShuttingDown);
    assert_eq!(control_received(&mut m, 0), ["halt"]);
    assert!(
        cpu.borrow().injected > 0,
        "the control message raised the guest's interrupt"
    );
    control_send(&mut m, 0, 0, "halt");
    round(&mut m);
    assert_eq!(state(&m, 0), State::Stopped);
    assert_eq!(m.machine().ram.free_bytes(), 60 * MIB);
}

#[test]
fn a_guest_that_ignores_halt_is_stopped_after_the_grace_period() {
    let mut m = manager(None);
    let cpu = started(&mut m, 0, "mr1");
    bring_up(&mut m, 0, &cpu);
    m.shutdown(GuestId(0)).unwrap();
    m.machine().advance_ms(GRACE_MS - 1);
    round(&mut m);
    assert_eq!(state(&m, 0), State::ShuttingDown);
    m.machine().advance_ms(1);
    round(&mut m);
    assert_eq!(state(&m, 0), State::Stopped);
}

#[test]
fn reboot_resets_the_cpu_in_the_partition_it_holds() {
    let mut m = manager(None);
    let cpu = started(&mut m, 0, "mr1");
    bring_up(&mut m, 0, &cpu);
    let partition = cpu.borrow().partition;
    m.guest_ram(GuestId(0))
        .unwrap()
        .write_u32(Gva::new(0xC030_0000), 0xDEAD)
        .unwrap();
    m.reboot(GuestId(0)).unwrap();
    assert_eq!(state(&m, 0), State::Rebooting);
    assert_eq!(control_received(&mut m, 0), ["restart"]);
    control_send(&mut m, 0, 0, "restart");
    round(&mut m);
    assert_eq!(state(&m, 0), State::Booting);
    assert_eq!(cpus().len(), 1, "no new CPU");
    assert_eq!(cpu.borrow().resets, 1);
    assert_eq!(
        m.guest_ram(GuestId(0))
            .unwrap()
            .read_u32(Gva::new(0xC030_0000))
            .unwrap(),
        0,
        "RAM reloaded"
    );
    assert_eq!(cpu.borrow().partition, partition);
    assert_eq!(m.machine().ram.free_bytes(), 60 * MIB - partition.size);
    // Its devices start over: the old queues are gone, set-up works again.
    bring_up(&mut m, 0, &cpu);
    assert_eq!(state(&m, 0), State::Running);
}

#[test]
fn a_reboot_after_a_memory_change_takes_a_new_partition() {
    let mut m = manager(None);
    let cpu = started(&mut m, 0, "mr1");
    m.define(
        GuestId(0),
        &GuestSpec {
            memory_mib: 8,
            ..spec("mr1")
        },
    )
    .unwrap();
    assert_eq!(
        cpu.borrow().partition.size,
        4 * MIB,
        "a running guest keeps its RAM"
    );
    // No control queue: the reboot happens at once.
    m.reboot(GuestId(0)).unwrap();
    assert_eq!(cpus().len(), 2);
    assert_eq!(last_cpu().borrow().partition.size, 8 * MIB);
    assert_eq!(m.machine().ram.free_bytes(), 52 * MIB);
}

#[test]
fn undefining_a_running_guest_stops_it_and_frees_its_ram() {
    let mut m = manager(None);
    started(&mut m, 0, "mr1");
    started(&mut m, 1, "mr2");
    assert_eq!(m.machine().ram.free_bytes(), 52 * MIB);
    m.undefine(GuestId(0));
    assert!(m.status(GuestId(0)).is_none());
    assert_eq!(m.machine().ram.free_bytes(), 56 * MIB);
    assert_eq!(state(&m, 1), State::Booting);
    assert_eq!(m.start(GuestId(0)), Err(GuestError::NoSuchGuest));
}

#[test]
fn guests_take_turns_and_a_waiting_guest_runs_again_when_woken() {
    let mut m = manager(None);
    let a = started(&mut m, 0, "a");
    let b = started(&mut m, 1, "b");
    a.borrow_mut().script.push_back(Step::Wait);
    run_all(&mut m, 4);
    // Both ran; `a` waits and is skipped, `b` keeps its turns.
    assert_eq!(a.borrow().runs, 1);
    assert!(b.borrow().runs >= 2);
    assert!(!m.run_next() || a.borrow().runs == 1);
    // Console input for `a` gives it a turn again.
    m.console_write(GuestId(0), b"x");
    m.service();
    let before = a.borrow().runs;
    run_all(&mut m, 4);
    assert!(a.borrow().runs > before);
}

#[test]
fn a_waiting_guest_whose_timer_is_due_runs_again() {
    let mut m = manager(None);
    let a = started(&mut m, 0, "a");
    a.borrow_mut().deadline = Some(5 * CYCLES_PER_MS);
    a.borrow_mut().script.push_back(Step::Wait);
    assert!(m.run_next());
    assert_eq!(m.next_wake(), Some(5 * CYCLES_PER_MS));
    assert!(!m.run_next(), "nothing to run before its timer");
    m.machine().advance_ms(5);
    assert!(m.run_next());
    assert_eq!(a.borrow().runs, 2);
}

#[test]
fn console_bytes_go_both_ways() {
    let mut m = manager(None);
    let cpu = started(&mut m, 0, "mr1");
    // The console queue: 4 descriptors each way.
    let (tx, rx) = (0xC020_4000, 0xC020_4100);
    {
        let mut ram = m.guest_ram(GuestId(0)).unwrap();
        for i in 0..4u32 {
            ram.write_u32(Gva::new(tx + 16 * i), 0xC027_0000 + 256 * i)
                .unwrap();
            ram.write_u32(Gva::new(tx + 16 * i + 8), tx + 16 * ((i + 1) % 4))
                .unwrap();
            ram.write_u32(Gva::new(rx + 16 * i), 0xC027_1000 + 256 * i)
                .unwrap();
            ram.write_u32(Gva::new(rx + 16 * i + 4), 256).unwrap();
            ram.write_u32(Gva::new(rx + 16 * i + 8), rx + 16 * ((i + 1) % 4))
                .unwrap();
        }
        ram.write_from(Gva::new(0xC027_0000), b"hello\r\n").unwrap();
        ram.write_u32(Gva::new(tx + 4), 7 | vdevices::abi::DONE)
            .unwrap();
    }
    cpu.borrow_mut().script.extend([
        Step::Hypercall(14, [VIRQ, 32, 0, 0]),
        Step::Hypercall(4, [1, 1, tx, rx]),
    ]);
    round(&mut m);
    let mut out = [0u8; 64];
    let n = m.console_read(GuestId(0), &mut out);
    assert_eq!(&out[..n], b"hello\r\n");
    assert_eq!(m.console_write(GuestId(0), b"ls\r"), 3);
    round(&mut m);
    let ram = m.guest_ram(GuestId(0)).unwrap();
    assert_eq!(
        ram.read_u32(Gva::new(rx + 4)).unwrap(),
        3 | vdevices::abi::DONE
    );
    assert_eq!(ram.bytes(Gva::new(0xC027_1000), 3).unwrap(), b"ls\r");
}
