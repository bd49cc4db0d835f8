//! Atheros AG71xx gigabit MACs of the AR7161 (RB400 series): GE0 at 0x1900_0000 (CPU line
//! IP4), GE1 at 0x1A00_0000 (IP5), the PHYs' MDIO bus in GE0's block.
//!
//! **Unverified on hardware, and QEMU has no model of it**: everything here follows OpenWrt's
//! ath79 `ag71xx` driver (register names, the AR7100's FIFO values and 512-byte transmit
//! split, the order of the set-up writes) and is tested only on the host, against the
//! register model in `model.rs`.
//!
//! Registers and descriptors are big-endian ([`regs::Regs`], [`DmaMemory`]'s `_be`
//! accessors). Descriptors are chained by their `next` words into rings, one 32-byte line each;
//! the `EMPTY` bit is the ownership: a receive descriptor is the device's while empty, a
//! transmit descriptor the driver's once empty again. The device counts received and sent
//! descriptors (`RX_STATUS[PR]`, `TX_STATUS[PS]`, which keep their interrupts asserted): the driver
//! takes one off per descriptor it takes back, so [`EthernetPort::poll_rx`] and
//! [`EthernetPort::reclaim_tx`] must run until the ring is drained before interrupts are turned
//! back on. A frame is sent in pieces of at most 512 bytes, none of 4 bytes or less (the
//! AR7100's transmit DMA hangs otherwise, per OpenWrt).
//!
//! DMA is not coherent on the AR7161 and its DDR controller buffers each device's writes: the
//! board's [`DmaOps`] writes caches back and invalidates them, and its
//! [`DmaOps::drain_device_writes`] flushes the GE0/GE1 write buffer ([`ar71xx::DdrWriteBuffer`]).
//!
//! The board's part: pulse the MAC's reset (the reset controller's RESET_MODULE, bit 9 for GE0,
//! bit 13 for GE1) before [`Ag71xx::new`], and, when the PHY settles on a speed, program the
//! AR7161's Ethernet PLL and MII control for it (OpenWrt's `ath79_set_pll` and
//! `ath79_mii_ctrl_set_speed`) besides [`Ag71xx::configure_for`]. Not done here.
//!
//! Address filtering: the AR7100 MAC has none (OpenWrt's driver has no receive-mode hook and
//! bridges these ports), so [`EthernetPort::set_promiscuous`] changes nothing.

pub mod ar71xx;
mod datapath;
pub mod mdio;
pub mod regs;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

use core::sync::atomic::{fence, Ordering};

use crate::dma::{DmaMemory, DmaOps};
use crate::mmio::Registers;
use crate::nic::{
    linear_bus_range, BufferArea, Counters, Delay, EthernetPort, Link, MacAddress, RingLayout,
    RingMemory, SetupError, Speed,
};
pub use mdio::Ag71xxMdio;
use regs::*;

/// Bytes of one MAC's register block.
pub const REGISTER_WINDOW: usize = 0x200;

/// Where the link state comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhyLink {
    /// No PHY to ask (a switch chip): the link is what this says.
    Fixed(Link),
    /// The PHY at this address on this block's MDIO bus (GE0's on the AR7161).
    Mdio { address: u8 },
}

/// One AG71xx MAC.
pub struct Ag71xx<R: Registers, D: DmaOps> {
    regs: Regs<R>,
    dma: D,
    rx_desc: DmaMemory,
    tx_desc: DmaMemory,
    rx_ring_bus: u64,
    tx_ring_bus: u64,
    rx: BufferArea,
    /// One 512-byte piece per transmit descriptor, plus room for the last frame to run past the
    /// end of the ring: a frame is always contiguous.
    tx: BufferArea,
    tx_slots: usize,
    rx_next: usize,
    rx_discarding: bool,
    /// Next transmit descriptor to fill, oldest not taken back, and how many are the device's.
    tx_curr: usize,
    tx_dirty: usize,
    tx_used: usize,
    tx_unflushed: bool,
    phy: PhyLink,
    mac: MacAddress,
    counters: Counters,
}

impl<R: Registers, D: DmaOps> Ag71xx<R, D> {
    /// Descriptor memory a layout needs: receive ring, transmit ring, and the descriptor the
    /// DMA engines are parked on during a reset.
    pub const fn descriptor_bytes(layout: RingLayout) -> usize {
        (layout.rx_slots + layout.tx_slots + 1) * DESC_STRIDE
    }

    /// Buffer memory a layout needs: the receive buffers, then 512 bytes per transmit
    /// descriptor and three more pieces.
    pub const fn buffer_bytes(layout: RingLayout) -> usize {
        layout.rx_slots * layout.buffer_size + (layout.tx_slots + TX_PIECES_MAX - 1) * TX_SPLIT
    }

