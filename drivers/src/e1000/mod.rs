//! Intel 82540EM (e1000) Gigabit Ethernet on PCI: QEMU's `-device e1000` on malta (and usable
//! on ppce500's PCI bus).
//!
//! The board finds the function ([`find`]), places BAR 0 and turns on memory decoding and bus
//! mastering ([`enable_pci`]), maps BAR 0 uncached and hands it over as [`Registers`], with the
//! ring memory and its [`DmaOps`]. [`E1000::new`] resets the device, reads its MAC address
//! (receive address 0, which the device loads from its EEPROM at reset, else the EEPROM itself
//! through EERD), and starts receive and transmit with every interrupt masked.
//!
//! Byte order: registers and descriptors are little-endian; every access goes through
//! [`regs::Regs`] (registers) and [`DmaMemory`]'s `_le` accessors (descriptors). Rings: one
//! receive and one transmit ring of legacy descriptors; ownership moves through the head/tail
//! registers (RDH/RDT, TDH/TDT) and the descriptors' DD bit. The receive ring always keeps one
//! descriptor back (RDT = next to clean - 1), so RDH = RDT means "full" to the device.
//!
//! Counters: the driver's own ([`Counters`]) and the device's statistics registers
//! ([`E1000::update_statistics`]): clear-on-read per the 8254x SDM. QEMU 10's model clears
//! GPRC, GPTC, GORC, GOTC, BPRC, MPRC, RUC and ROC on read as the SDM says, but keeps CRCERRS,
//! RXERRC, MPC, COLC and RNBC cumulative (`hw/net/e1000.c` reads them without clearing), so in
//! QEMU those five totals grow faster than the events.

mod datapath;
pub mod regs;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

use core::sync::atomic::{fence, Ordering};

use crate::dma::{DmaMemory, DmaOps};
use crate::mmio::Registers;
use crate::nic::{
    linear_bus_range, BufferArea, Counters, Delay, EthernetPort, MacAddress, RingLayout,
    RingMemory, SetupError,
};
use crate::pci::{self, Enable, PciConfig, PciError, PciFunction};
use regs::*;

pub const VENDOR_INTEL: u16 = 0x8086;
pub const DEVICE_82540EM: u16 = 0x100E;
/// Bytes of BAR 0 (the register window).
pub const REGISTER_WINDOW: usize = 0x2_0000;

/// How long a reset or an EEPROM read may take before the device is declared dead.
const RESET_POLLS: u32 = 1000;
const EEPROM_POLLS: u32 = 10_000;

/// The 82540EM functions on bus 0.
pub fn find(cfg: &impl PciConfig) -> impl Iterator<Item = PciFunction> + '_ {
    pci::find(cfg, VENDOR_INTEL, DEVICE_82540EM)
}

/// Place BAR 0 (the registers) at `bar0` in PCI memory space and turn on memory decoding and
/// bus mastering (DMA). The INTx pin is [`pci::interrupt_pin`].
pub fn enable_pci(cfg: &impl PciConfig, f: PciFunction, bar0: u64) -> Result<(), PciError> {
    pci::set_bar(cfg, f, 0, bar0)?;
    pci::enable(
        cfg,
        f,
        Enable {
            memory: true,
            io: false,
            bus_master: true,
        },
    );
    Ok(())
}

/// The device's statistics registers, accumulated by [`E1000::update_statistics`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    pub good_rx_frames: u64,
    pub good_tx_frames: u64,
    pub good_rx_bytes: u64,
    pub good_tx_bytes: u64,
    pub broadcast_rx_frames: u64,
    pub multicast_rx_frames: u64,
    /// Frames lost for lack of receive descriptors or FIFO space (MPC).
    pub missed: u64,
    /// Times a frame arrived with no free receive descriptor (RNBC).
    pub no_buffer: u64,
    pub crc_errors: u64,
    pub rx_errors: u64,
    pub undersize: u64,
    pub oversize: u64,
    pub collisions: u64,
}

/// An 82540EM port.
pub struct E1000<R: Registers, D: DmaOps> {
    regs: Regs<R>,
    dma: D,
    rx_desc: DmaMemory,
    tx_desc: DmaMemory,
    rx: BufferArea,
    tx: BufferArea,
    /// Next receive descriptor to look at.
    rx_next: usize,
    /// Inside a frame that spans descriptors (dropped up to its end).
    rx_discarding: bool,
    /// Next transmit descriptor to fill, and the oldest one not reclaimed.
    tx_tail: usize,
    tx_clean: usize,
    /// Frames queued since the last doorbell, and their bytes: added to the counters at the
    /// doorbell (once per batch, not per frame). At most a ring's worth, so never overflowing.
    tx_queued: u32,
    tx_queued_bytes: u32,
    rctl: u32,
    mac: MacAddress,
    counters: Counters,
    statistics: Statistics,
}

impl<R: Registers, D: DmaOps> E1000<R, D> {
    /// Descriptor memory a layout needs (receive ring, then transmit ring; 16-byte aligned).
    pub const fn descriptor_bytes(layout: RingLayout) -> usize {
        (layout.rx_slots + layout.tx_slots) * DESCRIPTOR_SIZE
    }

