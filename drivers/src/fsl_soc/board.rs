//! The `Board` implementation every MPC85xx board shares, as a macro the board crate expands.
//!
//! The `Board` trait belongs to the `hypervisor` crate, which `drivers` does not depend on (the
//! kernel sits above the drivers), so the implementation cannot live here as code; writing it
//! out in every e500 board would copy it. [`fsl_soc_board!`](crate::fsl_soc_board) writes it
//! once: the board crate invokes it with its name, and gets the board type, its `Board`
//! implementation over [`FslSoc`](super::FslSoc), and the entry point. The expansion names the
//! crates `hypervisor`, `drivers`, `spin` and `fdt`, which every e500 board crate depends on.
//!
//! What the expansion does at boot: map the CCSR window the entry code set up, read the device
//! tree from r3 (`BootRegs::device_tree` checks where it lies), check its CCSR base against the one the image was linked for
//! ([`probe`](super::probe)), report a failure on the early console and halt, else hand the
//! board to the kernel. `BoardInfo` comes from the tree (model, clocks, RAM banks); cpu
//! "e500v2", architecture "powerpc", the time base as the timer. The preloaded file store
//! (`./x run --file`) is the initial RAM disk the tree names (QEMU's `-initrd`), when it lies in
//! the RAM the hypervisor maps one to one.

/// Define an MPC85xx board: `drivers::fsl_soc_board!(name: "rb1100");` in the board's
/// `main.rs` (a `#![no_std] #![no_main]` binary). See the [module docs](crate::fsl_soc::board).
#[macro_export]
macro_rules! fsl_soc_board {
    (name: $name:literal $(,)?) => {
        /// The board: facts from the device tree and the SoC's drivers.
        struct FslSocBoard {
            info: ::hypervisor::board::BoardInfo,
            soc: $crate::fsl_soc::FslSoc,
            /// The initial RAM disk the boot loader loaded, where the file store may be.
            preload: Option<::hypervisor::board::PhysRange>,
        }

        impl ::hypervisor::board::Board for FslSocBoard {
            fn info(&self) -> &::hypervisor::board::BoardInfo {
                &self.info
            }

            fn console_write(&self, bytes: &[u8]) {
                bytes.iter().for_each(|&b| self.soc.console().write_byte(b));
            }

            fn console_read(&self) -> Option<u8> {
                self.soc.console().read_byte()
            }

            fn init_interrupts(&self) {
                self.soc
                    .init_interrupts()
                    .expect("MPIC setup for the console interrupt");
            }

            fn handle_interrupt(
                &self,
                _line: u32,
                events: &mut dyn ::hypervisor::board::EventSink,
            ) {
                self.soc.service_interrupts(|uart| {
                    ::hypervisor::board::drain_console(|| uart.receive().into(), events)
                });
            }

            fn console_rx_interrupt(&self, enable: bool) {
                self.soc.console().set_rx_interrupt(enable);
            }

            fn preload_area(&self) -> Option<::hypervisor::board::PhysRange> {
                self.preload
            }

            fn reset(&self) -> ! {
                self.soc.reset();
                ::hypervisor::arch::halt()
            }

            fn power_off(&self) -> ! {
                // Boards without a power-off line have no software power switch: halt.
                self.soc.power_off();
                ::hypervisor::arch::halt()
            }
        }

        static BOARD: ::spin::Once<FslSocBoard> = ::spin::Once::new();

        fn fsl_soc_board_main(regs: ::hypervisor::arch::BootRegs) -> ! {
            use ::hypervisor::arch::{self, mmu};
            // SAFETY: the entry code mapped CCSR at `CCSR_VIRT` (cache-inhibited, guarded,
            // `CCSR_SIZE` bytes) for the life of the program; only the drivers built from this
            // window touch it.
            let ccsr = unsafe { $crate::mmio::Mmio::new(mmu::CCSR_VIRT, mmu::CCSR_SIZE) };
            let tree = regs.device_tree().map(::fdt::Fdt::new);
            let (desc, soc) = match $crate::fsl_soc::probe(ccsr, tree, mmu::ccsr_phys()) {
                Ok(found) => found,
                Err(e) => {
                    $crate::fsl_soc::report_boot_failure(ccsr, &e);
                    arch::halt()
                }
            };
            let board = BOARD.call_once(|| FslSocBoard {
                info: ::hypervisor::board::BoardInfo {
                    name: $name,
                    model: desc.model,
                    cpu: "e500v2",
                    architecture: "powerpc",
                    cpu_hz: desc.cpu_hz,
                    timer_hz: desc.timebase_hz,
                    ram: desc.ram.map(|bank| {
                        bank.map(|b| ::hypervisor::board::PhysRange {
                            base: b.base,
                            size: b.size,
                        })
                    }),
                    irq_lines: 1 << arch::EXTERNAL_INPUT,
                },
                soc,
                // Only RAM the hypervisor maps one to one can be read in place.
                preload: desc
                    .initrd
                    .filter(|r| r.base.saturating_add(r.size) <= mmu::RAM_MAPPED as u64)
                    .map(|r| ::hypervisor::board::PhysRange {
                        base: r.base,
                        size: r.size,
                    }),
            });
            ::hypervisor::kernel::run(board)
        }

        ::hypervisor::board_entry!(fsl_soc_board_main);
    };
}
