//! Queue 3, virtual ethernet: all of a guest's interfaces on one queue.
//!
//! Guest side (`drivers/net/ethernet/mtveth.c`, metaDIE `veth.c`): 1024 TX and 128 RX
//! descriptors (RX buffers of 1600 bytes, 10300 in some builds). Every frame, both ways, starts
//! with the interface id as a big-endian `u16` (the guest stores it with a native store on a
//! big-endian CPU), then a plain Ethernet frame without FCS (the guest pads TX frames to 60
//! bytes). Id 0 carries host-to-guest control messages, `{ u32 cmd; u16 id; u8 mac[6] }`
//! packed (12 bytes after the id, 14 in all): cmd 0 NEWIFACE makes the guest create interface
//! `id` with that MAC, cmd 1 DELIFACE removes it; the guest accepts ids below 8
//! (`MAX_IFACES`), so data ids are 1..=7. TX descriptors are handed over with
//! `size = len | DONE` and reclaimed by the guest, in order, once DONE is clear. RX buffers are
//! consumed in ring order and re-posted with `size = RXBUF_SIZE` (or 0 if the guest is out of
//! memory, which stalls that descriptor: the host waits, it never skips).
//!
//! The host side keeps, per interface id, the MAC the hypervisor wants and the MAC the guest was
//! told, and brings the guest in line (NEWIFACE / DELIFACE) whenever it can: when the queue is
//! created, when an interface is added or removed, and before every delivery. Frames to or from
//! an interface the guest has not been told about are dropped. Linux guests apply control
//! messages from a work queue, so frames in the same interrupt as a NEWIFACE may still be
//! dropped by the guest.

mod fast;

use crate::abi::QueueId;
use crate::fault::{DeviceError, RingError, Side};
use crate::queue::{Channel, OnSide, SideError, Slot};
use crate::ring::{RxFill, TxBuffer};
use crate::virq::VirqWord;
use guest_mem::{Gpa, GuestRam, Gva, MemError};

/// Interface ids a guest accepts: 1..=7 (0 is the control channel).
pub const MAX_INTERFACES: usize = 8;
/// NEWIFACE control command.
pub const CMD_NEWIFACE: u32 = 0;
/// DELIFACE control command.
pub const CMD_DELIFACE: u32 = 1;
/// Bytes of the interface id prefix.
pub const ID_LEN: u32 = 2;
/// Shortest TX transfer accepted: the id and an Ethernet header.
pub const MIN_TRANSFER: u32 = ID_LEN + 14;
/// Default longest TX transfer accepted, id included (the largest guest RX buffer known).
pub const DEFAULT_MAX_TRANSFER: u32 = 10300;

/// A MAC address as bytes.
pub type Mac = [u8; 6];

/// The 14 bytes of a control message as the guest reads them from its RX buffer:
/// `u16 0` (the control id), then `u32 cmd`, `u16 id`, `u8 mac[6]`, all big-endian.
pub fn control_message(cmd: u32, id: u16, mac: Mac) -> [u8; 14] {
    let mut m = [0u8; 14];
    m[2..6].copy_from_slice(&cmd.to_be_bytes());
    m[6..8].copy_from_slice(&id.to_be_bytes());
    m[8..14].copy_from_slice(&mac);
    m
}

/// Why an interface could not be configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterfaceError {
    /// Ids are 1..=7.
    BadId(u16),
}

/// A frame the guest sent: the interface id, the Ethernet frame (borrowed from the guest's RAM,
/// id stripped) and the token that hands the descriptor back.
#[derive(Debug)]
pub struct VethTx<'r> {
    /// Interface the frame was sent on (1..=7).
    pub iface: u16,
    /// The Ethernet frame, without the id prefix.
    pub frame: &'r [u8],
    /// Pass to `veth_complete_tx` once the frame has been delivered (or dropped).
    pub token: TxToken,
}

/// Proof that a TX frame was taken; completing it gives the descriptor back to the guest.
///
/// Four words, so that moving it costs four loads and stores rather than a `memcpy` call:
/// completion reads the descriptor's `next` link again (the guest handed the descriptor over
/// and does not change it until it gets it back).
#[derive(Debug)]
#[must_use = "the guest gets its TX descriptor back only when the token is completed"]
pub struct TxToken {
    descriptor: Gva,
    addr: Gva,
    len: u32,
    serial: u32,
}

impl TxToken {
    #[inline(always)]
    fn new(tx: &TxBuffer) -> Self {
        Self {
            descriptor: tx.descriptor,
            addr: tx.addr,
            len: tx.len,
            serial: tx.serial(),
        }
    }

