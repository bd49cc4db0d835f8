//! The kernel's main loop and the hooks the arch layer calls.
//!
//! Boot: the arch entry calls the board's main, which builds its devices and calls [`run`].
//! `run` installs the exception vectors, the heap and the tick, prints the banner, finds the
//! preloaded files, mounts the disk's file store ([`crate::disk`]), sets up guest management and the management shell, and then loops:
//! console input to the shell (which keeps type-ahead while it is busy), the shell's periodic
//! work, host-side guest device work, one time slice for the next runnable guest, and
//! `arch::idle` when there is nothing to do. Ethernet ports are polled in the host-side guest
//! work; their interrupt lines stay masked while a port has more than one pass takes.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use guest_loader::store::{FileStore, StoreError};
use mgmt::{Shell, ShellOptions};
use vmm::partition::PhysRange;

use crate::arch;
use crate::board::{Board, EventSink};
use crate::platform::{ConsoleTerminal, HvPlatform, PowerRequest};
use crate::vm::{self, HvMachine, Manager};
use crate::{console, heap, println, stack, time};
use vmm::partition::PartitionAllocator;

/// Kernel timer ticks per second.
pub const TICK_HZ: u64 = 100;
/// Partition granule: what the hypervisor reserves is rounded up to it.
const MIB: u64 = 1 << 20;

/// An Ethernet port raised its interrupt (the board masked the line) and the main loop has not
/// polled since.
static ETHERNET_PENDING: AtomicBool = AtomicBool::new(false);

/// The receive passes that took frames from the Ethernet ports, those frames, and the CPU
/// counter ticks spent in them (`vmm::manager::PortWork`, modulo 2^32): `./x bench net` reads
/// them through the QEMU monitor.
#[no_mangle]
static __hv_ether_passes: AtomicU32 = AtomicU32::new(0);
#[no_mangle]
static __hv_ether_frames: AtomicU32 = AtomicU32::new(0);
#[no_mangle]
static __hv_ether_ticks: AtomicU32 = AtomicU32::new(0);
/// The CPU counter ticks spent routing (`PortWork::route_ticks`, modulo 2^32).
#[no_mangle]
static __hv_route_ticks: AtomicU32 = AtomicU32::new(0);

/// CPU counter ticks the main loop spent idle (`wait` with nothing to run, modulo 2^32):
/// `./x bench net --guests` reads it through the QEMU monitor.
#[no_mangle]
static __hv_idle_ticks: AtomicU32 = AtomicU32::new(0);
/// Passes of the main loop, and the guest turns they ran (modulo 2^32).
#[no_mangle]
static __hv_loop_passes: AtomicU32 = AtomicU32::new(0);
#[no_mangle]
static __hv_guest_turns: AtomicU32 = AtomicU32::new(0);

/// Whether an Ethernet port is waiting for the main loop (a guest's turn ends for it).
pub fn ethernet_pending() -> bool {
    ETHERNET_PENDING.load(Ordering::Relaxed)
}

/// Find the board's Ethernet ports and give them to the network, their rings and buffers in
/// RAM taken from guest RAM for good.
fn start_ethernet(board: &dyn Board, vms: &mut Manager) {
    let mut dma_ram = |bytes: u64, below: u64| {
        crate::ram::with(|p| p.allocate_aligned(bytes.div_ceil(MIB) * MIB, MIB, below))?.ok()
    };
    let ports = board.ethernet_ports(&mut dma_ram);
    for (i, port) in ports.into_iter().enumerate() {
        let mac = port.mac();
        println!(
            "ether{}: {:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}, link {}",
            i + 1,
            mac[0],
            mac[1],
            mac[2],
            mac[3],
            mac[4],
            mac[5],
            if port.link_up() { "up" } else { "down" }
        );
        vms.net_mut().add_port(port);
    }
}

/// Define the board's entry point: `board_entry!(main)` with `fn main(regs: BootRegs) -> !`.
#[macro_export]
macro_rules! board_entry {
    ($main:path) => {
        #[no_mangle]
        pub fn __hv_board_main(regs: $crate::arch::BootRegs) -> ! {
            let main: fn($crate::arch::BootRegs) -> ! = $main;
            main(regs)
        }
    };
}

