//! A machine and a guest CPU for the tests: a clock moved by hand, partitions from a
//! `PartitionAllocator` backed by host memory, and a CPU that runs a script of guest actions
//! (hypercalls, `wait`, a halt) instead of instructions. The guest side of the devices (rings,
//! virq word, frames) is written into guest RAM between slices, as a guest's kernel would
//! write it while it runs.
#![allow(dead_code)]

pub mod nic;
pub mod packets;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use guest_loader::fuzz::samples::mips_kernel;
use guest_loader::store::{FileStore, StoreBuilder};
use guest_mem::{GuestArch, GuestRam, Gva, PhysRange};
use vdevices::abi::DONE;
use vmm::partition::PartitionAllocator;
use vmm::{
    CpuError, EntryState, GuestCpu, GuestEnv, GuestHalt, GuestId, GuestSpec, Machine, Manager,
    RunExit,
};

pub const MIB: u64 = 1 << 20;
/// Counter cycles per millisecond (a 100 MHz counter).
pub const CYCLES_PER_MS: u64 = 100_000;
/// Guest RAM of the test guests.
pub const GUEST_MIB: u32 = 4;

/// One action of a guest, as its CPU would carry it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A hypercall: number and `$a0..$a3`.
    Hypercall(u32, [u32; 4]),
    /// `wait` (the turn ends, the guest waits for an interrupt).
    Wait,
    /// The CPU layer stops the guest.
    Halt(GuestHalt),
}

/// What a fake CPU was asked and did.
#[derive(Debug)]
pub struct CpuState {
    pub partition: PhysRange,
    pub entry: EntryState,
    pub script: VecDeque<Step>,
    /// Results of the hypercalls made, in order.
    pub results: Vec<i32>,
    pub runs: u32,
    pub resets: u32,
    pub waiting: bool,
    /// Device interrupts injected (by guest management between slices) and taken (through
    /// the environment while running).
    pub injected: u32,
    pub taken: u32,
    pub wakes: u32,
    /// What `wait_deadline` answers.
    pub deadline: Option<u64>,
}

thread_local! {
    static CPUS: RefCell<Vec<Rc<RefCell<CpuState>>>> = const { RefCell::new(Vec::new()) };
}

/// The CPUs created so far on this thread, in creation order.
pub fn cpus() -> Vec<Rc<RefCell<CpuState>>> {
    CPUS.with(|c| c.borrow().clone())
}

/// The last CPU created.
pub fn last_cpu() -> Rc<RefCell<CpuState>> {
    cpus().last().expect("a CPU was created").clone()
}

/// A guest CPU that runs a script.
pub struct FakeCpu(Rc<RefCell<CpuState>>);

impl GuestCpu for FakeCpu {
    const ARCH: GuestArch = GuestArch::MIPS32;
    const RUNS_GUESTS: bool = true;

    fn create(partition: PhysRange, entry: &EntryState) -> Result<Box<Self>, CpuError> {
        let state = Rc::new(RefCell::new(CpuState {
            partition,
            entry: *entry,
            script: VecDeque::new(),
            results: Vec::new(),
            runs: 0,
            resets: 0,
            waiting: false,
            injected: 0,
            taken: 0,
            wakes: 0,
            deadline: None,
        }));
        CPUS.with(|c| c.borrow_mut().push(state.clone()));
        Ok(Box::new(FakeCpu(state)))
    }

    fn reset(&mut self, entry: &EntryState) -> Result<(), CpuError> {
        let mut s = self.0.borrow_mut();
        s.entry = *entry;
        s.resets += 1;
        s.waiting = false;
        s.script.clear();
        Ok(())
    }

