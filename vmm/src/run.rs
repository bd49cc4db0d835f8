//! What a running guest's traps may touch: [`RunEnv`], the [`GuestEnv`] guest management hands
//! to [`GuestCpu::run`](crate::GuestCpu::run). It is on the trap path: a hypercall goes straight
//! to the guest's devices, and the host's questions (is the slice over, is there console input)
//! are two calls into the machine.

use guest_mem::GuestRam;
use vdevices::{Events, GuestDevices};

use crate::cpu::GuestEnv;
use crate::machine::Machine;

/// Add `new` events to `acc` (the interrupt flag excepted: it is acted on at once).
pub(crate) fn merge(acc: &mut Events, new: Events) {
    acc.yielded |= new.yielded;
    acc.request = new.request.or(acc.request);
    acc.faulted |= new.faulted;
}

/// What a running guest's traps may touch.
pub(crate) struct RunEnv<'a, M: Machine> {
    pub(crate) devices: &'a mut GuestDevices,
    pub(crate) ram: GuestRam<'a>,
    pub(crate) alive: &'a mut bool,
    pub(crate) pending: &'a mut Events,
    pub(crate) interrupt: bool,
    /// The pending events need the host (a yield, a control request): the guest's turn ends.
    pub(crate) must_leave: bool,
    pub(crate) slice_end: u64,
    pub(crate) machine: &'a M,
}

impl<M: Machine> RunEnv<'_, M> {
    /// Move the devices' events: the interrupt to the CPU, the rest to the service pass.
    #[inline(never)]
    fn collect(&mut self) {
        let events = self.devices.take_events();
        self.interrupt |= events.interrupt;
        merge(self.pending, events);
        self.must_leave = self.pending.yielded || self.pending.request.is_some();
    }
}

impl<M: Machine> GuestEnv for RunEnv<'_, M> {
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
            || self.machine.host_work_pending()
            || self.machine.counter() >= self.slice_end
    }
}