    /// Reset the MAC's state and start it on `memory`. Receive slots 2..=4096, transmit
    /// descriptors 5..=4096 (a longest frame takes 4); the buffer size a multiple of 32 in
    /// 128..=4064 with room for the frame and its FCS (1536 takes any standard frame); frames
    /// up to 1540 bytes are sent. `mac`: the port's address (RouterBOOT's `kmac=`), or `None`
    /// for what the boot loader left in MAC_ADDR1/2.
    pub fn new(
        regs: R,
        dma: D,
        memory: RingMemory,
        layout: RingLayout,
        mac: Option<MacAddress>,
        phy: PhyLink,
        delay: &impl Delay,
    ) -> Result<Self, SetupError> {
        let size_ok = (128..=4064).contains(&layout.buffer_size)
            && layout.buffer_size.is_multiple_of(DESC_STRIDE);
        let rx_ok = (2..=4096).contains(&layout.rx_slots);
        let tx_ok = (TX_PIECES_MAX + 1..=4096).contains(&layout.tx_slots);
        if !size_ok || !rx_ok || !tx_ok {
            return Err(SetupError::BadLayout);
        }
        let desc_bytes = Self::descriptor_bytes(layout);
        let desc = memory
            .descriptors
            .window(0, desc_bytes)
            .ok_or(SetupError::DescriptorMemoryTooSmall { needed: desc_bytes })?;
        if !desc.base().is_multiple_of(4) {
            return Err(SetupError::Misaligned);
        }
        let desc_bus = linear_bus_range(&dma, desc, 1 << 32)?;
        let buf_bytes = Self::buffer_bytes(layout);
        let buffers = memory
            .buffers
            .window(0, buf_bytes)
            .ok_or(SetupError::BufferMemoryTooSmall { needed: buf_bytes })?;
        let rx = BufferArea::new(buffers, &dma, layout.rx_slots, layout.buffer_size, 1 << 32)?;
        let rx_area = layout.rx_slots * layout.buffer_size;
        let pieces = layout.tx_slots + TX_PIECES_MAX - 1;
        let tx_mem = buffers
            .window(rx_area, buf_bytes - rx_area)
            .ok_or(SetupError::BufferMemoryTooSmall { needed: buf_bytes })?;
        let tx = BufferArea::new(tx_mem, &dma, pieces, TX_SPLIT, 1 << 32)?;
        let rx_desc_bytes = layout.rx_slots * DESC_STRIDE;
        let tx_desc_bytes = layout.tx_slots * DESC_STRIDE;
        let window = |at, len| desc.window(at, len).ok_or(SetupError::BadLayout);

        let regs = Regs(regs);
        let left_by_boot_loader =
            MacAddress::from_station_registers(regs.read(MAC_ADDR1), regs.read(MAC_ADDR2));
        let mut port = Ag71xx {
            regs,
            dma,
            rx_desc: window(0, rx_desc_bytes)?,
            tx_desc: window(rx_desc_bytes, tx_desc_bytes)?,
            rx_ring_bus: desc_bus,
            tx_ring_bus: desc_bus + rx_desc_bytes as u64,
            rx,
            tx,
            tx_slots: layout.tx_slots,
            rx_next: 0,
            rx_discarding: false,
            tx_curr: 0,
            tx_dirty: 0,
            tx_used: 0,
            tx_unflushed: false,
            phy,
            mac: left_by_boot_loader,
            counters: Counters::default(),
        };
        let stop = window(rx_desc_bytes + tx_desc_bytes, DESC_STRIDE)?;
        let stop_bus = desc_bus + (rx_desc_bytes + tx_desc_bytes) as u64;
        port.reset(stop, stop_bus, delay);
        port.set_mac_address(mac.unwrap_or(left_by_boot_loader));
        if let PhyLink::Mdio { .. } = phy {
            Ag71xxMdio::new(&port.regs.0).reset(delay);
        }
        port.start();
        Ok(port)
    }