/// The hypervisor's own memory: from physical 0 to the end of its image (heap included).
fn hypervisor_memory() -> PhysRange {
    extern "C" {
        static __image_end: u8;
    }
    let end = arch::virt_to_phys(core::ptr::addr_of!(__image_end) as usize);
    PhysRange {
        base: 0,
        size: end.div_ceil(MIB) * MIB,
    }
}

/// The file store QEMU preloaded, if there is a valid one; the memory it occupies.
fn preloaded_files(board: &dyn Board) -> (Option<FileStore<'static>>, Option<PhysRange>) {
    let Some(area) = board.preload_area() else {
        return (None, None);
    };
    let Ok(len) = usize::try_from(area.size) else {
        return (None, None);
    };
    // SAFETY: the board reserves this RAM for the preloaded store; nothing writes it (guests
    // get it only if no store is found there, after this view is dropped).
    let bytes = unsafe { arch::phys_bytes(area.base, len) };
    match FileStore::parse(bytes) {
        Ok(store) => {
            let used = (store.total_len() as u64).div_ceil(MIB) * MIB;
            println!(
                "files: {} preloaded ({} KiB)",
                store.len(),
                store.total_len() / 1024
            );
            (
                Some(store),
                Some(PhysRange {
                    base: area.base,
                    size: used,
                }),
            )
        }
        Err(StoreError::NotAStore) => (None, None),
        Err(e) => {
            println!("files: the preloaded file store is damaged and was ignored: {e}");
            (None, None)
        }
    }
}

/// Start the kernel on `board`. Never returns.
pub fn run(board: &'static dyn Board) -> ! {
    crate::board::install(board);
    stack::paint();
    time::mark_boot();
    arch::install_vectors();
    heap::init();
    let info = board.info();
    println!();
    println!(
        "MetaROUTER hypervisor {} ({}), board {}",
        crate::VERSION,
        arch::NAME,
        info.name
    );
    println!(
        "CPU {}, RAM {} MiB, timer {} MHz, heap {} KiB (grows into guest RAM as needed)",
        info.cpu,
        info.total_ram() >> 20,
        info.timer_hz / 1_000_000,
        heap::size() >> 10
    );
    let (mut files, files_memory) = preloaded_files(board);
    let ram: alloc::vec::Vec<PhysRange> = info.ram.iter().flatten().copied().collect();
    let ram = arch::guest_ram_map(&ram);
    let mut reserved = alloc::vec![hypervisor_memory()];
    reserved.extend(files_memory);
    let partitions = PartitionAllocator::new(&ram, &reserved).unwrap_or_else(|_| {
        println!("guests: the RAM map cannot be managed; no guest RAM");
        PartitionAllocator::new(&[], &[]).expect("an empty map is valid")
    });
    crate::ram::install(partitions);
    // The store's caches and a RAM copy of the files come from the heap, which may now grow
    // into guest RAM.
    let mut disk = crate::disk::mount(board, files.as_ref());
    if files.is_none() {
        files = disk.as_mut().and_then(|d| d.ram_store());
    }
    let mut vms = Manager::new(HvMachine, files, info.timer_hz);
    start_ethernet(board, &mut vms);
    println!(
        "guests: {} MiB of RAM for guests, {} bytes of hypervisor memory per running guest",
        vm::memory().total >> 20,
        Manager::overhead_per_guest()
    );
    let mut platform = HvPlatform::new(board, vms);
    platform.disk = disk;
    board.init_interrupts();
    arch::unmask_external(info.irq_lines);
    arch::timer_start(info.timer_hz / TICK_HZ);
    arch::interrupts_enable();
    let shell = Shell::new(
        &mut platform,
        ShellOptions {
            login: true,
            width: 80,
        },
    );
    main_loop(board, platform, shell)
}

