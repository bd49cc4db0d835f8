//! What the Ethernet drivers ([`e1000`](crate::e1000), [`etsec`](crate::etsec),
//! [`ag71xx`](crate::ag71xx)) have in common: addresses, link state, the memory a port gets,
//! counters, interrupt events, errors, and the [`EthernetPort`] trait the layers above use.
//!
//! Every driver has a fixed number of receive and transmit slots, each with a buffer of
//! [`RingLayout::buffer_size`] bytes in memory the caller provides ([`RingMemory`]); nothing is
//! allocated per frame. A received frame is lent to the caller as a slice of its receive buffer
//! for the duration of a callback, and given back to the device right after; a frame to send is
//! copied into (or written straight into) a transmit buffer.
//!
//! Interrupts and polling (NAPI-style): on the port's interrupt, the caller reads and
//! acknowledges the causes ([`EthernetPort::take_events`]), turns the port's receive and transmit
//! interrupts off ([`EthernetPort::set_interrupts`]) and polls ([`EthernetPort::poll_rx`] with a
//! budget, [`EthernetPort::reclaim_tx`]) from its main loop until a poll does less than its
//! budget; then it turns the interrupts on again. Causes that arrive while they are off stay
//! latched in the device, so turning them on raises the interrupt again: nothing is lost between
//! the last poll and the unmask.

use core::fmt;

use crate::dma::{DmaMemory, DmaOps};

/// An Ethernet (MAC-48) address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    /// Neither multicast nor all zeros: usable as a port's own address.
    pub fn is_unicast(&self) -> bool {
        self.0[0] & 1 == 0 && self.0 != [0; 6]
    }

    /// The address in the layout eTSEC and AG71xx station address registers use: the first
    /// register holds octets 5..2 (octet 5 in its top byte), the second octets 1..0 in its top
    /// half.
    pub(crate) fn to_station_registers(self) -> (u32, u32) {
        let m = self.0;
        let first = u32::from_be_bytes([m[5], m[4], m[3], m[2]]);
        let second = u32::from_be_bytes([m[1], m[0], 0, 0]);
        (first, second)
    }

    /// The inverse of [`Self::to_station_registers`].
    pub(crate) fn from_station_registers(first: u32, second: u32) -> Self {
        let [m5, m4, m3, m2] = first.to_be_bytes();
        let [m1, m0, _, _] = second.to_be_bytes();
        MacAddress([m0, m1, m2, m3, m4, m5])
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// Link speed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speed {
    Mbps10,
    Mbps100,
    Mbps1000,
}

/// Link state as the device (or its PHY) reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub up: bool,
    /// `None` when the device does not say.
    pub speed: Option<Speed>,
    pub full_duplex: bool,
}

impl Link {
    /// A link that is down.
    pub const DOWN: Link = Link {
        up: false,
        speed: None,
        full_duplex: false,
    };
}

/// How many slots a port has, and the size of each slot's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingLayout {
    pub rx_slots: usize,
    pub tx_slots: usize,
    /// Bytes per buffer: the longest frame a slot holds (without the FCS).
    pub buffer_size: usize,
}

/// The memory a port works in: descriptors (seen coherently by the CPU: uncached where DMA is
/// not coherent) and buffers (cached). Each driver says how much it needs for a [`RingLayout`].
#[derive(Clone, Copy, Debug)]
pub struct RingMemory {
    pub descriptors: DmaMemory,
    pub buffers: DmaMemory,
}

/// Why a port could not be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupError {
    /// Slot counts or buffer size the device cannot take (each driver documents its limits).
    BadLayout,
    /// The descriptor memory is smaller than the layout needs.
    DescriptorMemoryTooSmall { needed: usize },
    /// The buffer memory is smaller than the layout needs.
    BufferMemoryTooSmall { needed: usize },
    /// Descriptor or buffer memory not aligned as the device (or the cache line) requires.
    Misaligned,
    /// The device cannot reach the memory, or not at one contiguous, 32-bit (where the device
    /// needs it), non-zero range of bus addresses.
    Unreachable,
    /// The device did not finish its reset.
    ResetTimeout,
}

/// Why a frame was not queued for transmission (counted in [`Counters`] too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxError {
    /// Every transmit slot is in use; try again after [`EthernetPort::reclaim_tx`].
    RingFull,
    /// Longer than a buffer (or than the device sends).
    TooLong,
    /// Shorter than the device can send.
    TooShort,
}

