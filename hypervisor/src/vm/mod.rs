//! Guests: the table of defined guests, their life cycle, devices, consoles and images, and
//! running them in turn.
//!
//! The [`Manager`] is owned by the kernel's main loop (inside the management plane's
//! [`crate::platform::HvPlatform`]). The main loop calls [`Manager::service`] for host-side
//! device work (ring scans, console, frames between guests, life-cycle events and timeouts)
//! and [`Manager::run_next`] to give the next runnable guest a time slice. While a guest runs,
//! the arch layer handles its traps and reaches the guest's devices only through the
//! [`GuestEnv`] handed to [`crate::arch::GuestCpu::run`].

mod guest;
mod image;
mod net;

/// A guest event on the console, on a line of its own (it may interrupt a half-typed command,
/// as RouterOS's console log messages do): `metarouter: <text>`.
macro_rules! log {
    ($($arg:tt)*) => {{
        crate::print!("\nmetarouter: ");
        crate::println!($($arg)*);
    }};
}
pub(crate) use log;

use alloc::boxed::Box;
use alloc::string::String;

use guest_loader::store::{FileStore, StoredFile};
use mgmt::{GuestConfig, GuestId, GuestMemory, GuestStatus, ImportProgress, NetworkConfig, PlatformError, MAX_GUESTS};
use vmm::lifecycle::{self, Action, Event, State};
use vmm::partition::{PartitionAllocator, PhysRange};
use vmm::sched::{RunState, Scheduler};


use crate::arch::{self, RunExit};
pub use guest::Guest;

/// Counter cycles a guest may run before the host looks again (10 ms at the tick rate).
const SLICE_MS: u64 = 10;

/// What the arch layer needs from the kernel while a guest runs (called in trap context).
pub trait GuestEnv {
    /// Serve a hypercall the CPU layer passed on. Returns the guest's result register, and
    /// whether something happened that the general return path must look at (an interrupt to
    /// deliver, a yield, a control request).
    fn hypercall(&mut self, nr: u32, args: &[u32; 4]) -> (i32, bool);
    /// Whether the guest's device interrupt was raised since the last call (clears it).
    fn take_device_interrupt(&mut self) -> bool;
    /// Whether the host wants the CPU back now (slice over, host work pending).
    fn host_wants_cpu(&self) -> bool;
}

/// Every guest, and the resources they are made from.
pub struct Manager {
    guests: [Option<Box<Guest>>; MAX_GUESTS],
    sched: Scheduler<MAX_GUESTS>,
    files: Option<FileStore<'static>>,
    timer_hz: u64,
    net: net::Net,
}

impl Manager {
    /// Guests get RAM from `ram` minus `reserved` (the hypervisor, the preloaded files).
    pub fn new(ram: &[PhysRange], reserved: &[PhysRange], files: Option<FileStore<'static>>, timer_hz: u64) -> Self {
        let partitions = PartitionAllocator::new(ram, reserved).unwrap_or_else(|_| {
            crate::println!("guests: the RAM map cannot be managed; no guest RAM");
            PartitionAllocator::new(&[], &[]).expect("an empty map is valid")
        });
        crate::ram::install(partitions);
        Self {
            guests: Default::default(),
            sched: Scheduler::new(timer_hz * SLICE_MS / 1000),
            files,
            timer_hz,
            net: net::Net::new(),
        }
    }

    fn guest(&self, id: GuestId) -> Option<&Guest> {
        self.guests.get(usize::from(id.0))?.as_deref()
    }

    fn guest_mut(&mut self, id: GuestId) -> Option<&mut Guest> {
        self.guests.get_mut(usize::from(id.0))?.as_deref_mut()
    }

    /// Hypervisor memory a running guest costs beyond its own RAM: its state (devices, console
    /// buffers, life cycle) and its CPU (registers, virtual CP0 and TLB, refill cache).
    pub const fn overhead_per_guest() -> usize {
        core::mem::size_of::<Guest>() + core::mem::size_of::<arch::GuestCpu>()
    }

    /// Guest RAM: all of it, and what no guest holds.
    pub fn memory(&self) -> GuestMemory {
        crate::ram::with(|p| GuestMemory { total: p.total(), free: p.free_bytes() })
            .unwrap_or(GuestMemory { total: 0, free: 0 })
    }

