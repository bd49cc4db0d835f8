//! One guest: its definition, state, RAM partition, CPU, devices and console buffers.
//!
//! The partition's bytes are owned here ([`Machine::Ram`]) for as long as the guest holds its
//! RAM, and every view of them ([`GuestRam`]) borrows the guest: two views of one guest cannot
//! be open at once, and the compiler says so.

use alloc::boxed::Box;
use alloc::string::String;

use guest_loader::archive::{ImportError, ImportSink, SinkError};
use guest_loader::store::StoredFile;
use guest_mem::{GuestRam, PhysRange};
use vdevices::{
    ControlWord, Events, Export, GuestDevices, MetafsStats, QueueId, QueueStatus, Volume,
};

use crate::cpu::{CpuError, GuestCpu, GuestHalt, RunExit};
use crate::image::{self, Import};
use crate::lifecycle::State;
use crate::machine::Machine;
use crate::ring::{ByteRing, CONSOLE_IN_CAPACITY, CONSOLE_OUT_CAPACITY};
use crate::run::{merge, RunEnv};
use crate::{GuestError, GuestId, ImportStatus};

/// What the management plane defines a guest as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestSpec {
    /// The `/metarouter` name.
    pub name: String,
    /// RAM in MiB.
    pub memory_mib: u32,
    /// Disk quota in KiB; `None` is unlimited.
    pub disk_limit_kib: Option<u32>,
    /// The file in the file store its image was imported from; `None` boots the built-in guest.
    pub image: Option<String>,
    /// The MAC its kernel is told when it has no interface.
    pub mac: [u8; 6],
}

/// Run-time facts about one guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestReport {
    /// Its life-cycle state.
    pub state: State,
    /// KiB used by its imported file tree.
    pub used_disk_kib: u64,
    /// Why it last stopped or failed to boot, if it did.
    pub last_message: Option<String>,
}

/// What [`Guest::service`] found.
#[derive(Default)]
pub struct ServiceReport {
    /// The guest made its first hypercall (it is alive).
    pub alive: bool,
    /// The guest asked to restart (`true`) or halt (`false`).
    pub request: Option<bool>,
}

/// A partition and its bytes.
pub(crate) struct Memory<R> {
    pub(crate) range: PhysRange,
    pub(crate) bytes: R,
}

/// One guest on machine `M`.
pub struct Guest<M: Machine> {
    id: GuestId,
    spec: GuestSpec,
    state: State,
    last_message: Option<String>,
    used_disk_kib: u64,
    import: Option<Import>,
    memory: Option<Memory<M::Ram>>,
    cpu: Option<Box<M::Cpu>>,
    pub(crate) devices: GuestDevices,
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

/// A view of `memory` as the guest sees it (through its architecture's RAM window).
pub(crate) fn view<M: Machine>(memory: &mut Option<Memory<M::Ram>>) -> Option<GuestRam<'_>> {
    let memory = memory.as_mut()?;
    GuestRam::new(&mut memory.bytes, <M::Cpu as GuestCpu>::ARCH.ram_window).ok()
}