fn main_loop(board: &'static dyn Board, mut platform: HvPlatform, mut shell: Shell) -> ! {
    let mut terminal = ConsoleTerminal;
    let mut buf = [0u8; 128];
    // The board masked the Ethernet lines when it reported a port; they stay masked while
    // polling finds more than a pass takes.
    let mut ethernet_masked = false;
    loop {
        stack::check();
        // Input always goes to the shell, which keeps what it cannot handle yet (typed during
        // an image import or a login delay) in its type-ahead queue; when that is full, input
        // waits in the console queue and then in the UART, whose sender is held back.
        let room = shell.input_room().min(buf.len());
        let n = console::take_input(&mut buf[..room]);
        if n > 0 {
            board.console_rx_interrupt(true);
            shell.input(&buf[..n], &mut platform, &mut terminal);
        }
        shell.poll(&mut platform, &mut terminal);
        if console::take_lost() > 0 {
            println!(
                "\nconsole: input was lost (the serial receiver overran); check what was typed"
            );
        }
        if let Some(request) = platform.power.take() {
            power(board, request);
        }
        ethernet_masked |= ETHERNET_PENDING.swap(false, Ordering::Relaxed);
        // The box routes with the configuration's RIB, lent for the pass.
        platform.vms.service_routing(&shell.rib().routes());
        let ports_busy = platform.vms.ports_busy();
        let work = platform.vms.port_work();
        // The low 32 bits: readers take differences.
        #[allow(clippy::cast_possible_truncation)]
        {
            __hv_ether_passes.store(work.passes as u32, Ordering::Relaxed);
            __hv_ether_frames.store(work.frames as u32, Ordering::Relaxed);
            __hv_ether_ticks.store(work.ticks as u32, Ordering::Relaxed);
            __hv_route_ticks.store(work.route_ticks as u32, Ordering::Relaxed);
        }
        if ethernet_masked && !ports_busy {
            // Every port's causes were read in that pass: a device that raised one since
            // raises its (level-triggered) line again at once.
            ethernet_masked = false;
            board.ethernet_interrupts();
        }
        platform.serve_disks();
        __hv_loop_passes.fetch_add(1, Ordering::Relaxed);
        let ran = platform.vms.run_next();
        if ran {
            __hv_guest_turns.fetch_add(1, Ordering::Relaxed);
        }
        if ran || shell.wants_polling() || ports_busy {
            continue;
        }
        // Nothing to run: heap regions borrowed from guest RAM and empty again go back.
        heap::release_unused();
        arch::interrupts_disable();
        if (console::has_input() && shell.input_room() > 0) || ethernet_pending() {
            arch::interrupts_enable();
            continue;
        }
        arch::timer_set_deadline(platform.vms.next_wake());
        let idle_from = arch::counter();
        arch::idle();
        // The low 32 bits: readers take differences.
        #[allow(clippy::cast_possible_truncation)]
        let idle = arch::counter().wrapping_sub(idle_from) as u32;
        __hv_idle_ticks.fetch_add(idle, Ordering::Relaxed);
    }
}

fn power(board: &dyn Board, request: PowerRequest) -> ! {
    match request {
        PowerRequest::Reboot => {
            println!("\nRebooting...");
            board.reset()
        }
        PowerRequest::Shutdown => {
            println!("\nShutting down...");
            board.power_off()
        }
    }
}

/// Timer tick (interrupt context).
pub(crate) fn on_tick() {
    time::tick();
}

/// Delivers board events to the kernel's queues (interrupt context).
struct KernelEvents;

impl EventSink for KernelEvents {
    fn console_has_room(&self) -> bool {
        console::input_has_room()
    }
    fn console_rx(&mut self, byte: u8) {
        console::push_input(byte);
    }
    fn console_overrun(&mut self) {
        console::note_lost();
    }
    fn ethernet(&mut self) {
        ETHERNET_PENDING.store(true, Ordering::Relaxed);
    }
}

/// External interrupt `line` (interrupt context).
pub(crate) fn on_external_interrupt(line: u32) {
    if let Some(board) = crate::board::installed() {
        board.handle_interrupt(line, &mut KernelEvents);
    }
}
