//! The RB400's Ethernet ports: the AR7161's two AG71xx MACs. **Unverified on hardware** (no
//! board here, and QEMU has no model of the AR71xx): built from OpenWrt's ath79 sources, as the
//! driver is (`drivers::ag71xx`).
//!
//! Wiring, as OpenWrt's `mach-rb4xx.c` gives the RB433 (the RB411 has GE0 only; other models
//! put a switch chip behind GE0, which this does not set up):
//!
//! | port   | MAC | registers      | CPU line | PHY (on GE0's MDIO) | MAC address   |
//! |--------|-----|----------------|----------|---------------------|---------------|
//! | ether1 | GE1 | 0x1A00_0000    | IP5      | 4, RMII             | `kmac=`       |
//! | ether2 | GE0 | 0x1900_0000    | IP4      | 0, MII              | `kmac=` + 1   |
//!
//! - Reset: both MACs are pulsed in the reset controller's RESET_MODULE before set-up.
//! - Link: read from the PHY over GE0's MDIO (GE1's PHY is on that bus too) when the ports are
//!   polled, at most every [`LINK_POLL_MS`] ms; a change reprograms the MAC's mode
//!   (`Ag71xx::configure_for`). Not done: the AR7161's Ethernet PLL and MII control block for
//!   the new speed (OpenWrt's `ath79_set_pll`, `ath79_mii_ctrl_set_speed`); RouterBOOT leaves
//!   them as it used them.
//! - Interrupts: a port's CPU line is masked at the MAC (INT_ENABLE) when it fires and opened
//!   again once the main loop has polled the ports, as Linux's ag71xx does for NAPI.
//! - DMA: not coherent. Descriptors uncached (kseg1), buffers cached (kseg0) with `cache`
//!   write-back and invalidate per line; before each poll the DDR controller's write buffer of
//!   the port's channel is flushed ([`Ar71xxDma`]). 256 receive slots of 1,536 bytes and 128
//!   transmit descriptors per port: 460,288 bytes of buffers and 12,320 of descriptors, one
//!   1 MiB granule.

use alloc::boxed::Box;
use alloc::vec::Vec;

use drivers::ag71xx::ar71xx::{self, DdrChannel, DdrWriteBuffer};
use drivers::ag71xx::regs::{INT_ENABLE, INT_ERRORS, INT_POLL};
use drivers::ag71xx::{self, Ag71xx, Ag71xxMdio, PhyLink};
use drivers::dma::{DmaMemory, DmaOps};
use drivers::mii;
use drivers::mmio::Mmio;
use drivers::nic::{Delay, EthernetPort, Link, MacAddress, RingLayout, RingMemory};
use hypervisor::arch::{self, dcache};
use hypervisor::board::{EtherPort, PhysRange, PortCounters};

const KSEG0: usize = 0x8000_0000;
const KSEG1: usize = 0xA000_0000;
const KSEG_LIMIT: u64 = 0x2000_0000;

/// Slots and buffers per port.
pub const LAYOUT: RingLayout = RingLayout {
    rx_slots: 256,
    tx_slots: 128,
    buffer_size: 1536,
};
/// How often the PHYs are asked for their link while the ports are polled.
pub const LINK_POLL_MS: u64 = 100;

/// One MAC as the board wires it.
#[derive(Clone, Copy, Debug)]
pub struct MacWiring {
    pub phys: usize,
    /// The CPU interrupt line (Cause.IP n).
    pub cpu_line: u32,
    pub reset_bit: u32,
    pub channel: DdrChannel,
    /// The PHY's address on GE0's MDIO bus.
    pub phy: u8,
    /// Added to `kmac=` for this port's address.
    pub mac_offset: u8,
}

/// ether1, ether2.
pub const PORTS: [MacWiring; 2] = [
    MacWiring {
        phys: 0x1A00_0000,
        cpu_line: 5,
        reset_bit: ar71xx::RESET_GE1_MAC,
        channel: DdrChannel::Ge1,
        phy: 4,
        mac_offset: 0,
    },
    MacWiring {
        phys: 0x1900_0000,
        cpu_line: 4,
        reset_bit: ar71xx::RESET_GE0_MAC,
        channel: DdrChannel::Ge0,
        phy: 0,
        mac_offset: 1,
    },
];
/// GE0's block, whose MII registers drive the PHYs' MDIO bus.
const GE0_PHYS: usize = 0x1900_0000;

/// DMA on the AR7161: bus address = physical address; cache maintenance through kseg0; the
/// DDR controller's write buffer of the port's channel flushed before each poll.
#[derive(Clone, Copy, Debug)]
pub struct Ar71xxDma {
    ddr: DdrWriteBuffer<Mmio>,
    channel: DdrChannel,
}

