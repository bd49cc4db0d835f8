//! `mr-guest`: a runtime for MetaROUTER-ABI guest kernels on MIPS (big-endian 24Kc) and
//! PowerPC e500v2 (`arch::e500`: the device tree instead of argv, IVPR/IVORs, the decrementer;
//! see `guests/README.md`).
//!
//! A guest is a `#![no_std]` `#![no_main]` binary that names its entry with [`entry!`]:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! mr_guest::entry!(main);
//! fn main(boot: &'static mr_guest::Boot) -> ! {
//!     mr_guest::println!("hello from {} bytes of RAM", boot.ram_bytes);
//!     loop { let _events = mr_guest::event::wait(); /* ... */ }
//! }
//! ```
//!
//! Before `main` runs, the runtime ([`runtime`]) has copied the boot words (`HZ=`, `board=vm`,
//! `mem=`, `kmac=`, the user's words), installed the exception vectors at 0xC000_0000,
//! registered the virq word (hypercall 14), created the control queue (0) and the console
//! queue (1), started the 100 Hz tick on Count/Compare, and enabled interrupts. Devices are
//! polled from the main loop when [`event::wait`] reports their virq bit.
//!
//! Modules: [`console`] (queue 1, `print!`/`println!`), [`control`] (queue 0, `halt`/`reboot`),
//! [`veth`] (queue 3), [`metafs`] (queue 2: the guest's disk), [`timer`], [`event`] (virqs and idle), [`hypercall`], [`vdma`]
//! (descriptors and DMA buffers), [`fault`] (running code that may fault), [`heap`] (feature
//! `alloc`), and [`arch`] (the only place with instructions).
#![no_std]
#![cfg_attr(target_arch = "mips", feature(asm_experimental_arch))]

pub mod arch;
pub mod boot;
pub mod cell;
pub mod console;
pub mod control;
pub mod event;
pub mod fault;
#[cfg(feature = "alloc")]
pub mod heap;
pub mod hypercall;
pub mod metafs;
mod panic;
pub mod runtime;
pub mod timer;
pub mod trap;
pub mod vdma;
pub mod veth;

pub use boot::Boot;
pub use mr_proto as proto;

/// Name the guest's entry function, `fn(&'static Boot) -> !`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        fn __mr_guest_main(boot: &'static $crate::Boot) -> ! {
            let main: fn(&'static $crate::Boot) -> ! = $main;
            main(boot)
        }
    };
}
