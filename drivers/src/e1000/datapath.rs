//! The data path of the e1000: receive polling, transmit queueing and reclaiming, and the
//! [`EthernetPort`] implementation.

use core::sync::atomic::{fence, Ordering};

use super::regs::*;
use super::E1000;
use crate::dma::DmaOps;
use crate::frame_copy::{copy_frame, copy_frame_parts};
use crate::mmio::Registers;
use crate::nic::{
    Counters, EthernetPort, Events, Link, MacAddress, Speed, TxError, ETHERNET_HEADER,
};

/// `i` back to 0 at the ring's end (`i` is at most `count`): no division on the frame path.
#[inline(always)]
fn wrap(i: usize, count: usize) -> usize {
    if i == count {
        0
    } else {
        i
    }
}

impl<R: Registers, D: DmaOps> E1000<R, D> {
    /// Copy a frame into the next transmit slot and describe it to the device (the doorbell
    /// is [`EthernetPort::flush_tx`]). Inlined into `transmit`: one call less per frame.
    #[inline(always)]
    fn queue_tx(&mut self, len: usize, fill: impl FnOnce(&mut [u8])) -> Result<(), TxError> {
        if len > self.tx.slot || len > TX_MAX_LENGTH {
            self.counters.tx_rejected += 1;
            return Err(TxError::TooLong);
        }
        if len == 0 {
            self.counters.tx_rejected += 1;
            return Err(TxError::TooShort);
        }
        let next = wrap(self.tx_tail + 1, self.tx.count);
        if next == self.tx_clean {
            self.reclaim();
            if next == self.tx_clean {
                self.counters.tx_ring_full += 1;
                return Err(TxError::RingFull);
            }
        }
        let i = self.tx_tail;
        // SAFETY: slot `i` is not owned by the device (it lies outside tx_clean..tx_tail) and no
        // other slice of it exists; the slice dies before the descriptor is handed over.
        fill(unsafe { self.tx.mem.bytes_mut(self.tx.offset(i), len) });
        self.dma.write_back(self.tx.cpu(i), len);
        // The buffer's address was written at setup and the device never changes it.
        let d = i * DESCRIPTOR_SIZE;
        let command = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
        self.tx_desc
            .write_le32(d + DESC_WORD2, len as u32 | command);
        self.tx_desc.write_le32(d + DESC_WORD3, 0);
        self.tx_tail = next;
        // At most a ring of frames of at most TX_MAX_LENGTH bytes each between doorbells.
        self.tx_queued += 1;
        self.tx_queued_bytes += len as u32;
        Ok(())
    }

    fn reclaim(&mut self) -> usize {
        self.dma.drain_device_writes();
        let mut done = 0;
        while self.tx_clean != self.tx_tail {
            let d = self.tx_clean * DESCRIPTOR_SIZE;
            let status = self.tx_desc.read_le32(d + DESC_WORD3);
            if status & TXD_STAT_DD == 0 {
                break;
            }
            if status & TXD_STAT_ERRORS != 0 {
                self.counters.tx_errors += 1;
            }
            self.tx_clean = wrap(self.tx_clean + 1, self.tx.count);
            done += 1;
        }
        done
    }

    fn poll(&mut self, budget: usize, mut deliver: impl FnMut(&[u8])) -> usize {
        self.dma.drain_device_writes();
        let mut done = 0;
        // Frames and bytes handed up, added to the 64-bit counters once per poll.
        let (mut frames, mut bytes) = (0usize, 0usize);
        while done < budget {
            let i = self.rx_next;
            let d = i * DESCRIPTOR_SIZE;
            let word3 = self.rx_desc.read_le32(d + DESC_WORD3);
            if word3 & RXD_STAT_DD == 0 {
                break;
            }
            // The rest of the descriptor and the buffer after its DD bit.
            fence(Ordering::Acquire);
            let len = (self.rx_desc.read_le32(d + DESC_WORD2) & 0xFFFF) as usize;
            let end_of_frame = word3 & RXD_STAT_EOP != 0;
            let errors = (word3 >> 8) & RXD_ERR_FRAME;
            if self.rx_discarding {
                self.rx_discarding = !end_of_frame;
            } else if !end_of_frame {
                self.counters.rx_too_long += 1;
                self.rx_discarding = true;
            } else if errors != 0 {
                self.counters.rx_errors += 1;
            } else if len > self.rx.slot {
                self.counters.rx_bad_descriptors += 1;
            } else if len < ETHERNET_HEADER {
                self.counters.rx_runts += 1;
            } else {
                self.dma.invalidate(self.rx.cpu(i), len);
                // SAFETY: descriptor `i` is done (DD) and is not given back to the device until
                // `rearm_rx` below, after the slice is gone.
                deliver(unsafe { self.rx.mem.bytes(self.rx.offset(i), len) });
                frames += 1;
                bytes += len;
            }
            self.rearm_rx(i);
            self.rx_next = wrap(i + 1, self.rx.count);
            done += 1;
        }
        self.counters.rx_frames += frames as u64;
        self.counters.rx_bytes += bytes as u64;
        if done > 0 {
            fence(Ordering::SeqCst);
            let tail = self.rx_next.checked_sub(1).unwrap_or(self.rx.count - 1);
            self.regs.write(RDT, tail as u32);
        }
        done
    }
}

