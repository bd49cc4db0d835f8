//! One guest: its configuration, state, RAM partition, CPU, devices and console buffers.

use alloc::boxed::Box;
use alloc::string::String;

use guest_loader::store::{FileStore, StoredFile};
use guest_mem::GuestRam;
use mgmt::{GuestConfig, GuestId, GuestStatus, ImportProgress, PlatformError};
use vdevices::{ControlWord, Events, GuestDevices, QueueId, QueueStatus};
use vmm::lifecycle::State;
use vmm::partition::PhysRange;
use vmm::ring::{ByteRing, CONSOLE_IN_CAPACITY, CONSOLE_OUT_CAPACITY};

use super::image::{self, Import};
use super::GuestEnv;
use crate::arch::{self, GuestCpu, GuestHalt, RunExit};
use crate::console;

/// What [`Guest::service`] found.
#[derive(Default)]
pub struct ServiceReport {
    /// The guest made its first hypercall (it is alive).
    pub alive: bool,
    /// The guest asked to restart (`true`) or halt (`false`).
    pub request: Option<bool>,
}

pub struct Guest {
    id: GuestId,
    name: String,
    memory_mib: u32,
    disk_limit_kib: Option<u32>,
    state: State,
    last_message: Option<String>,
    /// The imported image (a file in the store), if any; otherwise the built-in guest.
    image: Option<String>,
    /// The MAC its kernel is told when it has no interface (from the box's identity).
    mac: [u8; 6],
    used_disk_kib: u64,
    import: Option<Import>,
    partition: Option<PhysRange>,
    cpu: Option<Box<GuestCpu>>,
    pub(super) devices: GuestDevices,
    console_out: ByteRing<CONSOLE_OUT_CAPACITY>,
    console_in: ByteRing<CONSOLE_IN_CAPACITY>,
    /// The guest made a hypercall since the last service pass.
    pending_alive: bool,
    /// Device events seen in trap context (all but the interrupt, which the CPU took), for
    /// the next service pass.
    pending: Events,
    /// Deadline (ms since boot) for the guest to honour "halt"/"restart".
    grace_until: Option<u64>,
    wake: bool,
}

/// The partition's bytes.
fn partition_bytes(part: &PhysRange) -> &'static mut [u8] {
    // SAFETY: the partition was handed to exactly one guest by the allocator and lies in RAM
    // the hypervisor maps; the hypervisor makes one view at a time of a given partition (each
    // caller holds `&mut` of its guest), and the guest's own CPU is not running while it does.
    unsafe { arch::guest_ram(part.base, part.size as usize) }
}

impl Guest {
    pub fn new(id: GuestId, config: &GuestConfig) -> Self {
        Guest {
            id,
            name: config.name.clone(),
            memory_mib: config.memory_mib,
            disk_limit_kib: config.disk_limit_kib,
            state: State::Stopped,
            last_message: None,
            image: config.image.clone(),
            mac: config.mac,
            used_disk_kib: 0,
            import: None,
            partition: None,
            cpu: None,
            devices: GuestDevices::new(),
            console_out: ByteRing::new(),
            console_in: ByteRing::new(),
            pending_alive: false,
            pending: Events::default(),
            grace_until: None,
            wake: false,
        }
    }

