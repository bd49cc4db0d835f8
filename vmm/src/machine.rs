//! What guest management needs from the machine it runs on: time, the console's state, a log,
//! RAM for partitions and the built-in guest. The hypervisor implements [`Machine`] on the real
//! hardware (`hypervisor/src/vm.rs`); the tests implement it with a clock they move by hand and
//! RAM from the host's heap.

use core::fmt;
use core::ops::DerefMut;

use guest_mem::PhysRange;

use crate::cpu::GuestCpu;

/// The machine under guest management.
pub trait Machine {
    /// The guest CPU of this machine's architecture.
    type Cpu: GuestCpu;
    /// A partition's bytes, owned: the only view of that RAM while a guest holds it (guest
    /// management borrows it for each access, so no two views of one partition can be open).
    type Ram: DerefMut<Target = [u8]>;

    /// The free-running CPU counter (MIPS Count, e500 timebase), extended to 64 bits.
    fn counter(&self) -> u64;
    /// Milliseconds since boot.
    fn uptime_ms(&self) -> u64;
    /// Whether host work is waiting that must end a guest's turn (console input).
    fn host_work_pending(&self) -> bool;
    /// Say something about a guest on the console (`text` is the whole message, without the
    /// `metarouter:` prefix the machine adds).
    fn log(&self, text: fmt::Arguments<'_>);
    /// A partition of `size` bytes aligned to `align`, below host-physical `limit`, with its
    /// bytes; `None` when no such RAM is free.
    fn allocate_partition(
        &mut self,
        size: u64,
        align: u64,
        limit: u64,
    ) -> Option<(PhysRange, Self::Ram)>;
    /// Give a partition back (its bytes with it).
    fn free_partition(&mut self, partition: PhysRange, ram: Self::Ram);
    /// The guest image linked into the hypervisor (an ELF), booted when no image was imported;
    /// empty if this build has none.
    fn builtin_guest(&self) -> &'static [u8];
    /// The core clock in Hz, when the machine knows it (a PowerPC guest's device tree tells
    /// it as `clock-frequency`).
    fn cpu_hz(&self) -> Option<u64> {
        None
    }
}
