//! The panic handler: print where and why, then halt.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch;

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::interrupts_disable();
    if !PANICKING.swap(true, Ordering::Relaxed) {
        crate::println!("\nhypervisor panic: {}", info);
        crate::println!("system halted");
    }
    arch::halt()
}
