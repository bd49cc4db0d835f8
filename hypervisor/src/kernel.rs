//! The kernel's main loop and the hooks the arch layer calls.
//!
//! Boot: the arch entry calls the board's main, which builds its devices and calls [`run`].
//! `run` installs the exception vectors, the heap and the tick, prints the banner, and then
//! serves the management console: input arrives by interrupt into the console queue, and the
//! loop feeds it to the shell, sleeping with `arch::idle` when there is nothing to do.

use spin::Once;

use crate::arch;
use crate::board::{Board, EventSink};
use crate::{console, heap, println, time};

/// Kernel timer ticks per second.
pub const TICK_HZ: u64 = 100;

static BOARD: Once<&'static dyn Board> = Once::new();

/// The board, once [`run`] has been called.
pub fn board() -> Option<&'static dyn Board> {
    BOARD.get().copied()
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

/// Start the kernel on `board`. Never returns.
pub fn run(board: &'static dyn Board) -> ! {
    BOARD.call_once(|| board);
    time::mark_boot();
    arch::install_vectors();
    heap::init();
    let info = board.info();
    println!();
    println!("MetaROUTER hypervisor {} ({}), board {}", crate::VERSION, arch::NAME, info.name);
    println!(
        "CPU {}, RAM {} MiB, timer {} MHz, heap {} KiB",
        info.cpu,
        info.total_ram() >> 20,
        info.timer_hz / 1_000_000,
        heap::size() >> 10
    );
    board.init_interrupts();
    arch::unmask_external(info.irq_lines);
    arch::timer_start(info.timer_hz / TICK_HZ);
    arch::interrupts_enable();
    main_loop(board)
}

fn main_loop(board: &'static dyn Board) -> ! {
    let mut buf = [0u8; 64];
    loop {
        arch::interrupts_disable();
        if !console::has_input() {
            arch::idle();
            continue;
        }
        arch::interrupts_enable();
        let n = console::take_input(&mut buf);
        board.console_rx_interrupt(true);
        board.console_write(&buf[..n]);
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
}

/// External interrupt `line` (interrupt context).
pub(crate) fn on_external_interrupt(line: u32) {
    if let Some(board) = board() {
        board.handle_interrupt(line, &mut KernelEvents);
    }
}