impl<R: Registers, D: DmaOps> EthernetPort for E1000<R, D> {
    fn mac_address(&self) -> MacAddress {
        self.mac
    }

    fn set_mac_address(&mut self, mac: MacAddress) {
        let m = mac.0;
        self.regs
            .write(RAL0, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
        self.regs
            .write(RAH0, u32::from_le_bytes([m[4], m[5], 0, 0]) | RAH_AV);
        self.mac = mac;
    }

    fn set_promiscuous(&mut self, on: bool) {
        if on {
            self.rctl |= RCTL_UPE | RCTL_MPE;
        } else {
            self.rctl = (self.rctl & !RCTL_UPE) | RCTL_MPE;
        }
        self.regs.write(RCTL, self.rctl);
    }

    fn link(&self) -> Link {
        let status = self.regs.read(STATUS);
        if status & STATUS_LU == 0 {
            return Link::DOWN;
        }
        let speed = match (status >> STATUS_SPEED_SHIFT) & 3 {
            0 => Speed::Mbps10,
            1 => Speed::Mbps100,
            _ => Speed::Mbps1000,
        };
        Link {
            up: true,
            speed: Some(speed),
            full_duplex: status & STATUS_FD != 0,
        }
    }

    fn poll_rx(&mut self, budget: usize, deliver: &mut dyn FnMut(&[u8])) -> usize {
        self.poll(budget, deliver)
    }

    /// Inlined into the board's port (`transmit_reclaiming`): one call less per frame (a hint
    /// alone left it out of line once the port's adapter became generic: 26 instructions more
    /// a bridged frame).
    #[inline(always)]
    fn transmit(&mut self, frame: &[u8]) -> Result<(), TxError> {
        self.queue_tx(frame.len(), |buf| copy_frame(buf, frame))
    }

    /// As [`Self::transmit`], inlined into the port's `transmit_parts_reclaiming`.
    #[inline(always)]
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
        if self.tx_queued != 0 {
            fence(Ordering::SeqCst);
            self.regs.write(TDT, self.tx_tail as u32);
            self.counters.tx_frames += u64::from(self.tx_queued);
            self.counters.tx_bytes += u64::from(self.tx_queued_bytes);
            self.tx_queued = 0;
            self.tx_queued_bytes = 0;
        }
    }

    fn reclaim_tx(&mut self) -> usize {
        self.reclaim()
    }

    fn take_events(&mut self) -> Events {
        let cause = self.regs.read(ICR);
        if cause & INT_RXO != 0 {
            self.counters.rx_overruns += 1;
        }
        Events {
            rx: cause & (INT_RXT0 | INT_RXDMT0) != 0,
            tx: cause & (INT_TXDW | INT_TXQE) != 0,
            link: cause & INT_LSC != 0,
            rx_overrun: cause & INT_RXO != 0,
            error: cause & INT_RXSEQ != 0,
        }
    }

    fn set_interrupts(&mut self, on: bool) {
        if on {
            self.regs.write(IMS, INT_RX_TX | INT_LSC);
        } else {
            self.regs.write(IMC, INT_RX_TX);
        }
    }

    /// The counters, with the frames queued since the last doorbell.
    fn counters(&self) -> Counters {
        let mut c = self.counters;
        c.tx_frames += u64::from(self.tx_queued);
        c.tx_bytes += u64::from(self.tx_queued_bytes);
        c
    }
}
