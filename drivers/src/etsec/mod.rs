//! Freescale eTSEC (enhanced three-speed Ethernet controller): QEMU's `-device eTSEC` on
//! ppce500 (compatible "fsl,etsec2", a 4 KiB block on the platform bus) and the RB1100's
//! MPC8544 TSECs.
//!
//! Registers and buffer descriptors are big-endian ([`regs::Regs`], [`DmaMemory`]'s `_be`
//! accessors). One receive and one transmit ring of 8-byte descriptors, the last marked WRAP;
//! ownership is the descriptor's EMPTY (receive) or READY (transmit) bit. The transmit DMA waits
//! for software (`DMACTRL[WOP]`); writing `TSTAT[THLT0]` is the doorbell. The MAC address is the
//! caller's (QEMU's device tree gives it as `local-mac-address`; QEMU leaves MACSTNADDR zero),
//! else what the boot loader left in MACSTNADDR1/2. The link comes from a PHY over MDIO, or is
//! fixed (QEMU's tree says `fixed-link`, 1000 Mb/s full duplex).
//!
//! DMA coherence: the e500's caches snoop the eTSEC's accesses when `ATTR[RDSEN, RBDSEN]`
//! (receive data and descriptors) and `DMACTRL[TDSEN, TBDSEN]` (transmit) are set, which the
//! driver does; Linux's `gianfar` sets the same bits and does no cache maintenance.
//!
//! What QEMU 10's model (`hw/net/fsl_etsec/`) does and does not do, and what the driver does
//! about it:
//! - it counts nothing: the RMON counters read zero (the driver's own [`Counters`] are exact);
//! - it filters nothing (promiscuous whatever RCTRL says), and pads nothing: a frame shorter
//!   than 60 bytes (a 42-byte ARP from a tap peer) arrives flagged SH. Real hardware drops
//!   short frames itself (`RCTRL[RSF]` = 0), so the driver treats SH as information, not an
//!   error, and hands up any frame that holds an Ethernet header;
//! - each doorbell walks the transmit ring from its base, sending every READY descriptor in
//!   ring order, so a batch that wraps would leave out of order: the driver rings the doorbell
//!   before it fills slot 0 again;
//! - when a frame finds the receive ring full it holds the frame, sets `RSTAT[QHLT0]`, and walks
//!   the ring again only when QHLT0 is written while clear: after giving slots back the driver
//!   writes QHLT0 twice when it finds the queue halted (the second write is a no-op on
//!   hardware);
//! - receive interrupts come only from descriptors with their I bit set (the driver sets it on
//!   every one); the MII management block has one PHY that answers at every address, whose
//!   link bit follows QEMU's `set_link`.

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
pub use mdio::EtsecMdio;
use regs::*;

/// Bytes of one controller's register block.
pub const REGISTER_WINDOW: usize = 0x1000;
/// Receive buffers must start on 64 bytes, and MRBLR is a multiple of 64.
const RX_BUFFER_ALIGN: usize = 64;
const GRACEFUL_STOP_POLLS: u32 = 1000;

/// Where the link state comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhyLink {
    /// No PHY to ask: the link is what this says (a fixed link, or a switch chip).
    Fixed(Link),
    /// The PHY at this address on this controller's own MDIO bus.
    Mdio { address: u8 },
}

/// The controller's RMON counters, accumulated by [`Etsec::update_statistics`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub rx_fcs_errors: u64,
    pub rx_undersize: u64,
    pub rx_oversize: u64,
    pub rx_dropped: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    pub tx_dropped: u64,
    pub collisions: u64,
}

/// One eTSEC port.
pub struct Etsec<R: Registers, D: DmaOps> {
    regs: Regs<R>,
    dma: D,
    rx_bd: DmaMemory,
    tx_bd: DmaMemory,
    rx: BufferArea,
    tx: BufferArea,
    rx_next: usize,
    rx_discarding: bool,
    /// Bus address of the receive ring (to find the descriptor `RBPTR0` names).
    rx_ring_bus: u64,
    tx_tail: usize,
    tx_clean: usize,
    tx_in_flight: usize,
    tx_unflushed: bool,
    phy: PhyLink,
    mac: MacAddress,
    counters: Counters,
    statistics: Statistics,
}

impl<R: Registers, D: DmaOps> Etsec<R, D> {
    /// Descriptor memory a layout needs (receive ring, then transmit ring; 8-byte aligned).
    pub const fn descriptor_bytes(layout: RingLayout) -> usize {
        (layout.rx_slots + layout.tx_slots) * BD_SIZE
    }

