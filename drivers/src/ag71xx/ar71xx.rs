//! AR71xx SoC facts the Ethernet path needs besides the MACs: the DDR controller's per-device
//! write buffers (Linux's `ath79_ddr_wb_flush`; registers from `ar71xx_regs.h`, channel
//! order from OpenWrt's `ar7100.dtsi`), and the MAC reset bits.
//!
//! A device's DMA writes can wait in the DDR controller's write buffer after the device says
//! it is done; Linux flushes the buffer of the device's channel before running its interrupt
//! handler. The board's [`DmaOps::drain_device_writes`](crate::dma::DmaOps) for GE0 or GE1
//! calls [`DdrWriteBuffer::flush`] with that port's channel.

use crate::mmio::Registers;

/// The DDR controller's register block on the AR71xx.
pub const DDR_CTRL_PHYS: usize = 0x1800_0000;
pub const DDR_CTRL_LEN: usize = 0x100;
/// The reset controller's RESET_MODULE register (in the block at 0x1806_0000) and its bits
/// for the MACs.
pub const RESET_MODULE_OFFSET: usize = 0x24;
pub const RESET_GE0_MAC: u32 = 1 << 9;
pub const RESET_GE1_MAC: u32 = 1 << 13;

/// How many times the flush register is read before giving up (the flush takes a few bus
/// cycles).
const FLUSH_POLLS: u32 = 10_000;

/// The devices with a write buffer of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DdrChannel {
    Ge0,
    Ge1,
    Usb,
    Pci,
}

impl DdrChannel {
    /// The channel's flush register in the DDR controller block.
    pub const fn register(self) -> usize {
        match self {
            DdrChannel::Ge0 => 0x9C,
            DdrChannel::Ge1 => 0xA0,
            DdrChannel::Usb => 0xA4,
            DdrChannel::Pci => 0xA8,
        }
    }
}

/// The DDR controller's write-buffer flush.
#[derive(Clone, Copy, Debug)]
pub struct DdrWriteBuffer<R> {
    ddr: R,
}

impl<R: Registers> DdrWriteBuffer<R> {
    /// `ddr` is the DDR controller's block ([`DDR_CTRL_PHYS`], [`DDR_CTRL_LEN`] bytes).
    pub fn new(ddr: R) -> Self {
        DdrWriteBuffer { ddr }
    }

    /// Push `channel`'s buffered writes to memory: write 1, wait for the bit to clear, twice
    /// ("it must be run twice", says Linux). Returns false if the bit never cleared.
    pub fn flush(&self, channel: DdrChannel) -> bool {
        let reg = channel.register();
        (0..2).all(|_| {
            self.ddr.write_be32(reg, 1);
            (0..FLUSH_POLLS).any(|_| self.ddr.read_be32(reg) & 1 == 0)
        })
    }
}
