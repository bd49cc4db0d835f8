//! The CPU architecture layer, one module per CPU family, chosen at compile time.
//!
//! Every arch module provides the same surface, used by the rest of the kernel:
//!
//! - `BootRegs`: the registers the boot loader left at entry; `_start` (assembly) sets up the
//!   stack, clears `.bss` and calls the board's entry (see [`crate::board_entry!`]) with them.
//! - `install_vectors()`: point the CPU's exception vectors at the hypervisor's.
//! - `TrapFrame` and the trap path: every exception the assembly fast paths do not serve lands
//!   in `trap::__hv_trap` (Rust, interrupts off), which tells guest traps, interrupts and the
//!   kernel's own system calls apart.
//! - `interrupts_enable()`, `interrupts_disable() -> bool`, `interrupts_restore(bool)`,
//!   `unmask_external(lines)`: interrupt masking.
//! - `counter() -> u64`: the free-running CPU timer (64-bit, never wraps in practice).
//! - `timer_start(period)`: a periodic tick every `period` counter units, calling
//!   `kernel::on_tick`.
//! - `idle()`: sleep until an interrupt has been handled, without the lost-wakeup race.
//! - `halt() -> !`: stop for good, interrupts off.
//! - `NAME`: the architecture's name.
//! - Guests: `GuestCpu`, which implements [`vmm::GuestCpu`] (create with an entry state, run a
//!   slice and return one `vmm::RunExit`, reset, inject the device interrupt, the timer's wait
//!   deadline; its `ARCH` is the guests' `guest_mem::GuestArch`); `guest_ram_map` (the part of
//!   the board's RAM the hypervisor can reach and hand out in partitions, mapping what it
//!   must), `guest_ram` (a partition's bytes), `phys_bytes`, `virt_to_phys`,
//!   `timer_set_deadline`. An arch whose guest support is not proven yet says so with
//!   `GuestCpu::RUNS_GUESTS = false`, and guest management refuses to start its guests.

#[cfg(target_arch = "mips")]
mod mips;
#[cfg(target_arch = "mips")]
pub use mips::*;

#[cfg(target_arch = "powerpc")]
mod powerpc;
#[cfg(target_arch = "powerpc")]
pub use powerpc::*;

#[cfg(not(any(target_arch = "mips", target_arch = "powerpc")))]
compile_error!(
    "the hypervisor crate runs on MIPS32 and PowerPC e500 only; build it with `./x build --board ...` \
     (host-testable logic belongs in the portable crates)"
);