    /// Stop both engines, soft-reset the MAC, set it up, and park the DMA engines on `stop` (a
    /// descriptor pointing at itself) with their counters and errors cleared.
    fn reset(&mut self, stop: DmaMemory, stop_bus: u64, delay: &impl Delay) {
        let r = &self.regs;
        r.write(INT_ENABLE, 0);
        r.write(RX_CTRL, 0);
        r.write(TX_CTRL, 0);
        r.write(MAC_CFG1, MAC_CFG1_SR);
        delay.delay_us(20);
        r.write(MAC_CFG1, MAC_CFG1_INIT);
        r.write(
            MAC_CFG2,
            r.read(MAC_CFG2) | MAC_CFG2_PAD_CRC_EN | MAC_CFG2_LEN_CHECK,
        );
        r.write(MAC_MFL, self.rx.slot.min(TX_MAX_FRAME) as u32);
        r.write(FIFO_CFG0, FIFO_CFG0_INIT);
        r.write(FIFO_CFG1, FIFO_CFG1_INIT);
        r.write(FIFO_CFG2, FIFO_CFG2_INIT);
        r.write(FIFO_CFG4, FIFO_CFG4_INIT);
        r.write(FIFO_CFG5, FIFO_CFG5_INIT);
        stop.write_be32(DESC_DATA, 0);
        stop.write_be32(DESC_CTRL, 0);
        stop.write_be32(DESC_NEXT, stop_bus as u32);
        fence(Ordering::SeqCst);
        r.write(TX_DESC, stop_bus as u32);
        r.write(RX_DESC, stop_bus as u32);
        // The status counters count up to 255 events: one write takes one off.
        for _ in 0..256 {
            r.write(RX_STATUS, RX_STATUS_PR);
            r.write(TX_STATUS, TX_STATUS_PS);
        }
        r.write(RX_STATUS, RX_STATUS_BE | RX_STATUS_OF);
        r.write(TX_STATUS, TX_STATUS_BE | TX_STATUS_UR);
    }

    fn start(&mut self) {
        let rx_count = self.rx.count;
        for i in 0..self.tx_slots {
            let d = i * DESC_STRIDE;
            let next = self.tx_ring_bus + (((i + 1) % self.tx_slots) * DESC_STRIDE) as u64;
            self.tx_desc.write_be32(d + DESC_DATA, 0);
            self.tx_desc.write_be32(d + DESC_NEXT, next as u32);
            self.tx_desc.write_be32(d + DESC_CTRL, DESC_EMPTY);
        }
        self.rx.prepare_for_receive(&self.dma);
        for i in 0..rx_count {
            let next = self.rx_ring_bus + (((i + 1) % rx_count) * DESC_STRIDE) as u64;
            self.rx_desc
                .write_be32(i * DESC_STRIDE + DESC_NEXT, next as u32);
            self.arm_rx(i);
        }
        self.configure_for(Link {
            up: true,
            speed: Some(Speed::Mbps1000),
            full_duplex: true,
        });
        fence(Ordering::SeqCst);
        let r = &self.regs;
        r.write(TX_DESC, self.tx_ring_bus as u32);
        r.write(RX_DESC, self.rx_ring_bus as u32);
        r.write(RX_CTRL, RX_CTRL_RXE);
    }

    /// Give receive descriptor `i` (back) to the device: its buffer, then EMPTY.
    fn arm_rx(&self, i: usize) {
        let d = i * DESC_STRIDE;
        self.rx_desc
            .write_be32(d + DESC_DATA, self.rx.bus(i) as u32);
        fence(Ordering::Release);
        self.rx_desc.write_be32(d + DESC_CTRL, DESC_EMPTY);
    }

    /// Set the MAC for `link`'s speed and duplex (interface mode, byte mode, the 100 Mb/s
    /// interface bit), as OpenWrt's `__ag71xx_link_adjust` does. The AR7161's PLL and MII
    /// control are the board's (see the module docs).
    pub fn configure_for(&mut self, link: Link) {
        let r = &self.regs;
        let gigabit = matches!(link.speed, Some(Speed::Mbps1000) | None);
        let mut cfg2 = r.read(MAC_CFG2) & !(MAC_CFG2_IF_1000 | MAC_CFG2_IF_10_100 | MAC_CFG2_FDX);
        cfg2 |= if gigabit {
            MAC_CFG2_IF_1000
        } else {
            MAC_CFG2_IF_10_100
        };
        if link.full_duplex {
            cfg2 |= MAC_CFG2_FDX;
        }
        let mut ifctl = r.read(MAC_IFCTL) & !MAC_IFCTL_SPEED;
        if link.speed == Some(Speed::Mbps100) {
            ifctl |= MAC_IFCTL_SPEED;
        }
        let mut fifo5 = r.read(FIFO_CFG5) & !FIFO_CFG5_BM;
        if gigabit {
            fifo5 |= FIFO_CFG5_BM;
        }
        r.write(FIFO_CFG3, FIFO_CFG3_INIT);
        r.write(MAC_CFG2, cfg2);
        r.write(FIFO_CFG5, fifo5);
        r.write(MAC_IFCTL, ifctl);
    }
}
