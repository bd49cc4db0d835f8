//! The board interface: what the hypervisor needs from a machine.
//!
//! A board (real or QEMU) is a small binary crate under `boards/`. It knows where its devices
//! are and how they are wired, builds drivers from `drivers/`, and implements [`Board`]. The
//! kernel calls the board only through this trait, so every board, real or emulated, is driven
//! by the same code.
//!
//! Contract:
//! - Methods take `&self`: device registers have their own interior mutability, and the kernel
//!   is single-core with interrupts masked while it runs trap handlers.
//! - [`Board::console_write`] must work from any context (including the panic handler) and
//!   before [`Board::init_interrupts`].
//! - [`Board::handle_interrupt`] is called with interrupts masked, for every external interrupt
//!   line the board declared in [`BoardInfo::irq_lines`]; it acknowledges its interrupt
//!   controller and reports what happened through an [`EventSink`].
//! - Ethernet ports ([`Board::ethernet_ports`]) are created once, at boot, and then belong to
//!   the network (`vmm::net::Net`); the board keeps only their interrupt lines. On a port's
//!   interrupt it masks the line, acknowledges the controller and calls
//!   [`EventSink::ethernet`]; the main loop polls every port (reading and acknowledging their
//!   causes) until a pass finds less than its budget, then calls
//!   [`Board::ethernet_interrupts`] (NAPI-like: polling under load, interrupts when
//!   idle; a level-triggered line asks again at once if a device still has causes).

use alloc::boxed::Box;
use alloc::vec::Vec;

/// A range of physical memory (the one definition, from `guest-mem`).
pub use guest_mem::PhysRange;
/// What a board hands over for each Ethernet port (its adapter over a driver).
pub use vmm::ether::{EtherPort, PortCounters};

static BOARD: spin::Once<&'static dyn Board> = spin::Once::new();

/// Make `board` the machine the kernel runs on (once, at the start of `kernel::run`).
pub(crate) fn install(board: &'static dyn Board) {
    BOARD.call_once(|| board);
}

/// The board the kernel runs on, once it has started (the console and the clock ask before
/// that, from the panic handler or early messages).
pub fn installed() -> Option<&'static dyn Board> {
    BOARD.get().copied()
}

/// Static facts about a board, gathered once at boot.
#[derive(Clone, Debug)]
pub struct BoardInfo {
    /// The board's short name as `./x build --board` knows it, e.g. `qemu-malta`.
    pub name: &'static str,
    /// What `/system resource print` shows as board-name, e.g. `QEMU malta`.
    pub model: &'static str,
    /// CPU model, e.g. `MIPS 24Kc`.
    pub cpu: &'static str,
    /// Architecture name as RouterOS prints it: `mipsbe` or `powerpc`.
    pub architecture: &'static str,
    /// CPU clock, when the board knows it.
    pub cpu_hz: Option<u64>,
    /// Rate of the CPU timer the arch layer uses (MIPS CP0 Count, e500 timebase).
    pub timer_hz: u64,
    /// Physical RAM, as found in the boot information. At most four banks.
    pub ram: [Option<PhysRange>; 4],
    /// Arch-specific external interrupt lines to enable (MIPS: Cause.IP bits 2..6 as a mask of
    /// bit numbers; e500: bit 0 = External Input).
    pub irq_lines: u32,
}

impl BoardInfo {
    /// Total RAM in bytes.
    pub fn total_ram(&self) -> u64 {
        self.ram.iter().flatten().map(|r| r.size).sum()
    }
}

/// A flash region for the configuration store (NOR semantics: erased bytes read 0xFF,
/// programming only clears bits, erase works on whole blocks). Offsets are relative to the
/// region. Errors carry no detail: the store treats any failure as "this copy is unusable".
pub trait ConfigFlash: Sync {
    fn size(&self) -> u32;
    fn erase_block_size(&self) -> u32;
    fn read(&self, offset: u32, buf: &mut [u8]) -> Result<(), FlashFailure>;
    fn erase(&self, offset: u32) -> Result<(), FlashFailure>;
    fn program(&self, offset: u32, data: &[u8]) -> Result<(), FlashFailure>;
    /// Where, inside this region, an earlier layout of the board kept the store's copies in
    /// their first format (`(offset, size)` per half), read when the region holds none.
    fn earlier_copies(&self) -> &'static [(u32, u32)] {
        &[]
    }
}

