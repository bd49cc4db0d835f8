//! The table of guests, their life cycle, and running them in turn.
//!
//! The [`Manager`] is owned by the kernel's main loop (inside the management plane's
//! platform). The main loop calls [`Manager::service`] for host-side device work (ring scans,
//! console, frames between guests, life-cycle events and timeouts) and [`Manager::run_next`]
//! to give the next runnable guest a time slice. While a guest runs, the CPU layer handles its
//! traps and reaches the guest's devices only through the [`crate::GuestEnv`] handed to
//! [`GuestCpu::run`].

use alloc::boxed::Box;
use alloc::string::String;

use forward::RouteSource;
use guest_loader::archive::{ImportSink, NullSink};
use guest_loader::store::{FileStore, StoredFile};
use guest_mem::GuestRam;
use vdevices::{MetafsStats, MetafsStore, Timestamp, Volume};
use vswitch::Seconds;

use crate::cpu::{GuestCpu, RunExit};
use crate::guest::{Guest, GuestReport, GuestSpec, Memory};
use crate::host_link;
use crate::image_files::ImageFiles;
use crate::lifecycle::{self, Action, Event, State};
use crate::machine::Machine;
use crate::net::{self, Net, NetworkPlan};
use crate::sched::{RunState, Scheduler};
use crate::{GuestError, GuestId, ImportStatus, MAX_GUESTS};

/// Length of a guest's time slice in milliseconds.
const SLICE_MS: u64 = 10;

/// Every guest, and the resources they are made from.
pub struct Manager<M: Machine> {
    machine: M,
    guests: [Option<Box<Guest<M>>>; MAX_GUESTS],
    sched: Scheduler<MAX_GUESTS>,
    files: ImageFiles,
    timer_hz: u64,
    net: Net,
    /// A physical port had more frames than one pass takes.
    ports_busy: bool,
    port_work: PortWork,
}

/// The receive passes that moved frames since boot: how many, the frames they took from the
/// physical ports and the machine's counter ticks they took (what `./x bench net` reads).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortWork {
    pub passes: u64,
    pub frames: u64,
    pub ticks: u64,
    /// Ticks of the routing steps that had frames to route (`crate::routed`).
    pub route_ticks: u64,
}

impl<M: Machine> Manager<M> {
    /// Guests on `machine`, whose counter runs at `timer_hz`, with the preloaded `files`.
    pub fn new(machine: M, files: Option<FileStore<'static>>, timer_hz: u64) -> Self {
        Self {
            machine,
            guests: Default::default(),
            sched: Scheduler::new(timer_hz * SLICE_MS / 1000),
            files: ImageFiles::new(files),
            timer_hz,
            net: Net::new(),
            ports_busy: false,
            port_work: PortWork::default(),
        }
    }

    /// The machine.
    pub fn machine(&self) -> &M {
        &self.machine
    }

    /// The machine, to change (tests move their clock with it).
    pub fn machine_mut(&mut self) -> &mut M {
        &mut self.machine
    }

    fn guest(&self, id: GuestId) -> Option<&Guest<M>> {
        self.guests.get(id.index())?.as_deref()
    }

    fn guest_mut(&mut self, id: GuestId) -> Option<&mut Guest<M>> {
        self.guests.get_mut(id.index())?.as_deref_mut()
    }

    /// Hypervisor memory a running guest costs beyond its own RAM: its state (devices, console
    /// buffers, life cycle) and its CPU (registers, virtual CPU state).
    pub const fn overhead_per_guest() -> usize {
        core::mem::size_of::<Guest<M>>() + core::mem::size_of::<M::Cpu>()
    }

    /// The files images come from: the preloaded ones and the archives received since
    /// ([`Manager::add_file`]).
    pub fn files(&self) -> impl Iterator<Item = StoredFile<'static>> + '_ {
        self.files.iter()
    }

    /// An archive kept in the file store since boot: guests may now be imported from it and
    /// boot from it (see [`crate::image_files`]).
    pub fn add_file(&mut self, file: StoredFile<'static>) {
        self.files.add(file);
    }

