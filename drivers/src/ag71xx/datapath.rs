//! The data path of the AG71xx: receive polling, transmit queueing and reclaiming, and the
//! [`EthernetPort`] implementation.

use core::sync::atomic::{fence, Ordering};

use super::regs::*;
use super::{Ag71xx, Ag71xxMdio, PhyLink};
use crate::dma::DmaOps;
use crate::frame_copy::{copy_frame, copy_frame_parts};
use crate::mii;
use crate::mmio::Registers;
use crate::nic::{
    Counters, EthernetPort, Events, Link, MacAddress, TxError, ETHERNET_HEADER, FCS_LEN,
};

impl<R: Registers, D: DmaOps> Ag71xx<R, D> {
    fn queue_tx(&mut self, len: usize, fill: impl FnOnce(&mut [u8])) -> Result<(), TxError> {
        if len > TX_MAX_FRAME {
            self.counters.tx_rejected += 1;
            return Err(TxError::TooLong);
        }
        if len <= 4 {
            self.counters.tx_rejected += 1;
            return Err(TxError::TooShort);
        }
        let pieces = len.div_ceil(TX_SPLIT);
        if self.tx_used + pieces > self.tx_slots {
            self.reclaim();
            if self.tx_used + pieces > self.tx_slots {
                self.counters.tx_ring_full += 1;
                return Err(TxError::RingFull);
            }
        }
        let first = self.tx_curr;
        let offset = self.tx.offset(first);
        // SAFETY: the pieces from `first` on are not the device's (tx_used + pieces fits the
        // ring, and descriptors are used in ring order), and no other slice of them exists.
        fill(unsafe { self.tx.mem.bytes_mut(offset, len) });
        self.dma.write_back(self.tx.cpu(first), len);
        let (mut at, mut left, mut k) = (0, len, 0);
        while left > 0 {
            let mut piece = left.min(TX_SPLIT);
            if left > TX_SPLIT && left <= TX_SPLIT + 4 {
                piece -= 4;
            }
            left -= piece;
            let mut ctrl = piece as u32;
            if left > 0 {
                ctrl |= DESC_MORE;
            }
            if k == 0 {
                // The device must not start on the frame before its last piece is written.
                ctrl |= DESC_EMPTY;
            }
            let d = ((first + k) % self.tx_slots) * DESC_STRIDE;
            self.tx_desc
                .write_be32(d + DESC_DATA, (self.tx.bus(first) + at as u64) as u32);
            self.tx_desc.write_be32(d + DESC_CTRL, ctrl);
            at += piece;
            k += 1;
        }
        fence(Ordering::Release);
        let d = first * DESC_STRIDE;
        let ctrl = self.tx_desc.read_be32(d + DESC_CTRL);
        self.tx_desc.write_be32(d + DESC_CTRL, ctrl & !DESC_EMPTY);
        self.tx_curr = (first + k) % self.tx_slots;
        self.tx_used += k;
        self.tx_unflushed = true;
        self.counters.tx_frames += 1;
        self.counters.tx_bytes += len as u64;
        Ok(())
    }

    fn reclaim(&mut self) -> usize {
        self.dma.drain_device_writes();
        let mut done = 0;
        while self.tx_used > 0 {
            let ctrl = self
                .tx_desc
                .read_be32(self.tx_dirty * DESC_STRIDE + DESC_CTRL);
            if ctrl & DESC_EMPTY == 0 {
                break;
            }
            self.regs.write(TX_STATUS, TX_STATUS_PS);
            self.tx_dirty = (self.tx_dirty + 1) % self.tx_slots;
            self.tx_used -= 1;
            done += 1;
        }
        done
    }