/// A flash operation failed (out of range, or the chip reported an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashFailure;

/// Where a board's interrupt handler delivers what its devices brought in.
pub trait EventSink {
    /// Whether the console input queue has room for another byte. When it has none, the board
    /// leaves further bytes in the UART (so the sender is flow-controlled) and turns the UART's
    /// receive interrupt off until the kernel calls [`Board::console_rx_interrupt`]`(true)`.
    fn console_has_room(&self) -> bool;
    /// A byte arrived on the management console.
    fn console_rx(&mut self, byte: u8);
    /// The console's receiver lost input (it overran: bytes arrived while nothing drained
    /// it). The kernel says so on the console; nothing else ever drops input.
    fn console_overrun(&mut self);
    /// An Ethernet port asked for service; the board has masked its interrupt line (see
    /// [`Board::ethernet_interrupts`]).
    fn ethernet(&mut self);
}

/// What the kernel needs from a machine. See the module documentation for the contract.
pub trait Board: Sync {
    fn info(&self) -> &BoardInfo;

    /// Write bytes to the management console, polling the transmitter.
    fn console_write(&self, bytes: &[u8]);

    /// A byte from the console receiver, if one is waiting (polled input).
    fn console_read(&self) -> Option<u8>;

    /// Program interrupt controllers and device interrupt enables. Called once, before the
    /// kernel unmasks [`BoardInfo::irq_lines`].
    fn init_interrupts(&self);

    /// Service external interrupt `line` (one of [`BoardInfo::irq_lines`]).
    fn handle_interrupt(&self, line: u32, events: &mut dyn EventSink);

    /// Turn the console UART's receive interrupt on or off (flow control, see [`EventSink`]).
    fn console_rx_interrupt(&self, enable: bool);

    /// Where the boot loader may have preloaded the file store (`./x run --file`: QEMU's
    /// `-device loader` on malta, the `-initrd` the device tree names on e500). The kernel
    /// keeps the part holding a valid store and gives the rest to guests.
    fn preload_area(&self) -> Option<PhysRange> {
        None
    }

    /// Find and start the board's Ethernet ports, ether1 first (called once, at boot, before
    /// [`Board::init_interrupts`]). `dma_ram(bytes, below)` gives physical RAM for their
    /// rings and buffers (below physical address `below`, never handed to guests). None by
    /// default.
    fn ethernet_ports(
        &self,
        dma_ram: &mut dyn FnMut(u64, u64) -> Option<PhysRange>,
    ) -> Vec<Box<dyn EtherPort>> {
        let _ = dma_ram;
        Vec::new()
    }

    /// Unmask the Ethernet ports' interrupt lines again (the main loop's polling drained
    /// them); the board masked them when it reported [`EventSink::ethernet`].
    fn ethernet_interrupts(&self) {}

    /// A driver for the board's disk, which holds the file store (`/file`, the guests' disks),
    /// if it has one. Each call probes the device anew; the kernel calls it at boot.
    fn disk(&self) -> Option<alloc::boxed::Box<dyn filestore::BlockDevice>> {
        None
    }

    /// The flash region that holds the saved configuration, if the board has one.
    fn config_flash(&self) -> Option<&dyn ConfigFlash> {
        None
    }

    /// Reset the machine (`/system reboot`). In QEMU with `-no-reboot` this ends QEMU.
    fn reset(&self) -> !;

    /// Power the machine off (`/system shutdown`). Boards that cannot cut power halt the CPU.
    fn power_off(&self) -> !;
}

/// Move received console bytes from `read` (the next byte if any, and whether the receiver
/// overran since the last look) into `events` while the queue has room. Returns `false` when
/// the queue filled up: the board must then turn its receive interrupt off (the kernel turns
/// it back on once it has consumed the queue).
pub fn drain_console(
    mut read: impl FnMut() -> (Option<u8>, bool),
    events: &mut dyn EventSink,
) -> bool {
    while events.console_has_room() {
        let (byte, overrun) = read();
        if overrun {
            events.console_overrun();
        }
        match byte {
            Some(byte) => events.console_rx(byte),
            None => return true,
        }
    }
    false
}