/// Interrupt causes read (and acknowledged) at one look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Events {
    /// Frames were received.
    pub rx: bool,
    /// Frames were sent (transmit slots can be reclaimed).
    pub tx: bool,
    /// The link changed.
    pub link: bool,
    /// The device found no free receive slot and dropped frames.
    pub rx_overrun: bool,
    /// A bus or internal error.
    pub error: bool,
}

impl Events {
    /// Whether anything happened.
    pub fn any(&self) -> bool {
        self.rx || self.tx || self.link || self.rx_overrun || self.error
    }
}

/// The driver's own counts, from the frames it handled (they need no device support, and are
/// exact on every device, QEMU's included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames handed to the caller, and their bytes (without FCS).
    pub rx_frames: u64,
    pub rx_bytes: u64,
    /// Frames handed to the device, and their bytes.
    pub tx_frames: u64,
    pub tx_bytes: u64,
    /// Received frames dropped for not fitting one buffer (they spanned descriptors).
    pub rx_too_long: u64,
    /// Received frames dropped for being shorter than an Ethernet header.
    pub rx_runts: u64,
    /// Received frames the device flagged (CRC, alignment, symbol, overrun, truncation).
    pub rx_errors: u64,
    /// Completed receive descriptors with impossible contents (a length beyond the buffer).
    pub rx_bad_descriptors: u64,
    /// Times the device said it ran out of receive slots (it dropped frames then).
    pub rx_overruns: u64,
    /// Receive descriptors the device passed by, left EMPTY (QEMU's eTSEC model does, after
    /// finding its ring full); the driver goes on from the next one.
    pub rx_skipped_descriptors: u64,
    /// Frames the caller offered while every transmit slot was in use.
    pub tx_ring_full: u64,
    /// Frames the caller offered that were too long or too short.
    pub tx_rejected: u64,
    /// Frames the device reported it failed to send.
    pub tx_errors: u64,
}

impl Counters {
    /// Received frames dropped by the driver (too long, runts, bad descriptors).
    pub fn rx_dropped(&self) -> u64 {
        self.rx_too_long + self.rx_runts + self.rx_bad_descriptors
    }

    /// Frames dropped for a full transmit ring: the refusals less the `retried` ones that
    /// [`EthernetPort::transmit_reclaiming`] followed with a second try.
    pub fn tx_queue_drops(&self, retried: u64) -> u64 {
        self.tx_ring_full.saturating_sub(retried)
    }
}

/// A pause, for the few places a device needs time (a reset).
pub trait Delay {
    fn delay_us(&self, us: u32);
}