    fn poll(&mut self, budget: usize, mut deliver: impl FnMut(&[u8])) -> usize {
        self.dma.drain_device_writes();
        let mut done = 0;
        while done < budget {
            let i = self.rx_next;
            let ctrl = self.rx_desc.read_be32(i * DESC_STRIDE + DESC_CTRL);
            if ctrl & DESC_EMPTY != 0 {
                break;
            }
            fence(Ordering::Acquire);
            self.regs.write(RX_STATUS, RX_STATUS_PR);
            let len = (ctrl & DESC_PKTLEN) as usize;
            let more = ctrl & DESC_MORE != 0;
            if self.rx_discarding {
                self.rx_discarding = more;
            } else if more {
                self.counters.rx_too_long += 1;
                self.rx_discarding = true;
            } else if len > self.rx.slot {
                self.counters.rx_bad_descriptors += 1;
            } else if len < ETHERNET_HEADER + FCS_LEN {
                self.counters.rx_runts += 1;
            } else {
                let frame = len - FCS_LEN;
                self.dma.invalidate(self.rx.cpu(i), frame);
                // SAFETY: the descriptor is not EMPTY, so the device is done with buffer `i`;
                // it gets it back in `arm_rx` below, after the slice is gone.
                deliver(unsafe { self.rx.mem.bytes(self.rx.offset(i), frame) });
                self.counters.rx_frames += 1;
                self.counters.rx_bytes += frame as u64;
            }
            self.arm_rx(i);
            self.rx_next = (i + 1) % self.rx.count;
            done += 1;
        }
        if done > 0 {
            fence(Ordering::SeqCst);
        }
        // The receive engine stops when it meets a full ring: restart it.
        if self.regs.read(RX_STATUS) & RX_STATUS_OF != 0 {
            self.regs.write(RX_STATUS, RX_STATUS_OF);
            self.counters.rx_overruns += 1;
            self.regs.write(RX_CTRL, RX_CTRL_RXE);
        }
        done
    }
}

impl<R: Registers, D: DmaOps> EthernetPort for Ag71xx<R, D> {
    fn mac_address(&self) -> MacAddress {
        self.mac
    }

    fn set_mac_address(&mut self, mac: MacAddress) {
        let (first, second) = mac.to_station_registers();
        self.regs.write(MAC_ADDR1, first);
        self.regs.write(MAC_ADDR2, second);
        self.mac = mac;
    }

    fn set_promiscuous(&mut self, _on: bool) {}

    fn link(&self) -> Link {
        match self.phy {
            PhyLink::Fixed(link) => link,
            PhyLink::Mdio { address } => {
                mii::link(&Ag71xxMdio::new(&self.regs.0), address).unwrap_or(Link::DOWN)
            }
        }
    }

    fn poll_rx(&mut self, budget: usize, deliver: &mut dyn FnMut(&[u8])) -> usize {
        self.poll(budget, deliver)
    }

    fn transmit(&mut self, frame: &[u8]) -> Result<(), TxError> {
        self.queue_tx(frame.len(), |buf| copy_frame(buf, frame))
    }

    fn transmit_parts(&mut self, head: &[u8], rest: &[u8]) -> Result<(), TxError> {
        self.queue_tx(head.len() + rest.len(), |buf| {
            copy_frame_parts(buf, head, rest)
        })
    }

    fn transmit_with(
        &mut self,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), TxError> {
        self.queue_tx(len, fill)
    }

    fn flush_tx(&mut self) {
        if self.tx_unflushed {
            fence(Ordering::SeqCst);
            self.regs.write(TX_CTRL, TX_CTRL_TXE);
            self.tx_unflushed = false;
        }
    }

    fn reclaim_tx(&mut self) -> usize {
        self.reclaim()
    }

    fn take_events(&mut self) -> Events {
        let status = self.regs.read(INT_STATUS);
        if status & INT_TX_BE != 0 {
            self.regs.write(TX_STATUS, TX_STATUS_BE);
        }
        if status & INT_TX_UR != 0 {
            self.regs.write(TX_STATUS, TX_STATUS_UR);
        }
        if status & INT_RX_BE != 0 {
            self.regs.write(RX_STATUS, RX_STATUS_BE);
        }
        Events {
            rx: status & INT_RX_PR != 0,
            tx: status & INT_TX_PS != 0,
            link: false,
            rx_overrun: status & INT_RX_OF != 0,
            error: status & INT_ERRORS != 0,
        }
    }

    fn set_interrupts(&mut self, on: bool) {
        let mask = if on {
            INT_POLL | INT_ERRORS
        } else {
            INT_ERRORS
        };
        self.regs.write(INT_ENABLE, mask);
    }

    fn counters(&self) -> Counters {
        self.counters
    }
}
