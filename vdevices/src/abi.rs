//! The numbers of the MetaROUTER guest ABI: hypercalls, error codes, queues, descriptor layout.
//!
//! Checked against the guest side (RouterOS 6.44 kernel `arch/mips/include/asm/vm.h`,
//! `arch/mips/rb/vm/setup.c`, `arch/powerpc/platforms/85xx/metarouter.c`, `mtveth.c`,
//! `hvc_meta.c`, `fs/metafs/inode.c`; metaDIE `metarouter.c`).

/// Bit 31 of a descriptor's `size`: set while the host owns the descriptor's contents
/// (TX: "guest filled it, host to consume"; RX: "host filled it, guest to consume").
pub const DONE: u32 = 0x8000_0000;
/// `struct vdma_descr { u32 addr; u32 size; u32 next; }` occupies 12 bytes.
pub const DESCRIPTOR_LEN: u32 = 12;
/// ... and is declared `__attribute__((aligned(16)))` so it never spans two pages.
pub const DESCRIPTOR_ALIGN: u32 = 16;
/// Byte offset of `size` inside a descriptor.
pub const DESCRIPTOR_SIZE_OFFSET: u32 = 4;
/// Byte offset of `next` inside a descriptor.
pub const DESCRIPTOR_NEXT_OFFSET: u32 = 8;

/// Hypercall numbers (`$v1` on MIPS, `r0` on PowerPC).
pub mod hypercall {
    /// `vm_create_queue(id, irq, tx_ring, rx_ring)`.
    pub const CREATE_QUEUE: u32 = 4;
    /// `vm_release_queue(id)`.
    pub const RELEASE_QUEUE: u32 = 5;
    /// `vm_running()`: 0 when virtualized.
    pub const RUNNING: u32 = 6;
    /// `vm_setup_irqs(&word, 32)`.
    pub const SETUP_IRQS: u32 = 14;
    /// `vm_yield()` (PowerPC idle).
    pub const YIELD: u32 = 16;
}

/// Linux error numbers returned (negated) in the result register.
pub mod errno {
    /// Bad address.
    pub const EFAULT: i32 = 14;
    /// Invalid argument (also what the guest stub preloads: -22 means "not virtualized").
    pub const EINVAL: i32 = 22;
    /// Function not implemented.
    pub const ENOSYS: i32 = 38;
}

/// `irq` argument of `vm_create_queue` meaning "this queue raises no interrupt" (metafs).
pub const NO_IRQ: u32 = 0xFFFF_FFFF;
/// The virq word is one 32-bit word: at most 32 virtual interrupts.
pub const MAX_VIRQS: u32 = 32;

/// Longest ring the host accepts (known guests use at most 1024 descriptors).
pub const MAX_RING_ENTRIES: u32 = 4096;

/// The queues a guest can create, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum QueueId {
    /// 0: control channel, "restart" / "halt" both ways (virq 0).
    Control = 0,
    /// 1: console, `hvc0` (virq 1).
    Console = 1,
    /// 2: metafs file RPC (no virq: the guest polls).
    Metafs = 2,
    /// 3: virtual ethernet, all of a guest's interfaces (virq 3).
    Veth = 3,
}

impl QueueId {
    /// All queues, in id order.
    pub const ALL: [QueueId; 4] = [
        QueueId::Control,
        QueueId::Console,
        QueueId::Metafs,
        QueueId::Veth,
    ];

    /// The queue with this id, if there is one.
    pub const fn from_id(id: u32) -> Option<Self> {
        match id {
            0 => Some(QueueId::Control),
            1 => Some(QueueId::Console),
            2 => Some(QueueId::Metafs),
            3 => Some(QueueId::Veth),
            _ => None,
        }
    }

    /// The queue's number.
    pub const fn id(self) -> u32 {
        self as u32
    }

    /// A short name for logs.
    pub const fn name(self) -> &'static str {
        match self {
            QueueId::Control => "control",
            QueueId::Console => "console",
            QueueId::Metafs => "metafs",
            QueueId::Veth => "veth",
        }
    }
}
