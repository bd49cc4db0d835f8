//! The data path of the eTSEC: receive polling, transmit queueing and reclaiming, and the
//! [`EthernetPort`] implementation.

use core::sync::atomic::{fence, Ordering};

use super::regs::*;
use super::{Etsec, EtsecMdio, PhyLink};
use crate::dma::DmaOps;
use crate::frame_copy::{copy_frame, copy_frame_parts};
use crate::mii;
use crate::mmio::Registers;
use crate::nic::{
    Counters, EthernetPort, Events, Link, MacAddress, TxError, ETHERNET_HEADER, FCS_LEN,
};

impl<R: Registers, D: DmaOps> Etsec<R, D> {
    fn queue_tx(&mut self, len: usize, fill: impl FnOnce(&mut [u8])) -> Result<(), TxError> {
        if len > self.tx.slot {
            self.counters.tx_rejected += 1;
            return Err(TxError::TooLong);
        }
        if len == 0 {
            self.counters.tx_rejected += 1;
            return Err(TxError::TooShort);
        }
        if self.tx_in_flight == self.tx.count {
            self.reclaim();
            if self.tx_in_flight == self.tx.count {
                self.counters.tx_ring_full += 1;
                return Err(TxError::RingFull);
            }
        }
        if self.tx_tail == 0 && self.tx_unflushed {
            // QEMU sends READY descriptors in ring order from the base: keep a batch from
            // wrapping.
            self.flush();
        }
        let i = self.tx_tail;
        // SAFETY: slot `i` is not in flight (tx_in_flight < count, and slots are used in ring
        // order), so the controller does not read it; the slice dies before READY is set.
        fill(unsafe { self.tx.mem.bytes_mut(self.tx.offset(i), len) });
        self.dma.write_back(self.tx.cpu(i), len);
        let d = i * BD_SIZE;
        self.tx_bd.write_be32(d + BD_POINTER, self.tx.bus(i) as u32);
        fence(Ordering::Release);
        let flags = TXBD_READY | TXBD_PADCRC | BD_LAST | BD_INTERRUPT | self.wrap(i, self.tx.count);
        self.tx_bd
            .write_be32(d + BD_STATUS, flags << 16 | len as u32);
        self.tx_tail = (i + 1) % self.tx.count;
        self.tx_in_flight += 1;
        self.tx_unflushed = true;
        self.counters.tx_frames += 1;
        self.counters.tx_bytes += len as u64;
        Ok(())
    }

    fn flush(&mut self) {
        if self.tx_unflushed {
            fence(Ordering::SeqCst);
            self.regs.write(TSTAT, TSTAT_THLT0);
            self.tx_unflushed = false;
        }
    }

    fn reclaim(&mut self) -> usize {
        self.dma.drain_device_writes();
        let mut done = 0;
        while self.tx_in_flight > 0 {
            let flags = self.tx_bd.read_be32(self.tx_clean * BD_SIZE + BD_STATUS) >> 16;
            if flags & TXBD_READY != 0 {
                break;
            }
            if flags & TXBD_ERRORS != 0 {
                self.counters.tx_errors += 1;
            }
            self.tx_clean = (self.tx_clean + 1) % self.tx.count;
            self.tx_in_flight -= 1;
            done += 1;
        }
        done
    }

    /// Whether receive descriptor `i`, found EMPTY, was passed by: the next one is complete and
    /// `i` is still EMPTY when read again. Hardware fills descriptors in ring order, so there a
    /// complete successor means `i` was completed too (the second read sees it); QEMU 10's model,
    /// when it finds the ring full, advances its pointer past the full descriptor anyway and
    /// later fills the ring from there, leaving `i` EMPTY behind it.
    fn skipped_by_the_device(&self, i: usize) -> bool {
        let next = (i + 1) % self.rx.count;
        let complete =
            |d: usize| self.rx_bd.read_be32(d * BD_SIZE + BD_STATUS) >> 16 & RXBD_EMPTY == 0;
        if !complete(next) {
            return false;
        }
        fence(Ordering::Acquire);
        !complete(i)
    }