    /// The preloaded files.
    pub fn files(&self) -> impl Iterator<Item = StoredFile<'static>> + '_ {
        self.files.iter().flat_map(|f| f.iter())
    }

    pub fn define(&mut self, id: GuestId, config: &GuestConfig) -> Result<(), PlatformError> {
        let slot = self.guests.get_mut(usize::from(id.0)).ok_or(PlatformError::NoSuchGuest)?;
        match slot {
            Some(g) => g.redefine(config),
            None => *slot = Some(Box::new(Guest::new(id, config))),
        }
        Ok(())
    }

    pub fn undefine(&mut self, id: GuestId) {
        if self.guest(id).is_some_and(|g| g.state().is_live()) {
            self.stop(id);
        }
        self.net.forget_guest(id);
        if let Some(slot) = self.guests.get_mut(usize::from(id.0)) {
            *slot = None;
        }
    }

    /// Apply a life-cycle event: carry out its action, then take the new state. A failed
    /// action leaves the state as it was.
    fn event(&mut self, id: GuestId, event: Event) -> Result<(), PlatformError> {
        let from = self.guest(id).ok_or(PlatformError::NoSuchGuest)?.state();
        let (to, action) = lifecycle::transition(from, event).map_err(|_| PlatformError::WrongState)?;
        match action {
            Action::Nothing => {}
            Action::Boot => self.boot(id)?,
            Action::AskHalt | Action::AskRestart => {
                let deadline = crate::time::uptime_ms() + lifecycle::GRACE_MS;
                let g = self.guest_mut(id).ok_or(PlatformError::NoSuchGuest)?;
                let asked = g.ask(action == Action::AskRestart, deadline);
                g.set_state(to);
                if !asked {
                    // No control queue to ask through: act at once.
                    return self.event(id, Event::GraceExpired);
                }
                self.sched.wake(id);
                return Ok(());
            }
            Action::Stop => self.stop(id),
            Action::Restart => {
                self.stop(id);
                if let Err(e) = self.boot(id) {
                    self.set_state(id, State::Stopped);
                    return Err(e);
                }
            }
        }
        self.set_state(id, to);
        Ok(())
    }

    fn set_state(&mut self, id: GuestId, state: State) {
        if let Some(g) = self.guest_mut(id) {
            g.set_state(state);
        }
    }

    /// A guest did something it cannot go on from: log it, keep the reason, stop it.
    fn fault(&mut self, id: GuestId, why: String) {
        if let Some(g) = self.guest_mut(id) {
            crate::vm::log!("{}: {}", g.name(), why);
            g.set_last_message(why);
        }
        let _ = self.event(id, Event::Fault);
    }

    pub fn start(&mut self, id: GuestId) -> Result<(), PlatformError> {
        self.event(id, Event::Start)
    }

    pub fn shutdown(&mut self, id: GuestId) -> Result<(), PlatformError> {
        self.event(id, Event::Shutdown)
    }

    pub fn reboot(&mut self, id: GuestId) -> Result<(), PlatformError> {
        self.event(id, Event::Reboot)
    }

    /// Allocate the partition, load the image and create the CPU; the guest becomes runnable.
    fn boot(&mut self, id: GuestId) -> Result<(), PlatformError> {
        let timer_hz = self.timer_hz;
        let files = self.files;
        let g = self.guests.get_mut(usize::from(id.0)).and_then(|g| g.as_deref_mut()).ok_or(PlatformError::NoSuchGuest)?;
        let size = u64::from(g.memory_bytes());
        let part = crate::ram::with(|p| p.allocate(size))
            .and_then(Result::ok)
            .ok_or(PlatformError::OutOfMemory)?;
        let kmac = self.net.guest_mac(id).unwrap_or(g.mac());
        if let Err(e) = g.boot(part, files.as_ref(), timer_hz, kmac) {
            crate::ram::with(|p| p.free(part));
            return Err(e);
        }
        self.net.attach_guest(id, g);
        self.sched.set(id, RunState::Runnable);
        Ok(())
    }