impl<M: Machine> Guest<M> {
    /// Guest `id`, defined as `spec`, stopped.
    pub fn new(id: GuestId, spec: &GuestSpec) -> Self {
        Guest {
            id,
            spec: spec.clone(),
            state: State::Stopped,
            last_message: None,
            used_disk_kib: 0,
            import: None,
            memory: None,
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
    pub fn redefine(&mut self, spec: &GuestSpec) {
        self.spec = spec.clone();
    }

    /// Its slot.
    pub fn id(&self) -> GuestId {
        self.id
    }

    /// Its `/metarouter` name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The MAC its kernel is told when it has no interface.
    pub fn mac(&self) -> [u8; 6] {
        self.spec.mac
    }

    /// The RAM it is defined with, in bytes.
    pub fn memory_bytes(&self) -> u64 {
        u64::from(self.spec.memory_mib) << 20
    }

    /// The partition it holds, if any.
    pub fn partition(&self) -> Option<PhysRange> {
        self.memory.as_ref().map(|m| m.range)
    }

    /// Its life-cycle state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Take `state`; leaving "shutting down" or "rebooting" ends the grace period.
    pub fn set_state(&mut self, state: State) {
        self.state = state;
        if !matches!(state, State::ShuttingDown | State::Rebooting) {
            self.grace_until = None;
        }
    }

    /// Keep `why` as the reason it last stopped.
    pub fn set_last_message(&mut self, why: String) {
        self.last_message = Some(why);
    }

    /// Its run-time facts.
    pub fn report(&self) -> GuestReport {
        GuestReport {
            state: self.state,
            used_disk_kib: self.used_disk_kib,
            last_message: self.last_message.clone(),
        }
    }

    /// The guest's RAM as its devices see it, if it holds a partition. The view borrows the
    /// guest: while it is open, nothing else of this guest can be reached.
    pub fn ram(&mut self) -> Option<GuestRam<'_>> {
        view::<M>(&mut self.memory)
    }

    /// Its devices and its RAM, borrowed together (the device layer works on both).
    pub(crate) fn devices_and_ram(&mut self) -> Option<(&mut GuestDevices, GuestRam<'_>)> {
        let ram = view::<M>(&mut self.memory)?;
        Some((&mut self.devices, ram))
    }

    /// Load the image into `memory` (zeroed first) and write the boot arguments; the registers
    /// it starts with. Logs and keeps the reason when it cannot.
    fn load(
        &mut self,
        machine: &M,
        files: &crate::image_files::ImageFiles,
        timer_hz: u64,
        kmac: [u8; 6],
    ) -> Result<image::Boot, GuestError> {
        let source = match &self.spec.image {
            Some(file) => match files.find(file) {
                Some(stored) => image::Source::Archive(stored),
                None => {
                    let why =
                        alloc::format!("cannot boot: image file {file} is not in the file store");
                    machine.log(format_args!("{}: {}", self.spec.name, why));
                    self.last_message = Some(why);
                    return Err(GuestError::NoSuchFile);
                }
            },
            None => image::Source::Builtin(machine.builtin_guest()),
        };
        let Some(memory) = self.memory.as_mut() else {
            return Err(GuestError::WrongState);
        };
        let ram: &mut [u8] = &mut memory.bytes;
        ram.fill(0);
        let arch = <M::Cpu as GuestCpu>::ARCH;
        let clocks = image::Clocks {
            timer_hz,
            cpu_hz: machine.cpu_hz(),
        };
        match image::load(&arch, &source, ram, self.spec.memory_mib, clocks, kmac) {
            Ok(boot) => Ok(boot),
            Err(e) => {
                machine.log(format_args!("{}: cannot boot: {}", self.spec.name, e));
                self.last_message = Some(alloc::format!("cannot boot: {e}"));
                Err(GuestError::BadImage)
            }
        }
    }

    /// Take `memory` (a partition of its defined size), load the image into it and create the
    /// CPU. On failure the partition is handed back for the caller to free.
    pub(crate) fn boot(
        &mut self,
        machine: &M,
        memory: Memory<M::Ram>,
        files: &crate::image_files::ImageFiles,
        timer_hz: u64,
        kmac: [u8; 6],
    ) -> Result<(), (GuestError, Memory<M::Ram>)> {
        let range = memory.range;
        if !M::Cpu::RUNS_GUESTS {
            machine.log(format_args!(
                "{}: cannot boot: {}",
                self.spec.name,
                CpuError::Unsupported
            ));
            return Err((GuestError::Unsupported, memory));
        }
        self.memory = Some(memory);
        let fail = |g: &mut Self, e: GuestError| {
            Err((e, g.memory.take().expect("the partition was just given")))
        };
        let boot = match self.load(machine, files, timer_hz, kmac) {
            Ok(boot) => boot,
            Err(e) => return fail(self, e),
        };
        let cpu = match M::Cpu::create(range, &boot.entry) {
            Ok(cpu) => cpu,
            Err(e) => {
                machine.log(format_args!("{}: cannot boot: {}", self.spec.name, e));
                return fail(self, GuestError::Unsupported);
            }
        };
        self.cpu = Some(cpu);
        self.started(boot.tree_bytes);
        Ok(())
    }

    /// Start over in the partition it holds (its defined size has not changed): reload the
    /// image and reset the CPU.
    pub(crate) fn restart(
        &mut self,
        machine: &M,
        files: &crate::image_files::ImageFiles,
        timer_hz: u64,
        kmac: [u8; 6],
    ) -> Result<(), GuestError> {
        let boot = self.load(machine, files, timer_hz, kmac)?;
        let cpu = self.cpu.as_mut().ok_or(GuestError::WrongState)?;
        if let Err(e) = cpu.reset(&boot.entry) {
            machine.log(format_args!("{}: cannot boot: {}", self.spec.name, e));
            return Err(GuestError::Unsupported);
        }
        self.started(boot.tree_bytes);
        Ok(())
    }

    /// A fresh start: devices, console input and messages as at power-on.
    fn started(&mut self, tree_bytes: Option<u64>) {
        if let Some(bytes) = tree_bytes {
            self.used_disk_kib = bytes.div_ceil(1024);
        }
        self.devices.reset();
        self.console_in.clear();
        self.last_message = None;
        self.pending_alive = false;
        self.pending = Events::default();
    }

    /// Stop the CPU; returns the partition to free.
    pub(crate) fn halt(&mut self) -> Option<Memory<M::Ram>> {
        self.cpu = None;
        self.devices.reset();
        self.memory.take()
    }

    /// Send "restart" or "halt"; false when the guest has no control queue to receive it.
    pub fn ask(&mut self, restart: bool, deadline_ms: u64) -> bool {
        let Some(mut ram) = view::<M>(&mut self.memory) else {
            return false;
        };
        let word = if restart {
            ControlWord::Restart
        } else {
            ControlWord::Halt
        };
        match self.devices.send_control(&mut ram, word) {
            Ok(true) => {
                self.grace_until = Some(deadline_ms);
                self.collect_events();
                true
            }
            _ => false,
        }
    }

    /// Whether the grace period after "halt"/"restart" has run out at `now_ms`.
    pub fn grace_expired(&self, now_ms: u64) -> bool {
        self.grace_until.is_some_and(|t| now_ms >= t)
    }

    /// Take the devices' events: raise the interrupt now, keep the rest for `service`.
    fn collect_events(&mut self) {
        let events = self.devices.take_events();
        if events.interrupt {
            if let Some(cpu) = self.cpu.as_mut() {
                cpu.inject_device_interrupt();
                cpu.wake();
            }
            self.wake = true;
        }
        merge(&mut self.pending, events);
    }

    /// Host-side device work: scan rings, move console bytes both ways, collect requests.
    pub fn service(&mut self, machine: &M) -> ServiceReport {
        let mut report = ServiceReport {
            alive: core::mem::take(&mut self.pending_alive),
            ..Default::default()
        };
        let Some(mut ram) = view::<M>(&mut self.memory) else {
            return report;
        };
        let out = &mut self.console_out;
        let mut drained = false;
        self.devices.service(&mut ram, &mut |bytes| {
            drained = true;
            out.push_overwrite(bytes)
        });
        if !self.console_in.is_empty() {
            let mut buf = [0u8; CONSOLE_IN_CAPACITY];
            let n = self.console_in.peek(&mut buf);
            if let Ok(taken) = self.devices.console_input(&mut ram, &buf[..n]) {
                self.console_in.consume(taken);
            }
        }
        if drained {
            self.ring_space_freed();
        }
        self.collect_events();
        let events = core::mem::take(&mut self.pending);
        self.pending.yielded = events.yielded;
        report.request = events.request.map(|w| w == ControlWord::Restart);
        for queue in QueueId::ALL {
            if events.faulted & (1 << queue.id()) != 0 {
                if let QueueStatus::Faulted(fault) = self.devices.queue_status(queue) {
                    machine.log(format_args!("{}: {}", self.spec.name, fault));
                }
            }
        }
        report
    }

    /// The host consumed some of this guest's TX descriptors: a guest that waits for ring
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

    /// Whether something happened that should end the guest's wait.
    pub fn wants_wake(&mut self) -> bool {
        core::mem::take(&mut self.wake)
    }

    /// Whether its CPU can run.
    pub fn runnable(&mut self) -> bool {
        self.cpu.as_mut().is_some_and(|c| c.runnable())
    }

    /// Counter cycles the guest may wait after giving up the CPU, if nothing wakes it sooner
    /// (its timer; at most `yield_cycles` when its interrupts are off).
    pub fn wait_deadline(&self, yield_cycles: u64) -> Option<u64> {
        self.cpu
            .as_ref()
            .and_then(|c| c.wait_deadline(yield_cycles))
    }

    /// Whether the guest yielded (hypercall 16) during its last slice.
    pub fn yielded(&mut self) -> bool {
        core::mem::take(&mut self.pending.yielded)
    }

    /// Run the guest until `slice_end` (counter) or until it waits, halts or the host needs
    /// the CPU.
    pub fn run(&mut self, machine: &M, slice_end: u64) -> RunExit {
        let Some(ram) = view::<M>(&mut self.memory) else {
            return RunExit::Halted(GuestHalt::HostException(0));
        };
        let Some(cpu) = self.cpu.as_mut() else {
            return RunExit::Halted(GuestHalt::HostException(0));
        };
        let must_leave = self.pending.yielded || self.pending.request.is_some();
        let mut env = RunEnv {
            devices: &mut self.devices,
            ram,
            alive: &mut self.pending_alive,
            pending: &mut self.pending,
            interrupt: false,
            must_leave,
            slice_end,
            machine,
        };
        cpu.run(&mut env)
    }

    /// Take up to `buf.len()` bytes of its console output.
    pub fn console_read(&mut self, buf: &mut [u8]) -> usize {
        self.console_out.pop(buf)
    }

    /// Queue console input for it; how many bytes fit.
    pub fn console_write(&mut self, bytes: &[u8]) -> usize {
        let n = self.console_in.push(bytes);
        self.wake = true;
        n
    }

    /// Make `volume` its disk (metafs export 0, its root file system), or take its disk away.
    pub fn set_disk(&mut self, volume: Option<Volume>) {
        // Export 0 always exists in the table.
        let _ = self
            .devices
            .set_metafs_export(0, volume.map(Export::read_write));
    }

    /// Its disk's request counters (`disk-reads`, `disk-writes`).
    pub fn disk_stats(&self) -> MetafsStats {
        self.devices.metafs_stats()
    }

    /// Start checking `file` as its image.
    pub fn import_start(&mut self, file: StoredFile<'static>) -> Result<(), GuestError> {
        let arch = <M::Cpu as GuestCpu>::ARCH;
        self.import =
            Some(Import::new(&arch, file, self.spec.memory_mib).map_err(|_| GuestError::BadImage)?);
        Ok(())
    }

    /// Advance the import a step, unpacking the tree into `sink`.
    pub fn import_poll(&mut self, machine: &M, sink: &mut dyn ImportSink) -> ImportStatus {
        let Some(import) = self.import.as_mut() else {
            return ImportStatus::Failed(GuestError::WrongState);
        };
        match import.step(sink) {
            Ok(None) => ImportStatus::Working(import.percent()),
            Ok(Some(imported)) => {
                let limit = self.spec.disk_limit_kib.map(u64::from);
                let used = imported.tree_bytes.div_ceil(1024);
                let name = String::from(import.file_name());
                self.import = None;
                if limit.is_some_and(|l| used > l) {
                    return ImportStatus::Failed(GuestError::DiskFull);
                }
                self.spec.image = Some(name);
                self.used_disk_kib = used;
                ImportStatus::Done
            }
            Err(ImportError::Sink {
                error: SinkError::NoSpace,
                ..
            }) => {
                self.import = None;
                ImportStatus::Failed(GuestError::DiskFull)
            }
            Err(e) => {
                machine.log(format_args!("{}: import failed: {}", self.spec.name, e));
                self.import = None;
                ImportStatus::Failed(GuestError::BadImage)
            }
        }
    }
}