    /// Buffer memory a layout needs (receive buffers, then transmit buffers).
    pub const fn buffer_bytes(layout: RingLayout) -> usize {
        (layout.rx_slots + layout.tx_slots) * layout.buffer_size
    }

    /// Reset the device and start it on `memory`. Slot counts are multiples of 8 (8..=65528);
    /// the buffer size is 256, 512, 1024, 2048, 4096, 8192 or 16384 (2048 holds any
    /// standard frame, VLAN-tagged ones included).
    pub fn new(
        regs: R,
        dma: D,
        memory: RingMemory,
        layout: RingLayout,
        delay: &impl Delay,
    ) -> Result<Self, SetupError> {
        let valid_count = |n: usize| (8..=65528).contains(&n) && n.is_multiple_of(8);
        let bsize = rctl_buffer_size(layout.buffer_size).ok_or(SetupError::BadLayout)?;
        if !valid_count(layout.rx_slots) || !valid_count(layout.tx_slots) {
            return Err(SetupError::BadLayout);
        }
        let rx_bytes = layout.rx_slots * DESCRIPTOR_SIZE;
        let desc_bytes = Self::descriptor_bytes(layout);
        let desc = memory
            .descriptors
            .window(0, desc_bytes)
            .ok_or(SetupError::DescriptorMemoryTooSmall { needed: desc_bytes })?;
        if desc.base() % 16 != 0 {
            return Err(SetupError::Misaligned);
        }
        let desc_bus = linear_bus_range(&dma, desc, u64::MAX)?;
        let buf_bytes = Self::buffer_bytes(layout);
        let buffers = memory
            .buffers
            .window(0, buf_bytes)
            .ok_or(SetupError::BufferMemoryTooSmall { needed: buf_bytes })?;
        let rx_area = layout.rx_slots * layout.buffer_size;
        let rx = BufferArea::new(buffers, &dma, layout.rx_slots, layout.buffer_size, u64::MAX)?;
        let tx_mem = buffers.window(rx_area, buf_bytes - rx_area);
        let tx_mem = tx_mem.ok_or(SetupError::BufferMemoryTooSmall { needed: buf_bytes })?;
        let tx = BufferArea::new(tx_mem, &dma, layout.tx_slots, layout.buffer_size, u64::MAX)?;

        let regs = Regs(regs);
        reset(&regs, delay)?;
        let ctrl = regs.read(CTRL) & !(CTRL_LRST | CTRL_PHY_RST | CTRL_ILOS | CTRL_VME);
        regs.write(CTRL, ctrl | CTRL_SLU | CTRL_ASDE);
        let mac = read_mac(&regs);
        let mut port = E1000 {
            regs,
            dma,
            rx_desc: desc.window(0, rx_bytes).ok_or(SetupError::BadLayout)?,
            tx_desc: desc
                .window(rx_bytes, desc_bytes - rx_bytes)
                .ok_or(SetupError::BadLayout)?,
            rx,
            tx,
            rx_next: 0,
            rx_discarding: false,
            tx_tail: 0,
            tx_clean: 0,
            tx_queued: 0,
            tx_queued_bytes: 0,
            rctl: RCTL_EN | RCTL_BAM | RCTL_MPE | RCTL_SECRC | bsize,
            mac,
            counters: Counters::default(),
            statistics: Statistics::default(),
        };
        port.set_mac_address(mac);
        (0..MTA_COUNT).for_each(|i| port.regs.write_array(MTA, i, 0));
        port.start_rx(desc_bus);
        port.start_tx(desc_bus + rx_bytes as u64);
        // Causes raised by the setup itself (an empty transmit queue) are not news.
        let _ = port.regs.read(ICR);
        Ok(port)
    }

    fn start_rx(&mut self, ring_bus: u64) {
        self.rx.prepare_for_receive(&self.dma);
        for i in 0..self.rx.count {
            self.arm_rx(i);
        }
        let regs = &self.regs;
        regs.write(RDBAL, ring_bus as u32);
        regs.write(RDBAH, (ring_bus >> 32) as u32);
        regs.write(RDLEN, (self.rx.count * DESCRIPTOR_SIZE) as u32);
        regs.write(RDH, 0);
        fence(Ordering::SeqCst);
        regs.write(RDT, (self.rx.count - 1) as u32);
        regs.write(RCTL, self.rctl);
    }