    /// Stop a guest's CPU and give its RAM back.
    fn stop(&mut self, id: GuestId) {
        self.sched.set(id, RunState::Stopped);
        if let Some(part) = self.guest_mut(id).and_then(Guest::halt) {
            crate::ram::with(|p| p.free(part));
        }
    }

    pub fn status(&self, id: GuestId) -> Option<GuestStatus> {
        self.guest(id).map(Guest::status)
    }

    pub fn console_read(&mut self, id: GuestId, buf: &mut [u8]) -> usize {
        self.guest_mut(id).map_or(0, |g| g.console_read(buf))
    }

    pub fn console_write(&mut self, id: GuestId, bytes: &[u8]) -> usize {
        let n = self.guest_mut(id).map_or(0, |g| g.console_write(bytes));
        self.sched.wake(id);
        n
    }

    pub fn console_break(&mut self, id: GuestId) {
        // MetaROUTER's console has no break signal; a break arrives as a NUL byte, as a
        // 16550 reports a break condition.
        self.console_write(id, &[0]);
    }

    pub fn import_start(&mut self, id: GuestId, file_name: &str) -> Result<(), PlatformError> {
        let file = self.files.and_then(|f| f.find(file_name)).ok_or(PlatformError::NoSuchFile)?;
        self.guest_mut(id).ok_or(PlatformError::NoSuchGuest)?.import_start(file)
    }

    pub fn import_poll(&mut self, id: GuestId) -> ImportProgress {
        self.guest_mut(id).map_or(ImportProgress::Failed(PlatformError::NoSuchGuest), Guest::import_poll)
    }

    pub fn apply_network(&mut self, config: &NetworkConfig) {
        self.net.apply(config, &mut self.guests);
    }

    /// Host-side work for every live guest: device rings, console traffic, frames between
    /// guests, requests and faults, grace timeouts; wake guests whose interrupts are due.
    pub fn service(&mut self) {
        let now = crate::time::uptime_ms();
        for i in 0..MAX_GUESTS {
            let Some(g) = self.guests[i].as_deref_mut() else { continue };
            if !g.state().is_live() {
                continue;
            }
            let report = g.service();
            let id = GuestId(i as u8);
            if report.alive {
                let _ = self.event(id, Event::Alive);
            }
            if let Some(restart) = report.request {
                let _ = self.event(id, if restart { Event::GuestRestart } else { Event::GuestHalted });
            }
            if self.guest(id).is_some_and(|g| g.grace_expired(now)) {
                let _ = self.event(id, Event::GraceExpired);
            }
        }
        net::switch_frames(&mut self.net, &mut self.guests);
        for i in 0..MAX_GUESTS {
            if let Some(g) = self.guests[i].as_deref_mut() {
                if g.wants_wake() {
                    self.sched.wake(GuestId(i as u8));
                }
            }
        }
    }

    /// Give the next runnable guest one time slice. Returns `false` when no guest could run.
    pub fn run_next(&mut self) -> bool {
        let now = arch::counter();
        // Waiting guests whose interrupt is pending become runnable.
        for i in 0..MAX_GUESTS {
            if let RunState::Waiting { .. } = self.sched.state(GuestId(i as u8)) {
                if self.guests[i].as_deref_mut().is_some_and(Guest::runnable) {
                    self.sched.wake(GuestId(i as u8));
                }
            }
        }
        let Some(slot) = self.sched.pick(now) else { return false };
        let id = GuestId(slot.0);
        let slice = self.sched.slice();
        let slice_end = now + slice;
        let Some(g) = self.guests[slot.index()].as_deref_mut() else {
            self.sched.set(slot, RunState::Stopped);
            return true;
        };
        match g.run(slice_end) {
            RunExit::Preempted => {
                if g.yielded() {
                    let until = g.wait_deadline(slice).map(|c| arch::counter() + c);
                    self.sched.set(slot, RunState::Waiting { until });
                }
            }
            RunExit::Waiting => {
                let until = g.wait_deadline(slice).map(|c| arch::counter() + c);
                self.sched.set(slot, RunState::Waiting { until });
            }
            RunExit::Halted(why) => self.fault(id, alloc::format!("stopped: {why}")),
        }
        true
    }

    /// The earliest counter value at which a waiting guest must run again.
    pub fn next_wake(&self) -> Option<u64> {
        self.sched.next_wake()
    }
}