    /// New settings; a running guest keeps its RAM until it is next started.
    pub fn redefine(&mut self, config: &GuestConfig) {
        self.name = config.name.clone();
        self.memory_mib = config.memory_mib;
        self.disk_limit_kib = config.disk_limit_kib;
        self.image = config.image.clone();
        self.mac = config.mac;
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The MAC its kernel is told when it has no interface.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    pub fn id(&self) -> GuestId {
        self.id
    }

    pub fn memory_bytes(&self) -> u32 {
        self.memory_mib << 20
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn set_state(&mut self, state: State) {
        self.state = state;
        if !matches!(state, State::ShuttingDown | State::Rebooting) {
            self.grace_until = None;
        }
    }

    pub fn set_last_message(&mut self, why: String) {
        self.last_message = Some(why);
    }

    pub fn status(&self) -> GuestStatus {
        GuestStatus {
            state: match self.state {
                State::Stopped => mgmt::GuestState::Stopped,
                State::Booting => mgmt::GuestState::Booting,
                State::Running => mgmt::GuestState::Running,
                State::Rebooting => mgmt::GuestState::Rebooting,
                State::ShuttingDown => mgmt::GuestState::ShuttingDown,
                State::Disabled => mgmt::GuestState::Disabled,
            },
            used_disk_kib: self.used_disk_kib,
            disk_reads: 0,
            disk_writes: 0,
            last_message: self.last_message.clone(),
        }
    }

    /// The guest's RAM as the devices see it, if it has a partition.
    pub(super) fn ram(&self) -> Option<GuestRam<'static>> {
        let part = self.partition.as_ref()?;
        GuestRam::new(partition_bytes(part), arch::GUEST_ARCH.ram_window).ok()
    }

    /// Load the image into `part` and create the CPU.
    pub fn boot(&mut self, part: PhysRange, files: Option<&FileStore<'static>>, timer_hz: u64, kmac: [u8; 6]) -> Result<(), PlatformError> {
        if !arch::GUESTS {
            crate::vm::log!("{}: cannot boot: guests are not supported on this CPU yet", self.name);
            return Err(PlatformError::Unsupported);
        }
        let ram = partition_bytes(&part);
        ram.fill(0);
        let image = match &self.image {
            Some(file) => match files.and_then(|f| f.find(file)) {
                Some(stored) => image::Source::Archive(stored),
                None => {
                    let why = alloc::format!("cannot boot: image file {file} is not in the file store");
                    crate::vm::log!("{}: {}", self.name, why);
                    self.last_message = Some(why);
                    return Err(PlatformError::NoSuchFile);
                }
            },
            None => image::Source::Builtin,
        };
        let boot = match image::load(&arch::GUEST_ARCH, &image, ram, self.memory_mib, timer_hz, kmac) {
            Ok(boot) => boot,
            Err(e) => {
                crate::vm::log!("{}: cannot boot: {}", self.name, e);
                self.last_message = Some(alloc::format!("cannot boot: {e}"));
                return Err(PlatformError::BadImage);
            }
        };
        if let Some(bytes) = boot.tree_bytes {
            self.used_disk_kib = bytes.div_ceil(1024);
        }
        let cpu = GuestCpu::new(part, &boot.entry).map_err(|e| {
            crate::vm::log!("{}: cannot boot: {}", self.name, e);
            PlatformError::Unsupported
        })?;
        self.partition = Some(part);
        self.cpu = Some(cpu);
        self.devices.reset();
        self.console_in.clear();
        self.last_message = None;
        self.pending_alive = false;
        self.pending = Events::default();
        Ok(())
    }

    /// Stop the CPU; returns the partition to free.
    pub fn halt(&mut self) -> Option<PhysRange> {
        self.cpu = None;
        self.devices.reset();
        self.partition.take()
    }

    /// Send "restart" or "halt"; false when the guest has no control queue to receive it.
    pub fn ask(&mut self, restart: bool, deadline_ms: u64) -> bool {
        let Some(mut ram) = self.ram() else { return false };
        let word = if restart { ControlWord::Restart } else { ControlWord::Halt };
        match self.devices.send_control(&mut ram, word) {
            Ok(true) => {
                self.grace_until = Some(deadline_ms);
                self.collect_events();
                true
            }
            _ => false,
        }
    }

    pub fn grace_expired(&self, now_ms: u64) -> bool {
        self.grace_until.is_some_and(|t| now_ms >= t)
    }

    /// Take the devices' events: raise the interrupt now, keep the rest for `service`.
    fn collect_events(&mut self) {
        let events = self.devices.take_events();
        if events.interrupt {
            if let Some(cpu) = self.cpu.as_mut() {
                cpu.raise_device_interrupt();
                cpu.wake();
            }
            self.wake = true;
        }
        merge(&mut self.pending, events);
    }

    /// Host-side device work: scan rings, move console bytes both ways, collect requests.
    pub fn service(&mut self) -> ServiceReport {
        let mut report = ServiceReport { alive: core::mem::take(&mut self.pending_alive), ..Default::default() };
        let Some(mut ram) = self.ram() else { return report };
        let out = &mut self.console_out;
        let mut drained = false;
        self.devices.service(&mut ram, &mut |bytes| {
            drained = true;
            out.push_overwrite(bytes)
        });
        if drained {
            self.ring_space_freed();
        }
        if !self.console_in.is_empty() {
            let mut buf = [0u8; CONSOLE_IN_CAPACITY];
            let n = self.console_in.peek(&mut buf);
            if let Ok(taken) = self.devices.console_input(&mut ram, &buf[..n]) {
                self.console_in.consume(taken);
            }
        }
        self.collect_events();
        let events = core::mem::take(&mut self.pending);
        self.pending.yielded = events.yielded;
        report.request = events.request.map(|w| w == ControlWord::Restart);
        for queue in QueueId::ALL {
            if events.faulted & (1 << queue.id()) != 0 {
                if let QueueStatus::Faulted(fault) = self.devices.queue_status(queue) {
                    crate::vm::log!("{}: {}", self.name, fault);
                }
            }
        }
        report
    }

    /// The host consumed some of this guest's TX descriptors: a guest that `wait`s for ring
    /// space (MetaROUTER kernels do, with interrupts off) may go on.
    pub fn ring_space_freed(&mut self) {
        if let Some(cpu) = self.cpu.as_mut() {
            cpu.wake();
        }
        self.wake = true;
    }

    /// A frame was delivered into this guest's RAM: raise its interrupt.
    pub fn note_delivery(&mut self) {
        self.collect_events();
    }

    /// Whether something happened that should end the guest's `wait`.
    pub fn wants_wake(&mut self) -> bool {
        core::mem::take(&mut self.wake)
    }

    pub fn runnable(&mut self) -> bool {
        self.cpu.as_mut().is_some_and(|c| c.runnable())
    }

    /// Counter cycles the guest may wait after giving up the CPU, if nothing wakes it sooner
    /// (its timer; at most `yield_cycles` when its interrupts are off).
    pub fn wait_deadline(&self, yield_cycles: u64) -> Option<u64> {
        self.cpu.as_ref().and_then(|c| c.wait_deadline(yield_cycles))
    }

    /// Whether the guest yielded (hypercall 16) during its last slice.
    pub fn yielded(&mut self) -> bool {
        core::mem::take(&mut self.pending.yielded)
    }

    /// Run the guest until `slice_end` (counter) or until it waits, halts or the host needs
    /// the CPU.
    pub fn run(&mut self, slice_end: u64) -> RunExit {
        let Some(ram) = self.ram() else { return RunExit::Halted(GuestHalt::HostException(0)) };
        let Some(cpu) = self.cpu.as_mut() else { return RunExit::Halted(GuestHalt::HostException(0)) };
        let must_leave = self.pending.yielded || self.pending.request.is_some();
        let mut env = RunEnv {
            devices: &mut self.devices,
            ram,
            alive: &mut self.pending_alive,
            pending: &mut self.pending,
            interrupt: false,
            must_leave,
            slice_end,
        };
        cpu.run(&mut env)
    }

    pub fn console_read(&mut self, buf: &mut [u8]) -> usize {
        self.console_out.pop(buf)
    }

    pub fn console_write(&mut self, bytes: &[u8]) -> usize {
        let n = self.console_in.push(bytes);
        self.wake = true;
        n
    }

    pub fn import_start(&mut self, file: StoredFile<'static>) -> Result<(), PlatformError> {
        self.import = Some(Import::new(&arch::GUEST_ARCH, file, self.memory_mib).map_err(|_| PlatformError::BadImage)?);
        Ok(())
    }

    pub fn import_poll(&mut self) -> ImportProgress {
        let Some(import) = self.import.as_mut() else { return ImportProgress::Failed(PlatformError::WrongState) };
        match import.step() {
            Ok(None) => ImportProgress::Working(import.percent()),
            Ok(Some(imported)) => {
                let limit = self.disk_limit_kib.map(u64::from);
                let used = imported.tree_bytes.div_ceil(1024);
                let name = String::from(import.file_name());
                self.import = None;
                if limit.is_some_and(|l| used > l) {
                    return ImportProgress::Failed(PlatformError::DiskFull);
                }
                self.image = Some(name);
                self.used_disk_kib = used;
                ImportProgress::Done
            }
            Err(e) => {
                crate::vm::log!("{}: import failed: {}", self.name, e);
                self.import = None;
                ImportProgress::Failed(PlatformError::BadImage)
            }
        }
    }
}

/// Add `new` events to `acc` (the interrupt flag excepted: it is acted on at once).
fn merge(acc: &mut Events, new: Events) {
    acc.yielded |= new.yielded;
    acc.request = new.request.or(acc.request);
    acc.faulted |= new.faulted;
}

/// What a running guest's traps may touch.
struct RunEnv<'a> {
    devices: &'a mut GuestDevices,
    ram: GuestRam<'static>,
    alive: &'a mut bool,
    pending: &'a mut Events,
    interrupt: bool,
    /// The pending events need the host (a yield, a control request): the guest's turn ends.
    must_leave: bool,
    slice_end: u64,
}

impl RunEnv<'_> {
    /// Move the devices' events: the interrupt to the CPU, the rest to the service pass.
    #[inline(never)]
    fn collect(&mut self) {
        let events = self.devices.take_events();
        self.interrupt |= events.interrupt;
        merge(self.pending, events);
        self.must_leave = self.pending.yielded || self.pending.request.is_some();
    }
}

impl GuestEnv for RunEnv<'_> {
    fn hypercall(&mut self, nr: u32, args: &[u32; 4]) -> (i32, bool) {
        *self.alive = true;
        let result = self.devices.hypercall(&mut self.ram, nr, *args);
        if self.devices.has_events() {
            self.collect();
        }
        (result, self.interrupt | self.must_leave)
    }

    fn take_device_interrupt(&mut self) -> bool {
        core::mem::take(&mut self.interrupt)
    }

    fn host_wants_cpu(&self) -> bool {
        self.must_leave
            || console::has_input()
            || arch::counter() >= self.slice_end
    }
}