    /// Runs the script until a step ends the turn or the host wants the CPU; an empty script
    /// spins until the slice is over (the test's clock does not move while it spins, so the
    /// turn ends at once).
    fn run(&mut self, env: &mut dyn GuestEnv) -> RunExit {
        self.0.borrow_mut().runs += 1;
        if env.take_device_interrupt() {
            self.0.borrow_mut().taken += 1;
        }
        loop {
            let step = self.0.borrow_mut().script.pop_front();
            match step {
                None => return RunExit::Preempted,
                Some(Step::Hypercall(nr, args)) => {
                    let (result, look) = env.hypercall(nr, &args);
                    self.0.borrow_mut().results.push(result);
                    if look {
                        if env.take_device_interrupt() {
                            self.0.borrow_mut().taken += 1;
                        }
                        if env.host_wants_cpu() {
                            return RunExit::Preempted;
                        }
                    }
                }
                Some(Step::Wait) => {
                    self.0.borrow_mut().waiting = true;
                    return RunExit::Waiting;
                }
                Some(Step::Halt(why)) => return RunExit::Halted(why),
            }
        }
    }

    fn runnable(&mut self) -> bool {
        !self.0.borrow().waiting
    }

    fn wake(&mut self) {
        let mut s = self.0.borrow_mut();
        s.waiting = false;
        s.wakes += 1;
    }

    fn inject_device_interrupt(&mut self) {
        self.0.borrow_mut().injected += 1;
    }

    fn wait_deadline(&self, _yield_cycles: u64) -> Option<u64> {
        self.0.borrow().deadline
    }
}

/// A machine of 64 MiB whose first 4 MiB are the hypervisor's.
pub struct FakeMachine {
    pub counter: Cell<u64>,
    pub uptime_ms: Cell<u64>,
    pub console_input: Cell<bool>,
    pub log: RefCell<Vec<String>>,
    pub ram: PartitionAllocator,
    pub builtin: &'static [u8],
}

impl FakeMachine {
    pub fn new() -> Self {
        let ram = [PhysRange {
            base: 0,
            size: 64 * MIB,
        }];
        let hv = [PhysRange {
            base: 0,
            size: 4 * MIB,
        }];
        FakeMachine {
            counter: Cell::new(0),
            uptime_ms: Cell::new(0),
            console_input: Cell::new(false),
            log: RefCell::new(Vec::new()),
            ram: PartitionAllocator::new(&ram, &hv).unwrap(),
            builtin: Box::leak(builtin_kernel().into_boxed_slice()),
        }
    }

    /// Move time on by `ms` milliseconds.
    pub fn advance_ms(&self, ms: u64) {
        self.uptime_ms.set(self.uptime_ms.get() + ms);
        self.counter.set(self.counter.get() + ms * CYCLES_PER_MS);
    }
}

impl Machine for FakeMachine {
    type Cpu = FakeCpu;
    type Ram = Box<[u8]>;

    fn counter(&self) -> u64 {
        self.counter.get()
    }
    fn uptime_ms(&self) -> u64 {
        self.uptime_ms.get()
    }
    fn host_work_pending(&self) -> bool {
        self.console_input.get()
    }
    fn log(&self, text: fmt::Arguments<'_>) {
        self.log.borrow_mut().push(text.to_string());
    }
    fn allocate_partition(
        &mut self,
        size: u64,
        align: u64,
        limit: u64,
    ) -> Option<(PhysRange, Box<[u8]>)> {
        let part = self.ram.allocate_aligned(size, align, limit).ok()?;
        Some((part, vec![0xA5; size as usize].into_boxed_slice()))
    }
    fn free_partition(&mut self, partition: PhysRange, _ram: Box<[u8]>) {
        self.ram
            .free(partition)
            .expect("only allocated partitions are freed");
    }
    fn builtin_guest(&self) -> &'static [u8] {
        self.builtin
    }
}

/// The built-in guest: a MIPS kernel at 0xC010_0000.
pub fn builtin_kernel() -> Vec<u8> {
    mips_kernel(0x1000, 0x100, 0x100)
}

/// A file store holding `files`, for the life of the test.
pub fn store(files: &[(&str, &[u8])]) -> FileStore<'static> {
    let mut b = StoreBuilder::new();
    for (name, data) in files {
        b.add(name, 0, data).unwrap();
    }
    let bytes: &'static [u8] = Box::leak(b.build().into_boxed_slice());
    FileStore::parse(bytes).unwrap()
}

/// A manager on a fresh machine (the CPU list starts empty).
pub fn manager(files: Option<FileStore<'static>>) -> Manager<FakeMachine> {
    CPUS.with(|c| c.borrow_mut().clear());
    Manager::new(FakeMachine::new(), files, 1000 * CYCLES_PER_MS)
}