/// An Ethernet port, whatever its controller. See the [module docs](self) for the interrupt and
/// polling protocol.
pub trait EthernetPort {
    /// The port's address.
    fn mac_address(&self) -> MacAddress;
    /// Make `mac` the port's address (what it answers to when not promiscuous).
    fn set_mac_address(&mut self, mac: MacAddress);
    /// Receive every unicast and multicast frame (a bridge port), or only the port's own,
    /// broadcast and (for now all) multicast frames.
    fn set_promiscuous(&mut self, on: bool);
    /// The link state (a register read, or an MDIO exchange with the PHY).
    fn link(&self) -> Link;
    /// Hand up to `budget` completed receive slots to `deliver` (frames; dropped ones count
    /// too) and give them back to the device. Returns how many slots were completed: less than
    /// `budget` means the ring is drained.
    fn poll_rx(&mut self, budget: usize, deliver: &mut dyn FnMut(&[u8])) -> usize;
    /// Queue `frame` for transmission. The device is told with [`Self::flush_tx`].
    fn transmit(&mut self, frame: &[u8]) -> Result<(), TxError>;
    /// Queue the frame made of `head` followed by `rest`, gathered into one transmit buffer
    /// (a rewritten header from a small buffer, the rest from where the frame was received).
    fn transmit_parts(&mut self, head: &[u8], rest: &[u8]) -> Result<(), TxError>;
    /// Queue a frame of `len` bytes that `fill` writes straight into the transmit buffer.
    fn transmit_with(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8]))
        -> Result<(), TxError>;
    /// Tell the device about the frames queued since the last call (one register write).
    fn flush_tx(&mut self);
    /// Take back the transmit slots the device is done with. Returns how many.
    fn reclaim_tx(&mut self) -> usize;
    /// Read and acknowledge the interrupt causes.
    fn take_events(&mut self) -> Events;
    /// Turn the receive and transmit interrupts on or off (link and error interrupts stay on).
    fn set_interrupts(&mut self, on: bool);
    /// The driver's counters.
    fn counters(&self) -> Counters;

    /// [`Self::transmit`]; when every slot is in use, [`Self::reclaim_tx`] and one more try.
    /// Whether the frame was queued; `retried` counts the refusals followed by a second try,
    /// which are in [`Counters::tx_ring_full`] without being drops (the second try queues the
    /// frame, or its own refusal is the drop): see [`Counters::tx_queue_drops`].
    #[inline]
    fn transmit_reclaiming(&mut self, frame: &[u8], retried: &mut u64) -> bool {
        match self.transmit(frame) {
            Ok(()) => true,
            Err(TxError::RingFull) => self.retry_after_reclaim(frame, retried),
            Err(_) => false,
        }
    }

    /// [`Self::transmit_parts`], with [`Self::transmit_reclaiming`]'s second try.
    #[inline]
    fn transmit_parts_reclaiming(&mut self, head: &[u8], rest: &[u8], retried: &mut u64) -> bool {
        match self.transmit_parts(head, rest) {
            Ok(()) => true,
            Err(TxError::RingFull) => self.retry_parts_after_reclaim(head, rest, retried),
            Err(_) => false,
        }
    }

    /// The second try of [`Self::transmit_parts_reclaiming`], out of line (as
    /// [`Self::retry_after_reclaim`]).
    #[cold]
    #[inline(never)]
    fn retry_parts_after_reclaim(&mut self, head: &[u8], rest: &[u8], retried: &mut u64) -> bool {
        *retried += 1;
        self.reclaim_tx();
        self.transmit_parts(head, rest).is_ok()
    }

    /// The second try of [`Self::transmit_reclaiming`], out of line: a driver's `transmit`
    /// inlined into the first try (the frame path) is not inlined twice.
    #[cold]
    #[inline(never)]
    fn retry_after_reclaim(&mut self, frame: &[u8], retried: &mut u64) -> bool {
        *retried += 1;
        self.reclaim_tx();
        self.transmit(frame).is_ok()
    }
}

/// The shortest frame the drivers hand up: an Ethernet header.
pub const ETHERNET_HEADER: usize = 14;
/// The frame check sequence some devices leave at the end of a received frame.
pub const FCS_LEN: usize = 4;

/// A contiguous run of equal buffers in DMA memory, with their bus addresses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BufferArea {
    pub mem: DmaMemory,
    pub bus: u64,
    pub slot: usize,
    pub count: usize,
}

impl BufferArea {
    /// `count` buffers of `slot` bytes at the start of `mem`. Checks alignment to the cache line,
    /// that the device reaches the whole area linearly (below `bus_limit`, never at bus address
    /// 0), and that `mem` is long enough.
    pub fn new(
        mem: DmaMemory,
        dma: &impl DmaOps,
        count: usize,
        slot: usize,
        bus_limit: u64,
    ) -> Result<Self, SetupError> {
        let bytes = count.checked_mul(slot).ok_or(SetupError::BadLayout)?;
        let mem = mem
            .window(0, bytes)
            .ok_or(SetupError::BufferMemoryTooSmall { needed: bytes })?;
        let line = dma.cache_line().max(1);
        if !mem.base().is_multiple_of(line) || !slot.is_multiple_of(line) {
            return Err(SetupError::Misaligned);
        }
        let bus = linear_bus_range(dma, mem, bus_limit)?;
        Ok(BufferArea {
            mem,
            bus,
            slot,
            count,
        })
    }

    /// Offset of buffer `i` in the area.
    pub fn offset(&self, i: usize) -> usize {
        i * self.slot
    }

    /// CPU address of buffer `i`.
    pub fn cpu(&self, i: usize) -> usize {
        self.mem.base() + self.offset(i)
    }

    /// Bus address of buffer `i`.
    pub fn bus(&self, i: usize) -> u64 {
        self.bus + self.offset(i) as u64
    }