    fn start_tx(&mut self, ring_bus: u64) {
        // Each slot's buffer address once: the device writes back only the status.
        for i in 0..self.tx.count {
            let d = i * DESCRIPTOR_SIZE;
            let bus = self.tx.bus(i);
            self.tx_desc.write_le32(d + DESC_ADDR_LO, bus as u32);
            self.tx_desc
                .write_le32(d + DESC_ADDR_HI, (bus >> 32) as u32);
            self.tx_desc.write_le32(d + DESC_WORD2, 0);
            self.tx_desc.write_le32(d + DESC_WORD3, 0);
        }
        let regs = &self.regs;
        regs.write(TDBAL, ring_bus as u32);
        regs.write(TDBAH, (ring_bus >> 32) as u32);
        regs.write(TDLEN, (self.tx.count * DESCRIPTOR_SIZE) as u32);
        regs.write(TDH, 0);
        regs.write(TDT, 0);
        regs.write(TIPG, TIPG_COPPER);
        regs.write(TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
    }

    /// Give receive descriptor `i` (back) to the device: its buffer address, status cleared.
    fn arm_rx(&self, i: usize) {
        let d = i * DESCRIPTOR_SIZE;
        let bus = self.rx.bus(i);
        self.rx_desc.write_le32(d + DESC_ADDR_LO, bus as u32);
        self.rx_desc
            .write_le32(d + DESC_ADDR_HI, (bus >> 32) as u32);
        self.rx_desc.write_le32(d + DESC_WORD2, 0);
        self.rx_desc.write_le32(d + DESC_WORD3, 0);
    }

    /// Give receive descriptor `i` back after a frame: only its status is cleared (the device
    /// writes back length, checksum, status, errors and special, never the buffer address, so
    /// the address [`Self::arm_rx`] wrote at setup stays).
    #[inline(always)]
    fn rearm_rx(&self, i: usize) {
        self.rx_desc.write_le32(i * DESCRIPTOR_SIZE + DESC_WORD3, 0);
    }

    /// The device's statistics since setup (each read clears the registers).
    pub fn update_statistics(&mut self) -> Statistics {
        let r = &self.regs;
        let s = &mut self.statistics;
        let add = |total: &mut u64, reg| *total += u64::from(r.read(reg));
        add(&mut s.good_rx_frames, GPRC);
        add(&mut s.good_tx_frames, GPTC);
        add(&mut s.broadcast_rx_frames, BPRC);
        add(&mut s.multicast_rx_frames, MPRC);
        add(&mut s.missed, MPC);
        add(&mut s.no_buffer, RNBC);
        add(&mut s.crc_errors, CRCERRS);
        add(&mut s.rx_errors, RXERRC);
        add(&mut s.undersize, RUC);
        add(&mut s.oversize, ROC);
        add(&mut s.collisions, COLC);
        // The low half first: reading the high half clears both.
        for (total, low, high) in [
            (&mut s.good_rx_bytes, GORCL, GORCH),
            (&mut s.good_tx_bytes, GOTCL, GOTCH),
        ] {
            let low = u64::from(r.read(low));
            *total += low | (u64::from(r.read(high)) << 32);
        }
        *s
    }

    /// Interrupt throttling: at most one interrupt per `interval_256ns` × 256 ns (0: off).
    pub fn set_interrupt_throttle(&mut self, interval_256ns: u16) {
        self.regs.write(ITR, u32::from(interval_256ns));
    }
}

/// Mask every interrupt, reset the device, wait for the reset to finish, mask again.
fn reset<R: Registers>(regs: &Regs<R>, delay: &impl Delay) -> Result<(), SetupError> {
    regs.write(IMC, INT_ALL);
    regs.write(RCTL, 0);
    regs.write(TCTL, 0);
    regs.write(CTRL, regs.read(CTRL) | CTRL_RST);
    // The 8254x SDM asks for at least 1 us before the next access after a reset.
    delay.delay_us(10);
    let mut polls = 0;
    while regs.read(CTRL) & CTRL_RST != 0 {
        polls += 1;
        if polls > RESET_POLLS {
            return Err(SetupError::ResetTimeout);
        }
        delay.delay_us(1);
    }
    regs.write(IMC, INT_ALL);
    let _ = regs.read(ICR);
    Ok(())
}

/// Receive address 0 if the device loaded a valid one, else the EEPROM's words 0..2.
fn read_mac<R: Registers>(regs: &Regs<R>) -> MacAddress {
    let low = regs.read(RAL0).to_le_bytes();
    let high = regs.read(RAH0);
    let [h0, h1, _, _] = high.to_le_bytes();
    let from_ra = MacAddress([low[0], low[1], low[2], low[3], h0, h1]);
    if high & RAH_AV != 0 && from_ra.is_unicast() {
        return from_ra;
    }
    let mut mac = [0u8; 6];
    for word in 0..3 {
        let Some(v) = read_eeprom(regs, word) else {
            return from_ra;
        };
        mac[2 * word as usize..2 * word as usize + 2].copy_from_slice(&v.to_le_bytes());
    }
    MacAddress(mac)
}

/// EEPROM word `addr` through EERD, or `None` if the read does not complete.
fn read_eeprom<R: Registers>(regs: &Regs<R>, addr: u8) -> Option<u16> {
    regs.write(EERD, EERD_START | u32::from(addr) << EERD_ADDR_SHIFT);
    (0..EEPROM_POLLS).find_map(|_| {
        let v = regs.read(EERD);
        (v & EERD_DONE != 0).then_some((v >> EERD_DATA_SHIFT) as u16)
    })
}