impl DmaOps for Ar71xxDma {
    fn bus_address(&self, cpu: usize) -> Option<u64> {
        match cpu {
            KSEG0..KSEG1 => Some((cpu - KSEG0) as u64),
            KSEG1..=0xBFFF_FFFF => Some((cpu - KSEG1) as u64),
            _ => None,
        }
    }
    fn write_back(&self, cpu: usize, len: usize) {
        dcache::write_back(cpu, len);
    }
    fn invalidate(&self, cpu: usize, len: usize) {
        // SAFETY: the drivers invalidate only lines wholly inside one buffer the CPU has not
        // written since its last write-back (the `DmaOps` contract; buffers are whole lines).
        unsafe { dcache::invalidate(cpu, len) };
    }
    fn cache_line(&self) -> usize {
        dcache::line_size()
    }
    fn drain_device_writes(&self) {
        self.ddr.flush(self.channel);
    }
}

/// Busy-waiting on CP0 Count (`hz` ticks a second).
pub struct CounterDelay {
    pub hz: u64,
}

impl Delay for CounterDelay {
    fn delay_us(&self, us: u32) {
        let end = arch::counter() + u64::from(us) * self.hz / 1_000_000;
        while arch::counter() < end {}
    }
}

/// One AG71xx port, as the network sees it.
pub struct Port {
    nic: Ag71xx<Mmio, Ar71xxDma>,
    mdio: Ag71xxMdio<Mmio>,
    phy: u8,
    link: Link,
    link_period: u64,
    next_link_check: u64,
    /// Ring-full refusals followed by a second try (`EthernetPort::transmit_reclaiming`).
    retried: u64,
}

impl EtherPort for Port {
    fn mac(&self) -> [u8; 6] {
        self.nic.mac_address().0
    }
    fn link_up(&self) -> bool {
        self.link.up
    }
    fn take_events(&mut self) -> bool {
        let _ = self.nic.take_events();
        let now = arch::counter();
        if now < self.next_link_check {
            return false;
        }
        self.next_link_check = now + self.link_period;
        let link = mii::link(&self.mdio, self.phy).unwrap_or(Link::DOWN);
        let changed = link != self.link;
        if changed && link.up {
            self.nic.configure_for(link);
        }
        self.link = link;
        changed
    }
    fn poll_rx(&mut self, budget: usize, deliver: &mut dyn FnMut(&[u8])) -> usize {
        self.nic.poll_rx(budget, deliver)
    }
    fn transmit(&mut self, frame: &[u8]) -> bool {
        self.nic.transmit_reclaiming(frame, &mut self.retried)
    }
    fn transmit_parts(&mut self, head: &[u8], rest: &[u8]) -> bool {
        self.nic
            .transmit_parts_reclaiming(head, rest, &mut self.retried)
    }
    fn flush_tx(&mut self) {
        self.nic.flush_tx();
    }
    fn reclaim_tx(&mut self) {
        self.nic.reclaim_tx();
    }
    fn counters(&self) -> PortCounters {
        let c = self.nic.counters();
        PortCounters {
            rx_frames: c.rx_frames,
            rx_bytes: c.rx_bytes,
            tx_frames: c.tx_frames,
            tx_bytes: c.tx_bytes,
            rx_drops: c.rx_dropped(),
            tx_drops: c.tx_rejected,
            tx_queue_drops: c.tx_queue_drops(self.retried),
            rx_errors: c.rx_errors,
            tx_errors: c.tx_errors,
        }
    }
}

/// A started port's interrupt: its CPU line, and its MAC's registers to mask it at.
#[derive(Clone, Copy, Debug)]
pub struct PortInterrupt {
    pub cpu_line: u32,
    regs: Mmio,
}

impl PortInterrupt {
    /// Stop the MAC from asserting its line (its causes stay latched).
    pub fn mask(&self) {
        self.regs.write_be32(INT_ENABLE.0, 0);
    }
    /// Let it assert again (at once, if causes are latched).
    pub fn unmask(&self) {
        self.regs.write_be32(INT_ENABLE.0, INT_POLL | INT_ERRORS);
    }
}