    /// Where the frame (without the id) lies in the sender's RAM, for delivering it to another
    /// interface of the same guest.
    pub fn frame_location(&self) -> (Gva, u32) {
        (Gva::new(self.addr.get() + ID_LEN), self.len - ID_LEN)
    }
}

/// A frame taken from the TX ring: its interface, its descriptor and where its buffer starts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Taken {
    iface: u16,
    tx: TxBuffer,
    start: Gpa,
}

/// What happened to a frame offered to a guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Written into the guest's next posted buffer and handed over.
    Delivered,
    /// The guest has no buffer posted: dropped.
    NoBuffer,
    /// Id and frame are longer than the posted buffer: dropped (nothing written).
    TooBig,
    /// The guest does not have that interface (not configured, or not yet announced).
    InterfaceDown,
}

/// Counters of the virtual ethernet queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VethStats {
    /// Frames taken from the guest.
    pub tx_frames: u64,
    /// TX transfers shorter than id + Ethernet header, dropped.
    pub tx_runts: u64,
    /// TX transfers longer than the maximum, dropped.
    pub tx_oversized: u64,
    /// TX frames on an interface the guest should not have, dropped.
    pub tx_bad_iface: u64,
    /// Frames delivered to the guest.
    pub rx_frames: u64,
    /// Frames dropped because no buffer was posted.
    pub rx_no_buffer: u64,
    /// Frames dropped because they were longer than the posted buffer.
    pub rx_too_big: u64,
    /// NEWIFACE / DELIFACE messages delivered.
    pub control_messages: u64,
}

/// Queue 3 of one guest.
#[derive(Debug)]
pub(crate) struct Veth {
    pub(crate) slot: Slot,
    wanted: [Option<Mac>; MAX_INTERFACES],
    announced: [Option<Mac>; MAX_INTERFACES],
    /// Bit n: interface n is wanted and announced with the wanted MAC (frames may flow).
    up: u8,
    /// `wanted == announced`: nothing to tell the guest.
    synced: bool,
    /// TX descriptors were handed back since virq 3 was last raised for that.
    handed_back: bool,
    /// Frames were delivered by [`Veth::deliver_fast`] since virq 3 was last raised.
    pub(crate) unraised: bool,
    max_transfer: u32,
    pub(crate) stats: VethStats,
}

impl Veth {
    pub(crate) const fn new() -> Self {
        Self {
            slot: Slot::new(QueueId::Veth),
            wanted: [None; MAX_INTERFACES],
            announced: [None; MAX_INTERFACES],
            up: 0,
            synced: true,
            handed_back: false,
            unraised: false,
            max_transfer: DEFAULT_MAX_TRANSFER,
            stats: VethStats {
                tx_frames: 0,
                tx_runts: 0,
                tx_oversized: 0,
                tx_bad_iface: 0,
                rx_frames: 0,
                rx_no_buffer: 0,
                rx_too_big: 0,
                control_messages: 0,
            },
        }
    }

    /// Recomputes `up` and `synced` after `wanted` or `announced` changed.
    fn refresh_up(&mut self) {
        self.synced = self.wanted == self.announced;
        self.up = 0;
        for id in 1..MAX_INTERFACES {
            if self.wanted[id].is_some() && self.announced[id] == self.wanted[id] {
                self.up |= 1 << id;
            }
        }
    }

    #[inline]
    fn in_sync(&self) -> bool {
        self.synced
    }

    /// Whether frames may flow on interface `id`.
    #[inline]
    fn is_up(&self, id: u16) -> bool {
        id < MAX_INTERFACES as u16 && self.up & (1 << id) != 0
    }

    /// The guest (re)created or lost its queue: it knows no interfaces.
    pub(crate) fn forget_announcements(&mut self) {
        self.announced = [None; MAX_INTERFACES];
        self.refresh_up();
    }

    pub(crate) fn set_max_transfer(&mut self, max: u32) {
        self.max_transfer = max.max(MIN_TRANSFER);
    }

    pub(crate) fn set_interface(
        &mut self,
        id: u16,
        mac: Option<Mac>,
    ) -> Result<(), InterfaceError> {
        if id == 0 || id as usize >= MAX_INTERFACES {
            return Err(InterfaceError::BadId(id));
        }
        self.wanted[id as usize] = mac;
        self.refresh_up();
        Ok(())
    }

    pub(crate) fn interface(&self, id: u16) -> Option<Mac> {
        self.wanted.get(id as usize).copied().flatten()
    }

