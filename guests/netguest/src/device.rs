//! smoltcp's `Device` over one interface of the virtual ethernet queue.

use alloc::vec;

use mr_guest::veth::{RxFrame, Veth, VethTx};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Largest Ethernet frame (without FCS) sent or expected.
pub const MTU: usize = 1514;

/// Interface `id` of `veth`.
pub struct VethDevice<'a> {
    /// The queue.
    pub veth: &'a mut Veth,
    /// The interface id frames are sent and received on.
    pub id: u16,
}

/// A received frame.
pub struct RxToken<'a>(RxFrame<'a>);

/// Room for one frame to send.
pub struct TxToken<'a> {
    tx: &'a mut VethTx,
    id: u16,
}

impl phy::Device for VethDevice<'_> {
    type RxToken<'b>
        = RxToken<'b>
    where
        Self: 'b;
    type TxToken<'b>
        = TxToken<'b>
    where
        Self: 'b;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let Veth { rx, tx } = &mut *self.veth;
        let frame = rx.receive_on(self.id)?;
        Some((RxToken(frame), TxToken { tx, id: self.id }))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        let tx = &mut self.veth.tx;
        tx.can_send().then_some(TxToken { tx, id: self.id })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MTU;
        // No burst limit: smoltcp would clamp the TCP window it advertises to burst x MSS
        // (one segment for a burst of 1, a 10 ms delayed acknowledgement per segment). The
        // window of a transfer (`tcp::RX_BUFFER`, 22 segments) fits the 32 RX slots.
        caps.max_burst_size = None;
        caps
    }
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0.data())
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut f = Some(f);
        match self
            .tx
            .send(self.id, len, |buf| (f.take().expect("called once"))(buf))
        {
            Ok(r) => r,
            // Every slot became busy or the frame is too long: build it and drop it.
            Err(_) => (f.take().expect("not called"))(&mut vec![0u8; len]),
        }
    }
}