pub fn spec(name: &str) -> GuestSpec {
    GuestSpec {
        name: name.into(),
        memory_mib: GUEST_MIB,
        disk_limit_kib: None,
        image: None,
        mac: [2, 0, 0, 0, 0, name.len() as u8],
    }
}

/// Define and start guest `id`; the CPU it got.
pub fn started(m: &mut Manager<FakeMachine>, id: u8, name: &str) -> Rc<RefCell<CpuState>> {
    m.define(GuestId(id), &spec(name)).unwrap();
    m.start(GuestId(id)).unwrap();
    last_cpu()
}

/// Run slices until no guest can run (at most `limit`).
pub fn run_all(m: &mut Manager<FakeMachine>, limit: usize) {
    for _ in 0..limit {
        if !m.run_next() {
            return;
        }
    }
}

/// One main-loop round: host-side work, then slices for every guest that can run.
pub fn round(m: &mut Manager<FakeMachine>) {
    m.service();
    run_all(m, 32);
    m.service();
}

// The guest side of the devices, laid out as `mtveth.c` and `setup.c` do, in a guest of
// `GUEST_MIB` MiB whose kernel occupies 0xC010_0000..0xC010_2000.

pub const VIRQ: u32 = 0xC020_0000;
pub const TX: u32 = 0xC020_1000;
pub const TX_COUNT: u32 = 128;
pub const RX: u32 = 0xC020_2000;
pub const RX_COUNT: u32 = 32;
pub const CTL_TX: u32 = 0xC020_3000;
pub const CTL_RX: u32 = 0xC020_3100;
pub const CTL_COUNT: u32 = 4;
pub const TX_BUF: u32 = 0xC021_0000;
pub const RX_BUF: u32 = 0xC025_0000;
pub const CTL_BUF: u32 = 0xC026_0000;
pub const RX_SIZE: u32 = 1600;
pub const BUF_STRIDE: u32 = 2048;

fn w32(ram: &mut GuestRam<'_>, at: u32, v: u32) {
    ram.write_u32(Gva::new(at), v).unwrap();
}

fn r32(ram: &GuestRam<'_>, at: u32) -> u32 {
    ram.read_u32(Gva::new(at)).unwrap()
}

fn ring(ram: &mut GuestRam<'_>, head: u32, count: u32, bufs: u32, stride: u32, size: u32) {
    for i in 0..count {
        let d = head + 16 * i;
        let next = if i + 1 == count { head } else { d + 16 };
        w32(ram, d, bufs + stride * i);
        w32(ram, d + 4, size);
        w32(ram, d + 8, next);
    }
}

/// Lay out the virq word, the control queue's rings (4 x 256-byte buffers each way) and the
/// virtual ethernet's (128 TX, 32 RX of 1600 bytes).
pub fn lay_out(ram: &mut GuestRam<'_>) {
    w32(ram, VIRQ, 0);
    ring(ram, CTL_TX, CTL_COUNT, CTL_BUF, 256, 0);
    ring(ram, CTL_RX, CTL_COUNT, CTL_BUF + 4 * 256, 256, 256);
    ring(ram, TX, TX_COUNT, TX_BUF, BUF_STRIDE, 0);
    ring(ram, RX, RX_COUNT, RX_BUF, BUF_STRIDE, RX_SIZE);
}

/// The hypercalls a guest makes to set its devices up: virq word, control queue (virq 0),
/// virtual ethernet (virq 3).
pub fn setup_steps() -> [Step; 3] {
    [
        Step::Hypercall(14, [VIRQ, 32, 0, 0]),
        Step::Hypercall(4, [0, 0, CTL_TX, CTL_RX]),
        Step::Hypercall(4, [3, 3, TX, RX]),
    ]
}

/// Bring guest `id` up with its devices: lay out its rings, run its set-up hypercalls, let the
/// host announce its interfaces, and consume the announcements.
pub fn bring_up(m: &mut Manager<FakeMachine>, id: u8, cpu: &Rc<RefCell<CpuState>>) {
    lay_out(&mut m.guest_ram(GuestId(id)).unwrap());
    cpu.borrow_mut().script.extend(setup_steps());
    round(m);
    assert_eq!(
        cpu.borrow().results[..3],
        [0, 0, 0],
        "set-up hypercalls succeed"
    );
    received(m, id);
}

