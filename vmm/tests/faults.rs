//! Faults: a guest the CPU layer stops is logged, keeps the reason and gives its RAM back, and
//! can be started again; a queue a guest breaks is faulted and logged while the guest runs on;
//! a machine whose CPU cannot run guests says so.

mod common;

use common::*;
use guest_mem::{GuestArch, PhysRange};
use vmm::lifecycle::State;
use vmm::{
    CpuError, EntryState, GuestCpu, GuestEnv, GuestError, GuestHalt, GuestId, Machine, Manager,
    RunExit,
};

#[test]
fn a_guest_the_cpu_stops_is_logged_stopped_and_can_start_again() {
    let mut m = manager(None);
    let cpu = started(&mut m, 0, "mr1");
    cpu.borrow_mut()
        .script
        .push_back(Step::Halt(GuestHalt::VectorOutsideRam {
            vector: 0xC500_0180,
        }));
    assert!(m.run_next());
    let report = m.status(GuestId(0)).unwrap();
    assert_eq!(report.state, State::Stopped);
    let why = "stopped: exception vector 0xc5000180 lies outside the guest's RAM";
    assert_eq!(report.last_message.as_deref(), Some(why));
    assert_eq!(m.machine().log.borrow().as_slice(), [format!("mr1: {why}")]);
    assert_eq!(m.machine().ram.free_bytes(), 60 * MIB);
    assert!(!m.run_next(), "nothing left to run");
    m.start(GuestId(0)).unwrap();
    assert_eq!(m.status(GuestId(0)).unwrap().last_message, None);
    assert_eq!(cpus().len(), 2);
}

#[test]
fn halt_reasons_read_as_before() {
    assert_eq!(
        GuestHalt::ExceptionWithBootVectors { code: 8 }.to_string(),
        "exception 8 with Status.BEV set (no boot ROM to take it)"
    );
    assert_eq!(
        GuestHalt::HostException(24).to_string(),
        "unexpected exception 24 in guest mode"
    );
}

#[test]
fn a_broken_ring_faults_its_queue_and_the_guest_runs_on() {
    let mut m = manager(None);
    let cpu = started(&mut m, 0, "mr1");
    bring_up(&mut m, 0, &cpu);
    // A TX descriptor whose buffer lies outside the guest's RAM.
    {
        let mut ram = m.guest_ram(GuestId(0)).unwrap();
        ram.write_u32(guest_mem::Gva::new(TX), 0x1000).unwrap();
        ram.write_u32(guest_mem::Gva::new(TX + 4), 100 | vdevices::abi::DONE)
            .unwrap();
    }
    round(&mut m);
    let log = m.machine().log.borrow().clone();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].starts_with("mr1: queue 3"), "{log:?}");
    assert_eq!(m.status(GuestId(0)).unwrap().state, State::Running);
}

#[test]
fn a_fault_during_a_reboot_leaves_the_guest_stopped() {
    let mut m = manager(None);
    let cpu = started(&mut m, 0, "mr1");
    bring_up(&mut m, 0, &cpu);
    m.reboot(GuestId(0)).unwrap();
    cpu.borrow_mut()
        .script
        .push_back(Step::Halt(GuestHalt::HostException(24)));
    run_all(&mut m, 4);
    assert_eq!(m.status(GuestId(0)).unwrap().state, State::Stopped);
    assert_eq!(m.machine().ram.free_bytes(), 60 * MIB);
}

/// A CPU that cannot run guests, as PowerPC's is today.
struct NoCpu;

impl GuestCpu for NoCpu {
    const ARCH: GuestArch = GuestArch::E500;
    const RUNS_GUESTS: bool = false;
    fn create(_: PhysRange, _: &EntryState) -> Result<Box<Self>, CpuError> {
        Err(CpuError::Unsupported)
    }
    fn reset(&mut self, _: &EntryState) -> Result<(), CpuError> {
        unreachable!()
    }
    fn run(&mut self, _: &mut dyn GuestEnv) -> RunExit {
        unreachable!()
    }
    fn runnable(&mut self) -> bool {
        unreachable!()
    }
    fn wake(&mut self) {}
    fn inject_device_interrupt(&mut self) {}
    fn wait_deadline(&self, _: u64) -> Option<u64> {
        None
    }
}

struct NoGuestsMachine(FakeMachine);

impl Machine for NoGuestsMachine {
    type Cpu = NoCpu;
    type Ram = Box<[u8]>;
    fn counter(&self) -> u64 {
        self.0.counter()
    }
    fn uptime_ms(&self) -> u64 {
        self.0.uptime_ms()
    }
    fn host_work_pending(&self) -> bool {
        false
    }
    fn log(&self, text: std::fmt::Arguments<'_>) {
        self.0.log(text);
    }
    fn allocate_partition(
        &mut self,
        size: u64,
        align: u64,
        limit: u64,
    ) -> Option<(PhysRange, Box<[u8]>)> {
        self.0.allocate_partition(size, align, limit)
    }
    fn free_partition(&mut self, partition: PhysRange, ram: Box<[u8]>) {
        self.0.free_partition(partition, ram);
    }
    fn builtin_guest(&self) -> &'static [u8] {
        self.0.builtin_guest()
    }
}

#[test]
fn a_machine_whose_cpu_runs_no_guests_refuses_to_boot_and_says_why() {
    let mut m = Manager::new(NoGuestsMachine(FakeMachine::new()), None, 1000);
    m.define(GuestId(0), &spec("mr1")).unwrap();
    assert_eq!(m.start(GuestId(0)), Err(GuestError::Unsupported));
    assert_eq!(m.status(GuestId(0)).unwrap().state, State::Stopped);
    let m0 = &m.machine().0;
    assert_eq!(
        m0.log.borrow().as_slice(),
        ["mr1: cannot boot: guests are not supported on this CPU yet"]
    );
    assert_eq!(m0.ram.free_bytes(), 60 * MIB);
    // e500 partitions are aligned for TLB1: a 4 MiB guest would have needed a 4 MiB boundary.
    assert_eq!(GuestArch::E500.partition_align(4 * MIB), 4 * MIB);
}
