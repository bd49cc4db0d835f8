//! The kernel's main loop and the hooks the arch layer calls.
//!
//! Boot: the arch entry calls the board's main, which builds its devices and calls [`run`].
//! `run` installs the exception vectors, the heap and the tick, prints the banner, finds the
//! preloaded files, mounts the disk's file store ([`crate::disk`]), sets up guest management and the management shell, and then loops:
//! console input to the shell (which keeps type-ahead while it is busy), the shell's periodic
//! work, host-side guest device work, one time slice for the next runnable guest, and
//! `arch::idle` when there is nothing to do.

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
    let vms = Manager::new(HvMachine, files, info.timer_hz);
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
        platform.vms.service();
        platform.serve_disks();
        if platform.vms.run_next() || shell.is_busy() {
            continue;
        }
        // Nothing to run: heap regions borrowed from guest RAM and empty again go back.
        heap::release_unused();
        arch::interrupts_disable();
        if console::has_input() && shell.input_room() > 0 {
            arch::interrupts_enable();
            continue;
        }
        arch::timer_set_deadline(platform.vms.next_wake());
        arch::idle();
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
}

/// External interrupt `line` (interrupt context).
pub(crate) fn on_external_interrupt(line: u32) {
    if let Some(board) = crate::board::installed() {
        board.handle_interrupt(line, &mut KernelEvents);
    }
}