/// Reset and start both MACs. `reset` is the reset controller's block (0x1806_0000), `kmac`
/// RouterBOOT's MAC address, `count_hz` CP0 Count's rate. Returns the ports (ether1 first)
/// and their interrupts.
pub fn start_ports(
    reset: &Mmio,
    kmac: Option<[u8; 6]>,
    count_hz: u64,
    dma_ram: &mut dyn FnMut(u64, u64) -> Option<PhysRange>,
) -> (Vec<Box<dyn EtherPort>>, Vec<PortInterrupt>) {
    let delay = CounterDelay { hz: count_hz };
    let bits = PORTS.iter().fold(0, |b, p| b | p.reset_bit);
    let module = reset.read_be32(ar71xx::RESET_MODULE_OFFSET);
    reset.write_be32(ar71xx::RESET_MODULE_OFFSET, module | bits);
    delay.delay_us(100_000);
    reset.write_be32(ar71xx::RESET_MODULE_OFFSET, module & !bits);
    delay.delay_us(100_000);
    // SAFETY: the AR71xx DDR controller's block, uncached through kseg1; only the write-buffer
    // flush registers are used, by the ports' DMA operations.
    let ddr = DdrWriteBuffer::new(unsafe {
        Mmio::new(KSEG1 + ar71xx::DDR_CTRL_PHYS, ar71xx::DDR_CTRL_LEN)
    });
    // SAFETY: GE0's register block, uncached through kseg1; the MDIO exchanges use only its MII
    // registers, which its driver leaves alone (its link is read through this).
    let ge0 = unsafe { Mmio::new(KSEG1 + GE0_PHYS, ag71xx::REGISTER_WINDOW) };
    let mdio = Ag71xxMdio::new(ge0);
    let area = (Ag71xx::<Mmio, Ar71xxDma>::buffer_bytes(LAYOUT)
        + Ag71xx::<Mmio, Ar71xxDma>::descriptor_bytes(LAYOUT)) as u64;
    let mut started = Vec::new();
    for (n, wiring) in (1..).zip(PORTS) {
        let dma = Ar71xxDma {
            ddr,
            channel: wiring.channel,
        };
        let Some(memory) = dma_ram(area, KSEG_LIMIT).and_then(|ram| ring_memory(ram, dma)) else {
            hypervisor::println!("ether{n}: no RAM for its rings");
            break;
        };
        // SAFETY: the MAC's register block, uncached through kseg1; its driver and the masking
        // of its interrupt (INT_ENABLE, see `PortInterrupt`) are the only users.
        let regs = unsafe { Mmio::new(KSEG1 + wiring.phys, ag71xx::REGISTER_WINDOW) };
        let mac = kmac.map(|m| MacAddress(offset_mac(m, wiring.mac_offset)));
        // The link is read by the board over GE0's MDIO (GE1's PHY is on it too); the driver
        // is told a fixed one.
        let fixed = PhyLink::Fixed(Link::DOWN);
        match Ag71xx::new(regs, dma, memory, LAYOUT, mac, fixed, &delay) {
            Ok(nic) => started.push((nic, wiring, regs)),
            Err(e) => hypervisor::println!("ether{n}: {e:?}"),
        }
    }
    // After GE0's soft reset: MDC at AHB / 28, as OpenWrt's ag71xx_mdio sets it.
    mdio.reset(&delay);
    let link_period = count_hz * LINK_POLL_MS / 1000;
    let mut ports: Vec<Box<dyn EtherPort>> = Vec::new();
    let mut interrupts = Vec::new();
    for (mut nic, wiring, regs) in started {
        let link = mii::link(&mdio, wiring.phy).unwrap_or(Link::DOWN);
        nic.configure_for(link);
        nic.set_interrupts(true);
        interrupts.push(PortInterrupt {
            cpu_line: wiring.cpu_line,
            regs,
        });
        ports.push(Box::new(Port {
            nic,
            mdio,
            phy: wiring.phy,
            link,
            link_period,
            next_link_check: arch::counter() + link_period,
            retried: 0,
        }));
    }
    (ports, interrupts)
}

/// `mac` + `offset` in its last three bytes (as OpenWrt's `ath79_init_mac` counts).
fn offset_mac(mac: [u8; 6], offset: u8) -> [u8; 6] {
    let low = u32::from_be_bytes([0, mac[3], mac[4], mac[5]]).wrapping_add(u32::from(offset));
    let [_, a, b, c] = low.to_be_bytes();
    [mac[0], mac[1], mac[2], a, b, c]
}

/// Buffers at the start of `ram` (cached, kseg0), descriptors after them (uncached, kseg1),
/// after writing back and invalidating every line of it.
fn ring_memory(ram: PhysRange, dma: Ar71xxDma) -> Option<RingMemory> {
    if ram.base.checked_add(ram.size)? > KSEG_LIMIT {
        return None;
    }
    let base = usize::try_from(ram.base).ok()?;
    let len = usize::try_from(ram.size).ok()?;
    let buffers = Ag71xx::<Mmio, Ar71xxDma>::buffer_bytes(LAYOUT);
    let descriptors = Ag71xx::<Mmio, Ar71xxDma>::descriptor_bytes(LAYOUT);
    if buffers + descriptors > len {
        return None;
    }
    dma.write_back(KSEG0 + base, len);
    dma.invalidate(KSEG0 + base, len);
    // SAFETY: `ram` was just taken from the RAM allocator for good (never handed to a guest or
    // the heap) and is given to this one port; the buffers are reached cached through kseg0,
    // the descriptors uncached through kseg1, and no line of either is cached now.
    let memory = unsafe {
        RingMemory {
            buffers: DmaMemory::new(KSEG0 + base, buffers),
            descriptors: DmaMemory::new(KSEG1 + base + buffers, descriptors),
        }
    };
    Some(memory)
}