    /// Buffer memory a layout needs (receive buffers, then transmit buffers; 64-byte aligned).
    pub const fn buffer_bytes(layout: RingLayout) -> usize {
        (layout.rx_slots + layout.tx_slots) * layout.buffer_size
    }

    /// Stop and reset the controller, then start it on `memory`. Slot counts 2..=4096; the
    /// buffer size a multiple of 64 in 128..=9600, and room for the frame and its FCS
    /// (1536 takes any standard frame). `mac`: the port's address, or `None` for what the
    /// boot loader left in the station address registers.
    pub fn new(
        regs: R,
        dma: D,
        memory: RingMemory,
        layout: RingLayout,
        mac: Option<MacAddress>,
        phy: PhyLink,
        delay: &impl Delay,
    ) -> Result<Self, SetupError> {
        let slots_ok = |n: usize| (2..=4096).contains(&n);
        let size_ok = (128..=9600).contains(&layout.buffer_size)
            && layout.buffer_size.is_multiple_of(RX_BUFFER_ALIGN);
        if !slots_ok(layout.rx_slots) || !slots_ok(layout.tx_slots) || !size_ok {
            return Err(SetupError::BadLayout);
        }
        let desc_bytes = Self::descriptor_bytes(layout);
        let desc = memory
            .descriptors
            .window(0, desc_bytes)
            .ok_or(SetupError::DescriptorMemoryTooSmall { needed: desc_bytes })?;
        if !desc.base().is_multiple_of(BD_SIZE) {
            return Err(SetupError::Misaligned);
        }
        let desc_bus = linear_bus_range(&dma, desc, 1 << 32)?;
        let buf_bytes = Self::buffer_bytes(layout);
        let buffers = memory
            .buffers
            .window(0, buf_bytes)
            .ok_or(SetupError::BufferMemoryTooSmall { needed: buf_bytes })?;
        if !buffers.base().is_multiple_of(RX_BUFFER_ALIGN) {
            return Err(SetupError::Misaligned);
        }
        let size = layout.buffer_size;
        let rx = BufferArea::new(buffers, &dma, layout.rx_slots, size, 1 << 32)?;
        let rx_area = layout.rx_slots * size;
        let tx_mem = buffers
            .window(rx_area, buf_bytes - rx_area)
            .ok_or(SetupError::BufferMemoryTooSmall { needed: buf_bytes })?;
        let tx = BufferArea::new(tx_mem, &dma, layout.tx_slots, size, 1 << 32)?;
        let rx_bd_bytes = layout.rx_slots * BD_SIZE;

        let regs = Regs(regs);
        let left_by_boot_loader =
            MacAddress::from_station_registers(regs.read(MACSTNADDR1), regs.read(MACSTNADDR2));
        stop_and_reset(&regs, delay);
        let mut port = Etsec {
            regs,
            dma,
            rx_bd: desc.window(0, rx_bd_bytes).ok_or(SetupError::BadLayout)?,
            tx_bd: desc
                .window(rx_bd_bytes, desc_bytes - rx_bd_bytes)
                .ok_or(SetupError::BadLayout)?,
            rx,
            tx,
            rx_next: 0,
            rx_discarding: false,
            rx_ring_bus: desc_bus,
            tx_tail: 0,
            tx_clean: 0,
            tx_in_flight: 0,
            tx_unflushed: false,
            phy,
            mac: left_by_boot_loader,
            counters: Counters::default(),
            statistics: Statistics::default(),
        };
        port.set_mac_address(mac.unwrap_or(left_by_boot_loader));
        if let PhyLink::Mdio { .. } = phy {
            EtsecMdio::new(&port.regs.0).reset();
        }
        port.start(desc_bus, desc_bus + rx_bd_bytes as u64);
        Ok(port)
    }

    fn start(&mut self, rx_ring: u64, tx_ring: u64) {
        let r = &self.regs;
        r.write(MRBLR, self.rx.slot as u32);
        r.write(MAXFRM, self.rx.slot as u32);
        r.write(RCTRL, 0);
        r.write(ATTR, ATTR_RDSEN | ATTR_RBDSEN);
        self.rx.prepare_for_receive(&self.dma);
        for i in 0..self.rx.count {
            self.arm_rx(i);
        }
        for i in 0..self.tx.count {
            self.tx_bd.write_be32(i * BD_SIZE + BD_POINTER, 0);
            self.tx_bd
                .write_be32(i * BD_SIZE + BD_STATUS, self.wrap(i, self.tx.count) << 16);
        }
        let r = &self.regs;
        r.write(TBASEH, 0);
        r.write(TBASE0, tx_ring as u32);
        r.write(RBASEH, 0);
        r.write(RBASE0, rx_ring as u32);
        r.write(TQUEUE, TQUEUE_EN0);
        r.write(RQUEUE, RQUEUE_EN0 | RQUEUE_EX0);
        fence(Ordering::SeqCst);
        r.write(MACCFG1, MACCFG1_RX_EN | MACCFG1_TX_EN);
        let dmactrl = r.read(DMACTRL) & !(DMACTRL_GRS | DMACTRL_GTS);
        r.write(
            DMACTRL,
            dmactrl | DMACTRL_TDSEN | DMACTRL_TBDSEN | DMACTRL_WWR | DMACTRL_WOP,
        );
        r.write(TSTAT, TSTAT_THLT0);
        r.write(RSTAT, RSTAT_QHLT0);
        // Events of the setup itself (the graceful stop) are not news.
        r.write(IEVENT, u32::MAX);
    }

