//! Hypercall decoding: the number and four argument registers, as a typed call.
//!
//! The arch layer traps the hypercall instruction (MIPS `mtc0 $zero, $1`, number in `$v1`,
//! arguments in `$a0..$a3`, result in `$v0`; PowerPC `mtspr 1023, r0`, number in `r0`, arguments
//! in `r3..r6`, result in `r3` with `CR0[SO]` cleared) and passes the registers to
//! [`GuestDevices::hypercall`](crate::GuestDevices::hypercall), which returns the value for the
//! result register. Numbers (from `vm.h` / `setup.c` / `metarouter.c`): 4 create queue,
//! 5 release queue, 6 "am I virtualized" (answer 0), 14 register the virq word, 16 yield.

use crate::abi::hypercall as nr;
use guest_mem::Gva;

/// A decoded hypercall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hypercall {
    /// 4: `vm_create_queue(id, irq, tx_ring, rx_ring)`.
    CreateQueue {
        /// Queue id (0..=3).
        queue: u32,
        /// virq bit, or `0xFFFF_FFFF` for none.
        irq: u32,
        /// First descriptor of the guest-to-host ring.
        tx: Gva,
        /// First descriptor of the host-to-guest ring.
        rx: Gva,
    },
    /// 5: `vm_release_queue(id)`.
    ReleaseQueue {
        /// Queue id.
        queue: u32,
    },
    /// 6: `vm_running()`.
    Running,
    /// 14: `vm_setup_irqs(&word, count)`.
    SetupIrqs {
        /// The virq word.
        word: Gva,
        /// Number of virqs (guests pass 32).
        count: u32,
    },
    /// 16: `vm_yield()`.
    Yield,
    /// Any other number.
    Unknown(u32),
}

impl Hypercall {
    /// Decodes the hypercall number and argument registers.
    pub const fn decode(number: u32, args: [u32; 4]) -> Self {
        match number {
            nr::CREATE_QUEUE => Hypercall::CreateQueue {
                queue: args[0],
                irq: args[1],
                tx: Gva::new(args[2]),
                rx: Gva::new(args[3]),
            },
            nr::RELEASE_QUEUE => Hypercall::ReleaseQueue { queue: args[0] },
            nr::RUNNING => Hypercall::Running,
            nr::SETUP_IRQS => Hypercall::SetupIrqs {
                word: Gva::new(args[0]),
                count: args[1],
            },
            nr::YIELD => Hypercall::Yield,
            other => Hypercall::Unknown(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_guest_calls() {
        assert_eq!(
            Hypercall::decode(4, [3, 3, 0xC010_0000, 0xC010_4000]),
            Hypercall::CreateQueue {
                queue: 3,
                irq: 3,
                tx: Gva::new(0xC010_0000),
                rx: Gva::new(0xC010_4000)
            }
        );
        assert_eq!(
            Hypercall::decode(5, [2, 9, 9, 9]),
            Hypercall::ReleaseQueue { queue: 2 }
        );
        assert_eq!(Hypercall::decode(6, [0; 4]), Hypercall::Running);
        assert_eq!(
            Hypercall::decode(14, [0xC020_0000, 32, 0, 0]),
            Hypercall::SetupIrqs {
                word: Gva::new(0xC020_0000),
                count: 32
            }
        );
        assert_eq!(Hypercall::decode(16, [0; 4]), Hypercall::Yield);
        assert_eq!(Hypercall::decode(7, [0; 4]), Hypercall::Unknown(7));
        assert_eq!(
            Hypercall::decode(u32::MAX, [0; 4]),
            Hypercall::Unknown(u32::MAX)
        );
    }
}