/// The guest's `n`-th frame: interface id, then the frame, handed over with DONE.
pub fn send(m: &mut Manager<FakeMachine>, id: u8, n: u32, iface: u16, frame: &[u8]) {
    let mut ram = m.guest_ram(GuestId(id)).unwrap();
    let d = TX + 16 * (n % TX_COUNT);
    let buf = r32(&ram, d);
    ram.write_u16(Gva::new(buf), iface).unwrap();
    ram.write_from(Gva::new(buf + 2), frame).unwrap();
    w32(&mut ram, d + 4, (frame.len() as u32 + 2) | DONE);
}

/// Whether the guest's `n`-th TX descriptor was handed back (DONE clear).
pub fn tx_done(m: &mut Manager<FakeMachine>, id: u8, n: u32) -> bool {
    let ram = m.guest_ram(GuestId(id)).unwrap();
    r32(&ram, TX + 16 * (n % TX_COUNT) + 4) & DONE == 0
}

/// What the host put in the guest's RX ring since the last look: `(interface id, frame)` per
/// buffer, in ring order; the buffers are posted again and the virq word cleared, as the
/// guest's interrupt handler does.
pub fn received(m: &mut Manager<FakeMachine>, id: u8) -> Vec<(u16, Vec<u8>)> {
    let mut ram = m.guest_ram(GuestId(id)).unwrap();
    let mut out = Vec::new();
    for i in 0..RX_COUNT {
        let d = RX + 16 * i;
        let size = r32(&ram, d + 4);
        if size & DONE == 0 {
            continue;
        }
        let len = size & !DONE;
        let buf = r32(&ram, d);
        let bytes = ram.bytes(Gva::new(buf), len).unwrap().to_vec();
        out.push((
            u16::from_be_bytes([bytes[0], bytes[1]]),
            bytes[2..].to_vec(),
        ));
        w32(&mut ram, d + 4, RX_SIZE);
    }
    w32(&mut ram, VIRQ, 0);
    out
}

/// The control messages the host sent the guest (NUL-terminated words).
pub fn control_received(m: &mut Manager<FakeMachine>, id: u8) -> Vec<String> {
    let mut ram = m.guest_ram(GuestId(id)).unwrap();
    let mut out = Vec::new();
    for i in 0..CTL_COUNT {
        let d = CTL_RX + 16 * i;
        let size = r32(&ram, d + 4);
        if size & DONE == 0 {
            continue;
        }
        let buf = r32(&ram, d);
        let bytes = ram.bytes(Gva::new(buf), size & !DONE).unwrap().to_vec();
        out.push(String::from_utf8_lossy(bytes.split(|&b| b == 0).next().unwrap()).into_owned());
        w32(&mut ram, d + 4, 256);
    }
    out
}

/// The guest sends a control word (`"halt"`, `"restart"`) on its `n`-th control descriptor.
pub fn control_send(m: &mut Manager<FakeMachine>, id: u8, n: u32, word: &str) {
    let mut ram = m.guest_ram(GuestId(id)).unwrap();
    let d = CTL_TX + 16 * (n % CTL_COUNT);
    let buf = r32(&ram, d);
    let mut bytes = word.as_bytes().to_vec();
    bytes.push(0);
    ram.write_from(Gva::new(buf), &bytes).unwrap();
    w32(&mut ram, d + 4, bytes.len() as u32 | DONE);
}

/// An Ethernet frame of `len` bytes from `src` to `dst` (IPv4 type, payload `fill`).
pub fn frame(dst: [u8; 6], src: [u8; 6], len: usize, fill: u8) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    f.resize(len, fill);
    f
}

pub const BROADCAST: [u8; 6] = [0xFF; 6];

/// The MAC of guest `id`'s interface `iface` in the tests' networks.
pub fn mac(id: u8, iface: u16) -> [u8; 6] {
    [0x02, 0, 0, 0, id, iface as u8]
}