    fn wrap(&self, i: usize, count: usize) -> u32 {
        if i + 1 == count {
            BD_WRAP
        } else {
            0
        }
    }

    /// Give receive descriptor `i` (back) to the controller: pointer first, EMPTY last.
    fn arm_rx(&self, i: usize) {
        let d = i * BD_SIZE;
        self.rx_bd.write_be32(d + BD_POINTER, self.rx.bus(i) as u32);
        fence(Ordering::Release);
        let flags = RXBD_EMPTY | BD_INTERRUPT | self.wrap(i, self.rx.count);
        self.rx_bd.write_be32(d + BD_STATUS, flags << 16);
    }

    /// Set the MAC's interface mode and duplex for `link` (byte mode at 1000 Mb/s, nibble
    /// mode below, `ECNTRL[R100M]` at 100 Mb/s for the reduced interfaces).
    pub fn configure_for(&mut self, link: Link) {
        let r = &self.regs;
        let byte_mode = link.speed == Some(Speed::Mbps1000) || link.speed.is_none();
        let mut cfg2 = r.read(MACCFG2) & !(MACCFG2_IF_MASK | MACCFG2_FULL_DUPLEX);
        cfg2 |= if byte_mode {
            MACCFG2_IF_BYTE
        } else {
            MACCFG2_IF_NIBBLE
        };
        if link.full_duplex {
            cfg2 |= MACCFG2_FULL_DUPLEX;
        }
        r.write(MACCFG2, cfg2);
        const ECNTRL_R100M: u32 = 1 << 3;
        let ecntrl = r.read(ECNTRL) & !ECNTRL_R100M;
        let r100 = if link.speed == Some(Speed::Mbps100) {
            ECNTRL_R100M
        } else {
            0
        };
        r.write(ECNTRL, ecntrl | r100);
    }

    /// The controller's counters since setup (read-to-clear with `ECNTRL[AUTOZ]`). QEMU's model
    /// counts nothing.
    pub fn update_statistics(&mut self) -> Statistics {
        let r = &self.regs;
        let s = &mut self.statistics;
        for (total, reg) in [
            (&mut s.rx_frames, RPKT),
            (&mut s.rx_bytes, RBYT),
            (&mut s.rx_fcs_errors, RFCS),
            (&mut s.rx_undersize, RUND),
            (&mut s.rx_oversize, ROVR),
            (&mut s.rx_dropped, RDRP),
            (&mut s.tx_frames, TPKT),
            (&mut s.tx_bytes, TBYT),
            (&mut s.tx_dropped, TDRP),
            (&mut s.collisions, TNCL),
        ] {
            *total += u64::from(r.read(reg));
        }
        *s
    }
}

/// Mask and clear every event, stop the DMA gracefully, disable the MAC, and soft-reset it.
fn stop_and_reset<R: Registers>(r: &Regs<R>, delay: &impl Delay) {
    r.write(IMASK, 0);
    r.write(IEVENT, u32::MAX);
    r.write(DMACTRL, r.read(DMACTRL) | DMACTRL_GRS | DMACTRL_GTS);
    let stopped = IEVENT_GRSC | IEVENT_GTSC;
    let _ = (0..GRACEFUL_STOP_POLLS).find(|_| r.read(IEVENT) & stopped == stopped);
    r.write(MACCFG1, r.read(MACCFG1) & !(MACCFG1_RX_EN | MACCFG1_TX_EN));
    r.write(MACCFG1, MACCFG1_SOFT_RESET);
    delay.delay_us(3);
    r.write(MACCFG1, 0);
    r.write(MACCFG2, MACCFG2_INIT);
    r.write(
        ECNTRL,
        r.read(ECNTRL) | ECNTRL_STEN | ECNTRL_AUTOZ | ECNTRL_CLRCNT,
    );
    r.write(ECNTRL, r.read(ECNTRL) & !ECNTRL_CLRCNT);
    r.write(TCTRL, 0);
}
