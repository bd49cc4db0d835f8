//! `tcp-loop`: a TCP transfer inside the guest, between two sockets of a second smoltcp
//! interface on a loopback device, with the settings of a transfer on the vif ([`crate::tcp`]).
//!
//! The device is a ring of [`SLOTS`] preallocated frames of [`MTU`] bytes, as many as the
//! virtual interface's TX ring, with the vif device's capabilities (Ethernet, MTU 1514, no
//! burst limit, checksums computed and checked): smoltcp writes a frame into a slot and
//! reads it back from there, with no allocation or copy per frame. The only work missing
//! against a transfer between two guests is the hypervisor's (the switch, the copy from one
//! guest's TX buffer to the other's RX buffer, interrupts, scheduling), which is what the ratio
//! of the two rates measures. (smoltcp's own `phy::Loopback` allocates and zeroes a buffer per
//! frame, work the vif path does not do.)

use alloc::vec;
use alloc::vec::Vec;

use mr_guest::proto::transfer::Transfer;
use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

use crate::device::MTU;
use crate::net::{now, poll_fully};
use crate::tcp::{self, Sink, Source, SourceEnd};

/// Frames the ring holds (the vif's TX slots).
pub const SLOTS: usize = mr_guest::veth::TX_SLOTS;
const ADDRESS: [u8; 4] = [127, 0, 0, 1];
const PORT: u16 = 5001;

/// A ring of frames: what is sent is received, in order. It has a slot more than it lets
/// fill, so the answer to a received frame never lands in the slot being read.
pub struct FrameRing {
    frames: Vec<[u8; MTU]>,
    lengths: [usize; SLOTS + 1],
    head: usize,
    count: usize,
}

impl FrameRing {
    fn new() -> Self {
        Self {
            frames: vec![[0; MTU]; SLOTS + 1],
            lengths: [0; SLOTS + 1],
            head: 0,
            count: 0,
        }
    }

    fn tail(&self) -> usize {
        (self.head + self.count) % (SLOTS + 1)
    }
}

/// The oldest frame.
pub struct RxToken<'a>(&'a [u8]);

/// The slot after the newest frame; it joins the ring when written.
pub struct TxToken<'a> {
    frame: &'a mut [u8; MTU],
    length: &'a mut usize,
    count: &'a mut usize,
}

impl phy::Device for FrameRing {
    type RxToken<'b> = RxToken<'b>;
    type TxToken<'b> = TxToken<'b>;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        if self.count == 0 {
            return None;
        }
        let oldest = self.head;
        self.head = (self.head + 1) % (SLOTS + 1);
        self.count -= 1;
        let tail = self.tail();
        let rx_len = self.lengths[oldest];
        let (rx, tx) = pair_mut(&mut self.frames, oldest, tail);
        Some((
            RxToken(&rx[..rx_len]),
            TxToken {
                frame: tx,
                length: &mut self.lengths[tail],
                count: &mut self.count,
            },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        if self.count == SLOTS {
            return None;
        }
        let tail = self.tail();
        Some(TxToken {
            frame: &mut self.frames[tail],
            length: &mut self.lengths[tail],
            count: &mut self.count,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MTU;
        caps.max_burst_size = None;
        caps
    }
}

/// Two distinct frames of `frames`: `a` to read, `b` to write.
fn pair_mut(frames: &mut [[u8; MTU]], a: usize, b: usize) -> (&[u8; MTU], &mut [u8; MTU]) {
    if a < b {
        let (lo, hi) = frames.split_at_mut(b);
        (&lo[a], &mut hi[0])
    } else {
        let (lo, hi) = frames.split_at_mut(a);
        (&hi[0], &mut lo[b])
    }
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(MTU);
        *self.length = len;
        *self.count += 1;
        f(&mut self.frame[..len])
    }
}

/// Send `bytes` from one socket to the other through the ring: the sender's measure (as
/// `tcp-send`'s) when the sink counted every byte, or how it failed.
pub fn run(bytes: u64) -> Result<Transfer, SourceEnd> {
    let mut ring = FrameRing::new();
    let hw = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
    let mut iface = Interface::new(Config::new(HardwareAddress::Ethernet(hw)), &mut ring, now());
    let [a, b, c, d] = ADDRESS;
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::v4(a, b, c, d), 8));
    });
    let mut sockets = SocketSet::new(vec![]);
    let sink_handle = sockets.add(tcp::socket());
    let source_handle = sockets.add(tcp::socket());
    let mut sink = Sink::new(PORT);
    sink.step(sockets.get_mut(sink_handle), uptime_us());
    let to = (IpAddress::v4(a, b, c, d), PORT);
    let mut source = Source::start(
        sockets.get_mut(source_handle),
        iface.context(),
        to,
        49152,
        bytes,
        uptime_us(),
    )
    .map_err(|_| SourceEnd::Failed(0))?;
    let mut ended: Option<(SourceEnd, u64)> = None;
    let mut sunk: Option<u64> = None;
    loop {
        poll_fully(&mut iface, &mut ring, &mut sockets);
        let now_us = uptime_us();
        if let Some(served) = sink.step(sockets.get_mut(sink_handle), now_us) {
            sunk.get_or_insert(served.transfer.bytes);
        }
        if ended.is_none() {
            ended = source
                .step(sockets.get_mut(source_handle), now_us)
                .map(|e| (e, now_us));
        }
        match (ended, sunk) {
            (Some((SourceEnd::Done(t), _)), Some(n)) if n == bytes => return Ok(t),
            (Some((SourceEnd::Done(_), _)), Some(n)) => return Err(SourceEnd::Failed(n)),
            (Some((SourceEnd::Done(_), at)), None) if now_us - at > tcp::STALL_US => {
                return Err(SourceEnd::Failed(0))
            }
            (Some((SourceEnd::Done(_), _)), None) | (None, _) => {}
            (Some((end, _)), _) => return Err(end),
        }
    }
}

fn uptime_us() -> u64 {
    mr_guest::timer::uptime_us()
}
