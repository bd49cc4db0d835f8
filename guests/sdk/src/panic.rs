//! The panic handler: print the message, tell the host the guest halts, stop.

use core::sync::atomic::{AtomicBool, Ordering};

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::arch::irq::disable();
    if !PANICKING.swap(true, Ordering::Relaxed) {
        crate::println!("\r\npanic: {}", info);
        crate::control::send(mr_proto::control::ControlMessage::Halt);
    }
    crate::control::stop()
}