    /// Make every buffer safe to give to the device for receiving: nothing of it left dirty in
    /// the CPU's cache, nothing of it cached at all.
    pub fn prepare_for_receive(&self, dma: &impl DmaOps) {
        dma.write_back(self.mem.base(), self.mem.len());
        dma.invalidate(self.mem.base(), self.mem.len());
    }
}

/// The bus address of `mem`'s first byte, after checking that the device reaches every byte of
/// it at consecutive bus addresses below `limit`, none of them 0 (a null buffer pointer means
/// "no buffer" to some devices).
pub(crate) fn linear_bus_range(
    dma: &impl DmaOps,
    mem: DmaMemory,
    limit: u64,
) -> Result<u64, SetupError> {
    if mem.is_empty() {
        return Err(SetupError::Unreachable);
    }
    let first = dma.bus_address(mem.base()).ok_or(SetupError::Unreachable)?;
    let last = dma
        .bus_address(mem.base() + mem.len() - 1)
        .ok_or(SetupError::Unreachable)?;
    let linear = first.checked_add(mem.len() as u64 - 1) == Some(last);
    if !linear || first == 0 || last >= limit {
        return Err(SetupError::Unreachable);
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port with `slots` transmit slots, of which the device has finished `done`.
    struct FakePort {
        slots: usize,
        used: usize,
        done: usize,
        counters: Counters,
    }

    impl EthernetPort for FakePort {
        fn mac_address(&self) -> MacAddress {
            MacAddress([2, 0, 0, 0, 0, 1])
        }
        fn set_mac_address(&mut self, _: MacAddress) {}
        fn set_promiscuous(&mut self, _: bool) {}
        fn link(&self) -> Link {
            Link::DOWN
        }
        fn poll_rx(&mut self, _: usize, _: &mut dyn FnMut(&[u8])) -> usize {
            0
        }
        fn transmit(&mut self, frame: &[u8]) -> Result<(), TxError> {
            if frame.len() < ETHERNET_HEADER {
                self.counters.tx_rejected += 1;
                return Err(TxError::TooShort);
            }
            if self.used == self.slots {
                self.counters.tx_ring_full += 1;
                return Err(TxError::RingFull);
            }
            self.used += 1;
            self.counters.tx_frames += 1;
            Ok(())
        }
        fn transmit_parts(&mut self, head: &[u8], rest: &[u8]) -> Result<(), TxError> {
            let mut frame = [0u8; 64];
            let len = head.len() + rest.len();
            frame[..head.len()].copy_from_slice(head);
            frame[head.len()..len].copy_from_slice(rest);
            self.transmit(&frame[..len])
        }
        fn transmit_with(
            &mut self,
            len: usize,
            _: &mut dyn FnMut(&mut [u8]),
        ) -> Result<(), TxError> {
            self.transmit(&[0; 60][..len.min(60)])
        }
        fn flush_tx(&mut self) {}
        fn reclaim_tx(&mut self) -> usize {
            let n = self.done;
            self.used -= n;
            self.done = 0;
            n
        }
        fn take_events(&mut self) -> Events {
            Events::default()
        }
        fn set_interrupts(&mut self, _: bool) {}
        fn counters(&self) -> Counters {
            self.counters
        }
    }

    #[test]
    fn a_full_ring_is_reclaimed_once_and_only_real_drops_count() {
        let mut p = FakePort {
            slots: 2,
            used: 0,
            done: 0,
            counters: Counters::default(),
        };
        let mut retried = 0;
        let frame = [0u8; 60];
        assert!(p.transmit_reclaiming(&frame, &mut retried));
        assert!(p.transmit_reclaiming(&frame, &mut retried));
        // Full, and the device has finished nothing: one frame dropped (two refusals).
        assert!(!p.transmit_reclaiming(&frame, &mut retried));
        assert_eq!(p.counters().tx_ring_full, 2);
        assert_eq!(p.counters().tx_queue_drops(retried), 1);
        // Full, but the device has finished one: the second try queues it, no drop.
        p.done = 1;
        assert!(p.transmit_reclaiming(&frame, &mut retried));
        assert_eq!(p.counters().tx_ring_full, 3);
        assert_eq!(p.counters().tx_queue_drops(retried), 1);
        // Refused for another reason: no second try.
        assert!(!p.transmit_reclaiming(&[0; 4], &mut retried));
        assert_eq!(p.counters().tx_rejected, 1);
    }
}