    /// Whether the descriptor the controller fills next (`RBPTR0`) is EMPTY. A halted queue is
    /// restarted only then: QEMU 10's model, restarted onto a full descriptor, halts again
    /// with its held frame's bookkeeping four bytes further off each time (and reads outside
    /// the frame's buffer in the end); hardware would just halt again.
    fn device_next_is_empty(&self) -> bool {
        let at = u64::from(self.regs.read(RBPTR0)).wrapping_sub(self.rx_ring_bus);
        let Ok(at) = usize::try_from(at) else {
            return false;
        };
        at % BD_SIZE == 0
            && at / BD_SIZE < self.rx.count
            && self.rx_bd.read_be32(at + BD_STATUS) >> 16 & RXBD_EMPTY != 0
    }

    fn poll(&mut self, budget: usize, mut deliver: impl FnMut(&[u8])) -> usize {
        self.dma.drain_device_writes();
        let mut done = 0;
        while done < budget {
            let i = self.rx_next;
            let word = self.rx_bd.read_be32(i * BD_SIZE + BD_STATUS);
            let flags = word >> 16;
            if flags & RXBD_EMPTY != 0 {
                if !self.skipped_by_the_device(i) {
                    break;
                }
                // QEMU's model passed this descriptor by when it found the ring full: the
                // frames go on from the next one.
                self.counters.rx_skipped_descriptors += 1;
                self.rx_next = (i + 1) % self.rx.count;
                continue;
            }
            fence(Ordering::Acquire);
            let len = (word & 0xFFFF) as usize;
            let last = flags & BD_LAST != 0;
            if self.rx_discarding {
                self.rx_discarding = !last;
            } else if !last {
                self.counters.rx_too_long += 1;
                self.rx_discarding = true;
            } else if flags & RXBD_ERRORS != 0 {
                self.counters.rx_errors += 1;
            } else if len > self.rx.slot {
                self.counters.rx_bad_descriptors += 1;
            } else if len < ETHERNET_HEADER + FCS_LEN {
                self.counters.rx_runts += 1;
            } else {
                let frame = len - FCS_LEN;
                self.dma.invalidate(self.rx.cpu(i), frame);
                // SAFETY: the descriptor is not EMPTY, so the controller is done with buffer
                // `i`; it gets it back in `arm_rx` below, after the slice is gone.
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
            if self.regs.read(RSTAT) & RSTAT_QHLT0 != 0 && self.device_next_is_empty() {
                self.regs.write(RSTAT, RSTAT_QHLT0);
                self.regs.write(RSTAT, RSTAT_QHLT0);
            }
        }
        done
    }
}

impl<R: Registers, D: DmaOps> EthernetPort for Etsec<R, D> {
    fn mac_address(&self) -> MacAddress {
        self.mac
    }

    fn set_mac_address(&mut self, mac: MacAddress) {
        let (first, second) = mac.to_station_registers();
        self.regs.write(MACSTNADDR1, first);
        self.regs.write(MACSTNADDR2, second);
        self.mac = mac;
    }

    fn set_promiscuous(&mut self, on: bool) {
        let rctrl = self.regs.read(RCTRL) & !RCTRL_PROM;
        self.regs
            .write(RCTRL, rctrl | if on { RCTRL_PROM } else { 0 });
    }

    fn link(&self) -> Link {
        match self.phy {
            PhyLink::Fixed(link) => link,
            PhyLink::Mdio { address } => {
                mii::link(&EtsecMdio::new(&self.regs.0), address).unwrap_or(Link::DOWN)
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
        self.flush()
    }

    fn reclaim_tx(&mut self) -> usize {
        self.reclaim()
    }

    fn take_events(&mut self) -> Events {
        let events = self.regs.read(IEVENT);
        self.regs.write(IEVENT, events);
        if events & IEVENT_BSY != 0 {
            self.counters.rx_overruns += 1;
        }
        Events {
            rx: events & IEVENT_RX != 0,
            tx: events & IEVENT_TX != 0,
            link: false,
            rx_overrun: events & IEVENT_BSY != 0,
            error: events & IEVENT_ERRORS != 0,
        }
    }

    fn set_interrupts(&mut self, on: bool) {
        let mask = if on {
            IMASK_RX_TX | IEVENT_ERRORS
        } else {
            IEVENT_ERRORS
        };
        self.regs.write(IMASK, mask);
    }

    fn counters(&self) -> Counters {
        self.counters
    }
}