    /// Define (or redefine) guest `id`; a running guest keeps its RAM until it is next started.
    pub fn define(&mut self, id: GuestId, spec: &GuestSpec) -> Result<(), GuestError> {
        let slot = self
            .guests
            .get_mut(id.index())
            .ok_or(GuestError::NoSuchGuest)?;
        match slot {
            Some(g) => g.redefine(spec),
            None => *slot = Some(Box::new(Guest::new(id, spec))),
        }
        Ok(())
    }

    /// Stop guest `id` at once if it runs, and forget it.
    pub fn undefine(&mut self, id: GuestId) {
        if self.guest(id).is_some_and(|g| g.state().is_live()) {
            self.stop(id);
        }
        self.net.forget_guest(id);
        if let Some(slot) = self.guests.get_mut(id.index()) {
            *slot = None;
        }
    }

    /// Apply a life-cycle event: carry out its action, then take the new state. A failed
    /// action leaves the state as it was.
    fn event(&mut self, id: GuestId, event: Event) -> Result<(), GuestError> {
        let from = self.guest(id).ok_or(GuestError::NoSuchGuest)?.state();
        let (to, action) =
            lifecycle::transition(from, event).map_err(|_| GuestError::WrongState)?;
        match action {
            Action::Nothing => {}
            Action::Boot => self.boot(id)?,
            Action::AskHalt | Action::AskRestart => {
                let deadline = self.machine.uptime_ms() + lifecycle::GRACE_MS;
                let g = self.guest_mut(id).ok_or(GuestError::NoSuchGuest)?;
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
                if let Err(e) = self.restart(id) {
                    self.stop(id);
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
        if let Some(g) = self
            .guests
            .get_mut(id.index())
            .and_then(|g| g.as_deref_mut())
        {
            self.machine.log(format_args!("{}: {}", g.name(), why));
            g.set_last_message(why);
        }
        let _ = self.event(id, Event::Fault);
    }

    /// `/metarouter start`.
    pub fn start(&mut self, id: GuestId) -> Result<(), GuestError> {
        self.event(id, Event::Start)
    }

    /// `/metarouter shutdown`: ask the guest to halt.
    pub fn shutdown(&mut self, id: GuestId) -> Result<(), GuestError> {
        self.event(id, Event::Shutdown)
    }

    /// `/metarouter reboot`: ask the guest to restart.
    pub fn reboot(&mut self, id: GuestId) -> Result<(), GuestError> {
        self.event(id, Event::Reboot)
    }

    /// The MAC the guest's kernel is told: its first interface's, else its definition's.
    fn kernel_mac(&self, id: GuestId, g: &Guest<M>) -> [u8; 6] {
        self.net.guest_mac(id).unwrap_or(g.mac())
    }

    /// Allocate the partition, load the image and create the CPU; the guest becomes runnable.
    fn boot(&mut self, id: GuestId) -> Result<(), GuestError> {
        let g = self
            .guests
            .get_mut(id.index())
            .and_then(|g| g.as_deref_mut())
            .ok_or(GuestError::NoSuchGuest)?;
        let size = g.memory_bytes();
        let arch = <M::Cpu as GuestCpu>::ARCH;
        let (range, bytes) = self
            .machine
            .allocate_partition(size, arch.partition_align(size), arch.phys_limit())
            .ok_or(GuestError::OutOfMemory)?;
        let kmac = self.net.guest_mac(id).unwrap_or(g.mac());
        if let Err((e, memory)) = g.boot(
            &self.machine,
            Memory { range, bytes },
            &self.files,
            self.timer_hz,
            kmac,
        ) {
            self.machine.free_partition(memory.range, memory.bytes);
            return Err(e);
        }
        self.net.attach_guest(id, g);
        self.sched.set(id, RunState::Runnable);
        Ok(())
    }

    /// Start a guest over: in the partition it holds when its size is still the one it is
    /// defined with (the CPU is reset), else stopped and booted in a new one.
    fn restart(&mut self, id: GuestId) -> Result<(), GuestError> {
        let g = self.guest(id).ok_or(GuestError::NoSuchGuest)?;
        if g.partition().is_none_or(|p| p.size != g.memory_bytes()) {
            self.stop(id);
            return self.boot(id);
        }
        let kmac = self.kernel_mac(id, g);
        let g = self
            .guests
            .get_mut(id.index())
            .and_then(|g| g.as_deref_mut())
            .ok_or(GuestError::NoSuchGuest)?;
        g.restart(&self.machine, &self.files, self.timer_hz, kmac)?;
        self.net.attach_guest(id, g);
        self.sched.set(id, RunState::Runnable);
        Ok(())
    }

    /// Stop a guest's CPU and give its RAM back.
    fn stop(&mut self, id: GuestId) {
        self.sched.set(id, RunState::Stopped);
        if let Some(memory) = self
            .guests
            .get_mut(id.index())
            .and_then(|g| g.as_deref_mut())
            .and_then(Guest::halt)
        {
            self.machine.free_partition(memory.range, memory.bytes);
        }
    }

    /// Guest `id`'s run-time facts, if it is defined.
    pub fn status(&self, id: GuestId) -> Option<GuestReport> {
        self.guest(id).map(Guest::report)
    }

    /// Guest `id`'s RAM as its devices see it, while it holds a partition (and does not run:
    /// the view borrows the manager).
    pub fn guest_ram(&mut self, id: GuestId) -> Option<GuestRam<'_>> {
        self.guest_mut(id)?.ram()
    }

    /// Take up to `buf.len()` bytes of guest `id`'s console output.
    pub fn console_read(&mut self, id: GuestId, buf: &mut [u8]) -> usize {
        self.guest_mut(id).map_or(0, |g| g.console_read(buf))
    }

    /// Console input for guest `id`; how many bytes it took.
    pub fn console_write(&mut self, id: GuestId, bytes: &[u8]) -> usize {
        let n = self.guest_mut(id).map_or(0, |g| g.console_write(bytes));
        self.sched.wake(id);
        n
    }

    /// A break on guest `id`'s console.
    pub fn console_break(&mut self, id: GuestId) {
        // MetaROUTER's console has no break signal; a break arrives as a NUL byte, as a
        // 16550 reports a break condition.
        self.console_write(id, &[0]);
    }

    /// Start importing `file_name` from the file store as guest `id`'s image.
    pub fn import_start(&mut self, id: GuestId, file_name: &str) -> Result<(), GuestError> {
        let file = self.files.find(file_name).ok_or(GuestError::NoSuchFile)?;
        self.guest_mut(id)
            .ok_or(GuestError::NoSuchGuest)?
            .import_start(file)
    }

    /// Advance guest `id`'s import a step (checking only: the tree is kept nowhere).
    pub fn import_poll(&mut self, id: GuestId) -> ImportStatus {
        self.import_poll_into(id, &mut NullSink)
    }

    /// Advance guest `id`'s import a step, unpacking its file tree into `sink` (the guest's
    /// disk area; the caller commits it once the import is done, and drops it otherwise).
    pub fn import_poll_into(&mut self, id: GuestId, sink: &mut dyn ImportSink) -> ImportStatus {
        let Some(g) = self
            .guests
            .get_mut(id.index())
            .and_then(|g| g.as_deref_mut())
        else {
            return ImportStatus::Failed(GuestError::NoSuchGuest);
        };
        g.import_poll(&self.machine, sink)
    }

    /// Make `volume` guest `id`'s disk (its metafs export 0), or take its disk away.
    pub fn set_disk(&mut self, id: GuestId, volume: Option<Volume>) {
        if let Some(g) = self.guest_mut(id) {
            g.set_disk(volume);
        }
    }

    /// Guest `id`'s disk request counters.
    pub fn disk_stats(&self, id: GuestId) -> Option<MetafsStats> {
        self.guest(id).map(Guest::disk_stats)
    }

    /// Answer the pending metafs requests of every live guest from `store` (each reaches only
    /// its own exports), `now` being the time of any change; wake the guests answered.
    pub fn serve_disks(&mut self, store: &mut dyn MetafsStore, now: Timestamp) -> u32 {
        let mut total = 0;
        for id in GuestId::all() {
            let Some(g) = self.guests[id.index()].as_deref_mut() else {
                continue;
            };
            if !g.state().is_live() {
                continue;
            }
            let Some((devices, mut ram)) = g.devices_and_ram() else {
                continue;
            };
            // A guest whose rings are unusable gets no answers; the others are unaffected.
            let served = devices.serve_metafs(&mut ram, store, now).unwrap_or(0);
            if served > 0 {
                total += served;
                self.sched.wake(id);
            }
        }
        total
    }

    /// The network: physical ports, their counters, the host's own IP.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// The network, to change (add the board's ports).
    pub fn net_mut(&mut self) -> &mut Net {
        &mut self.net
    }

    /// Whether a physical port had more frames than the last pass took: poll again soon.
    pub fn ports_busy(&self) -> bool {
        self.ports_busy
    }

    /// The receive passes' work since boot.
    pub fn port_work(&self) -> PortWork {
        self.port_work
    }

    /// Microseconds since boot, from the machine's counter.
    pub fn now_us(&self) -> u64 {
        counter_us(self.machine.counter(), self.timer_hz)
    }

    /// The host's own IP endpoint (its tables, its ping).
    pub fn host_ip(&self) -> &hostip::HostIp {
        self.net.host().ip()
    }

    /// The host's own IP endpoint, to start or stop a ping (at [`Manager::now_us`]).
    pub fn host_ip_mut(&mut self) -> &mut hostip::HostIp {
        let now = self.now_us();
        self.net.host_mut().set_time(now);
        self.net.host_mut().ip_mut()
    }

    /// Rebuild the network between guests.
    pub fn apply_network(&mut self, plan: &NetworkPlan) {
        self.net.apply(plan, &mut self.guests);
    }

    /// Host-side work for every live guest: device rings, console traffic, frames between
    /// guests, requests and faults, grace timeouts; wake guests whose interrupts are due.
    pub fn service(&mut self) {
        self.serve(None);
    }

    /// [`Manager::service`], with the unicast IP frames for the host's MAC routed by `routes`
    /// (`crate::routed`): the box forwards between its L3 interfaces.
    pub fn service_routing(&mut self, routes: &dyn RouteSource) {
        self.serve(Some(routes));
    }

    fn serve(&mut self, routes: Option<&dyn RouteSource>) {
        let now = self.machine.uptime_ms();
        for id in GuestId::all() {
            let Some(g) = self.guests[id.index()].as_deref_mut() else {
                continue;
            };
            if !g.state().is_live() {
                continue;
            }
            let report = g.service(&self.machine);
            if report.alive {
                let _ = self.event(id, Event::Alive);
            }
            if let Some(restart) = report.request {
                let _ = self.event(
                    id,
                    if restart {
                        Event::GuestRestart
                    } else {
                        Event::GuestHalted
                    },
                );
            }
            if self.guest(id).is_some_and(|g| g.grace_expired(now)) {
                let _ = self.event(id, Event::GraceExpired);
            }
        }
        // The switch's clock: seconds modulo 2^32 (it ages entries with wrapping arithmetic).
        #[allow(clippy::cast_possible_truncation)]
        let seconds = Seconds((now / 1000) as u32);
        // The host's endpoint answers at this time (frames reach it from every walk below).
        let now_us = self.now_us();
        self.net.host_mut().set_time(now_us);
        let start = self.machine.counter();
        // The route source's generation, for the flow cache's frames sent from the pass.
        let generation = routes.and_then(|r| r.generation());
        let pass =
            crate::ether::receive_from_ports(&mut self.net, &mut self.guests, seconds, generation);
        if pass.frames > 0 {
            self.port_work.passes += 1;
            self.port_work.frames += pass.frames as u64;
            self.port_work.ticks += self.machine.counter().wrapping_sub(start);
        }
        self.ports_busy = pass.busy;
        net::switch_frames(&mut self.net, &mut self.guests, seconds);
        let start = self.machine.counter();
        if crate::routed::route_frames(&mut self.net, &mut self.guests, seconds, routes) {
            self.port_work.route_ticks += self.machine.counter().wrapping_sub(start);
        }
        host_link::host_frames(&mut self.net, &mut self.guests, seconds);
        for id in GuestId::all() {
            if let Some(g) = self.guests[id.index()].as_deref_mut() {
                if g.wants_wake() {
                    self.sched.wake(id);
                }
            }
        }
    }

    /// Give the next runnable guest one time slice. Returns `false` when no guest could run.
    pub fn run_next(&mut self) -> bool {
        let now = self.machine.counter();
        // Waiting guests whose interrupt is pending become runnable.
        for id in GuestId::all() {
            if let RunState::Waiting { .. } = self.sched.state(id) {
                if self.guests[id.index()]
                    .as_deref_mut()
                    .is_some_and(Guest::runnable)
                {
                    self.sched.wake(id);
                }
            }
        }
        let Some(id) = self.sched.pick(now) else {
            return false;
        };
        let slice = self.sched.slice();
        let slice_end = now + slice;
        let Some(g) = self.guests[id.index()].as_deref_mut() else {
            self.sched.set(id, RunState::Stopped);
            return true;
        };
        match g.run(&self.machine, slice_end) {
            RunExit::Preempted => {
                if g.yielded() {
                    let until = g.wait_deadline(slice).map(|c| self.machine.counter() + c);
                    self.sched.set(id, RunState::Waiting { until });
                }
            }
            RunExit::Waiting => {
                let until = g.wait_deadline(slice).map(|c| self.machine.counter() + c);
                self.sched.set(id, RunState::Waiting { until });
            }
            RunExit::Halted(why) => self.fault(id, alloc::format!("stopped: {why}")),
        }
        true
    }

    /// The earliest counter value at which a waiting guest must run again, or the host's ping
    /// has something to send, time out or print.
    pub fn next_wake(&self) -> Option<u64> {
        let guests = self.sched.next_wake();
        let ip = self.host_ip();
        // Packets waiting for a next hop's address: the endpoint's sweep repeats the request
        // and the forwarder gives up on them in time.
        let waiting = self
            .net
            .host()
            .forwarder()
            .is_some_and(|f| f.waiting_next_hops() > 0);
        if !ip.ping_running() && !waiting {
            return guests;
        }
        let ping = if ip.ping_events_pending() {
            self.machine.counter()
        } else {
            let us = u128::from(ip.next_poll()) * u128::from(self.timer_hz) / 1_000_000;
            u64::try_from(us).unwrap_or(u64::MAX)
        };
        Some(guests.map_or(ping, |g| g.min(ping)))
    }
}

impl<M: Machine> net::SwitchedGuest for Guest<M> {
    fn devices_and_ram(&mut self) -> Option<(&mut vdevices::GuestDevices, GuestRam<'_>)> {
        Guest::devices_and_ram(self)
    }
    fn note_delivery(&mut self) {
        Guest::note_delivery(self);
    }
    fn ring_space_freed(&mut self) {
        Guest::ring_space_freed(self);
    }
}

/// `counter` ticks of a `hz` counter in microseconds (`counter * 10^6 / hz`, saturated), by
/// whole seconds and the remainder: two 64-bit divisions, where the 128-bit form took a
/// 128-bit division (several 64-bit ones in software on a 32-bit CPU) every pass.
fn counter_us(counter: u64, hz: u64) -> u64 {
    let hz = hz.max(1);
    let seconds = counter / hz;
    let rest = counter - seconds * hz;
    seconds
        .saturating_mul(1_000_000)
        .saturating_add(rest * 1_000_000 / hz)
}

#[cfg(test)]
mod tests {
    use super::counter_us;

    /// The same as the 128-bit product and quotient, saturated.
    #[test]
    fn counter_us_is_the_exact_quotient() {
        let exact = |c: u64, hz: u64| {
            let us = u128::from(c) * 1_000_000 / u128::from(hz.max(1));
            u64::try_from(us).unwrap_or(u64::MAX)
        };
        for hz in [
            0,
            1,
            3,
            999_999,
            1_000_000,
            41_666_666,
            160_000_000,
            u64::from(u32::MAX),
        ] {
            for c in [
                0,
                1,
                159,
                160,
                1 << 32,
                123_456_789_012,
                u64::MAX / 1_000_000,
                u64::MAX,
            ] {
                for c in [c, c.saturating_add(hz / 2), c.saturating_sub(1)] {
                    assert_eq!(counter_us(c, hz), exact(c, hz), "{c} ticks at {hz} Hz");
                }
            }
        }
    }
}