    pub(crate) fn announced(&self, id: u16) -> Option<Mac> {
        self.announced.get(id as usize).copied().flatten()
    }

    /// Sends the NEWIFACE / DELIFACE messages that bring the guest in line with the wanted
    /// interfaces, as far as posted buffers allow. Returns how many were delivered.
    pub(crate) fn sync(&mut self, ram: &mut GuestRam<'_>) -> Result<u32, DeviceError> {
        if self.in_sync() || !self.slot.is_open() {
            return Ok(0);
        }
        let (wanted, announced) = (&self.wanted, &mut self.announced);
        let sent = self.slot.run(|ch| sync_channel(ch, ram, wanted, announced));
        self.refresh_up();
        let sent = sent?;
        self.stats.control_messages += u64::from(sent);
        Ok(sent)
    }

    /// The next frame the guest has sent on an interface it has; malformed transfers and frames
    /// on interfaces that are not up are handed back and counted on the way.
    ///
    /// When the scan finds nothing more and descriptors were handed back since the last time, it
    /// raises the queue's virq (through `virq`, setting `interrupt`): Linux guests reclaim TX
    /// buffers only in their interrupt handler and stop an interface after 128 unreclaimed
    /// frames, so the host must interrupt them once it has consumed frames. Once per scan, not
    /// once per frame.
    #[inline(never)]
    pub(crate) fn next_tx<'r>(
        &mut self,
        ram: &'r mut GuestRam<'_>,
        virq: &VirqWord,
        interrupt: &mut bool,
    ) -> Result<Option<VethTx<'r>>, DeviceError> {
        match self.take(ram, virq, interrupt)? {
            Some(taken) => self.transfer(ram, taken),
            None => Ok(None),
        }
    }

    /// The frame of a descriptor taken from the TX ring, borrowed from the guest's RAM.
    #[inline(always)]
    pub(crate) fn transfer<'r>(
        &mut self,
        ram: &'r GuestRam<'_>,
        taken: Taken,
    ) -> Result<Option<VethTx<'r>>, DeviceError> {
        // The buffer was checked when taken; slicing it again cannot fail, but is checked.
        let start = taken.start.get() as usize;
        let Some(transfer) = ram.as_bytes().get(start..start + taken.tx.len as usize) else {
            return Err(self.transfer_fault(ram, &taken.tx));
        };
        Ok(Some(VethTx {
            iface: taken.iface,
            frame: transfer.get(ID_LEN as usize..).unwrap_or_default(),
            token: TxToken::new(&taken.tx),
        }))
    }

    /// Faults the queue for the buffer of `tx` (which cannot happen once it was checked).
    #[cold]
    #[inline(never)]
    fn transfer_fault(&mut self, ram: &GuestRam<'_>, tx: &TxBuffer) -> DeviceError {
        let error = match ram.range(tx.addr, tx.len) {
            Err(error) => error,
            Ok(_) => MemError::OutOfWindow {
                addr: tx.addr,
                len: tx.len,
            },
        };
        let descriptor = tx.descriptor;
        self.slot
            .fault((Side::Tx, RingError::Buffer { descriptor, error }))
    }

    /// The descriptor of the next frame, counted and taken: drops malformed transfers and frames
    /// on interfaces that are not up on the way, faults the queue on a bad descriptor or buffer,
    /// raises the virq at the end of a scan.
    fn take(
        &mut self,
        ram: &mut GuestRam<'_>,
        virq: &VirqWord,
        interrupt: &mut bool,
    ) -> Result<Option<Taken>, DeviceError> {
        let (max, up, stats) = (self.max_transfer, self.up, &mut self.stats);
        let handed_back = &mut self.handed_back;
        self.slot.run(move |ch| loop {
            let Some((tx, start)) = ch.tx.tx_peek_at(ram).tx()? else {
                if *handed_back {
                    *handed_back = false;
                    if let Some(bit) = ch.irq {
                        *interrupt |= virq.raise(ram, bit);
                    }
                }
                return Ok(None);
            };
            let counter = if tx.len < MIN_TRANSFER {
                Some(&mut stats.tx_runts)
            } else if tx.len > max {
                Some(&mut stats.tx_oversized)
            } else {
                None
            };
            if let Some(counter) = counter {
                *counter += 1;
                ch.tx.tx_complete(ram, &tx).tx()?;
                *handed_back = true;
                continue;
            }
            let iface = match ram.bytes(tx.addr, ID_LEN) {
                Ok(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
                _ => u16::MAX,
            };
            if iface >= MAX_INTERFACES as u16 || up & (1 << iface) == 0 {
                stats.tx_bad_iface += 1;
                ch.tx.tx_complete(ram, &tx).tx()?;
                *handed_back = true;
                continue;
            }
            stats.tx_frames += 1;
            return Ok(Some(Taken { iface, tx, start }));
        })
    }

    /// Hands the descriptor of a taken frame back to the guest.
    #[inline]
    pub(crate) fn complete_tx(
        &mut self,
        ram: &mut GuestRam<'_>,
        token: TxToken,
    ) -> Result<(), DeviceError> {
        let Some(ch) = self.slot.open_mut() else {
            return Err(self.slot.closed());
        };
        if !ch.tx.is_current_at(token.descriptor, token.serial) {
            return Err(DeviceError::StaleToken);
        }
        if let Err(error) = ch.tx.tx_complete_at(ram, token.descriptor, token.len) {
            return Err(self.slot.fault((Side::Tx, error)));
        }
        self.handed_back = true;
        Ok(())
    }

    /// Delivers a frame given as consecutive `parts` to interface `iface` of this guest.
    #[inline]
    pub(crate) fn deliver(
        &mut self,
        ram: &mut GuestRam<'_>,
        iface: u16,
        parts: &[&[u8]],
    ) -> Result<Delivery, DeviceError> {
        if !self.in_sync() {
            self.sync(ram)?;
        }
        if !self.is_up(iface) {
            // NotOpen / Dead take precedence over "interface down".
            return self.slot.run(|_| Ok(Delivery::InterfaceDown));
        }
        let Some(ch) = self.slot.open_mut() else {
            return Err(self.slot.closed());
        };
        match ch.rx.rx_fill_prefixed(ram, &iface.to_be_bytes(), parts) {
            Ok(filled) => Ok(self.count(filled)),
            Err(error) => Err(self.slot.fault((Side::Rx, error))),
        }
    }

    /// Delivers `len` bytes at `src` in this guest's own RAM to interface `iface` of this guest.
    pub(crate) fn deliver_own(
        &mut self,
        ram: &mut GuestRam<'_>,
        iface: u16,
        src: Gva,
        len: u32,
    ) -> Result<Delivery, DeviceError> {
        if !self.in_sync() {
            self.sync(ram)?;
        }
        if !self.is_up(iface) {
            // NotOpen / Dead take precedence over "interface down".
            return self.slot.run(|_| Ok(Delivery::InterfaceDown));
        }
        let id = iface.to_be_bytes();
        let filled = self
            .slot
            .run(|ch| ch.rx.rx_fill_from_own(ram, &id, src, len).rx())?;
        Ok(self.count(filled))
    }

    #[inline]
    fn count(&mut self, filled: RxFill) -> Delivery {
        match filled {
            RxFill::Filled { .. } => {
                self.stats.rx_frames += 1;
                Delivery::Delivered
            }
            other => self.count_undelivered(other),
        }
    }

    #[cold]
    #[inline(never)]
    fn count_undelivered(&mut self, filled: RxFill) -> Delivery {
        match filled {
            RxFill::Filled { .. } => {
                self.stats.rx_frames += 1;
                Delivery::Delivered
            }
            RxFill::NoBuffer => {
                self.stats.rx_no_buffer += 1;
                Delivery::NoBuffer
            }
            RxFill::TooLong { .. } => {
                self.stats.rx_too_big += 1;
                Delivery::TooBig
            }
        }
    }
}

fn sync_channel(
    ch: &mut Channel,
    ram: &mut GuestRam<'_>,
    wanted: &[Option<Mac>; MAX_INTERFACES],
    announced: &mut [Option<Mac>; MAX_INTERFACES],
) -> Result<u32, SideError> {
    let mut sent = 0;
    for id in 1..MAX_INTERFACES {
        while announced[id] != wanted[id] {
            // A changed MAC is a DELIFACE followed by a NEWIFACE.
            let (message, after) = match (announced[id], wanted[id]) {
                (Some(old), _) => (control_message(CMD_DELIFACE, id as u16, old), None),
                (None, Some(new)) => (control_message(CMD_NEWIFACE, id as u16, new), Some(new)),
                (None, None) => break,
            };
            match ch.rx.rx_fill(ram, &[&message]).rx()? {
                RxFill::Filled { .. } => {
                    sent += 1;
                    announced[id] = after;
                }
                RxFill::NoBuffer | RxFill::TooLong { .. } => return Ok(sent),
            }
        }
    }
    Ok(sent)
}
