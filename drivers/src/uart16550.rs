//! National Semiconductor 16550 UART, the console on every supported board.
//!
//! Output is polled (the console is the hypervisor's log and must work in a panic). Input is
//! interrupt-driven when the board wires the UART's interrupt, else polled: [`Uart16550::receive`]
//! drains the receive FIFO either way and reports receiver overruns (lost input).
//!
//! Boards differ only in how the eight registers are laid out: byte registers one byte apart
//! (PC-style SuperIO on malta, the e500 DUART) or one register per 32-bit word with the value in
//! the low byte (AR71xx on the RB400).

use crate::mmio::Mmio;

/// How the UART's registers sit in its MMIO window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegLayout {
    /// Register `i` is the byte at offset `i`.
    Bytes,
    /// Register `i` is the 32-bit big-endian word at offset `4 * i`, value in its low byte.
    Words32,
}

impl RegLayout {
    /// Bytes of MMIO the eight registers occupy.
    pub const fn window_len(self) -> usize {
        match self {
            RegLayout::Bytes => 8,
            RegLayout::Words32 => 32,
        }
    }
}

// Register indices (DLAB = 0 unless noted).
const RBR_THR: usize = 0; // receive buffer / transmit holding; DLL when DLAB = 1
const IER: usize = 1; // interrupt enable; DLM when DLAB = 1
const LCR: usize = 3; // line control
const MCR: usize = 4; // modem control
const LSR: usize = 5; // line status

const IER_RX_AVAILABLE: u8 = 1 << 0;
const LCR_8N1: u8 = 0x03;
const LCR_DLAB: u8 = 0x80;
const MCR_DTR_RTS_OUT2: u8 = 0x0B;
const LSR_DATA_READY: u8 = 1 << 0;
const LSR_OVERRUN: u8 = 1 << 1;
const LSR_THR_EMPTY: u8 = 1 << 5;

/// What the receiver held at one look ([`Uart16550::receive`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The next received byte, if any.
    pub byte: Option<u8>,
    /// The receiver overran since the last look: bytes arrived while its FIFO was full and
    /// were lost (LSR.OE, which reading LSR clears).
    pub overrun: bool,
}

impl From<Received> for (Option<u8>, bool) {
    fn from(r: Received) -> Self {
        (r.byte, r.overrun)
    }
}

/// One 16550-compatible UART.
#[derive(Clone, Copy, Debug)]
pub struct Uart16550 {
    regs: Mmio,
    layout: RegLayout,
}

impl Uart16550 {
    /// `regs` must cover [`RegLayout::window_len`] bytes.
    pub fn new(regs: Mmio, layout: RegLayout) -> Self {
        Self { regs, layout }
    }

    fn read(&self, reg: usize) -> u8 {
        match self.layout {
            RegLayout::Bytes => self.regs.read8(reg),
            RegLayout::Words32 => self.regs.read_be32(reg * 4) as u8,
        }
    }

    fn write(&self, reg: usize, value: u8) {
        match self.layout {
            RegLayout::Bytes => self.regs.write8(reg, value),
            RegLayout::Words32 => self.regs.write_be32(reg * 4, u32::from(value)),
        }
    }

    /// 8N1 with interrupts off. When `clock_hz` is known the divisor for `baud` is programmed;
    /// otherwise the rate the boot loader left is kept. The FIFO setting is left alone:
    /// changing it would discard bytes that arrived before the hypervisor started (a pasted
    /// script), and a console does not need it.
    pub fn init(&self, clock_hz: Option<u32>, baud: u32) {
        self.write(IER, 0);
        if let Some(clock) = clock_hz {
            let divisor = (clock + 8 * baud) / (16 * baud);
            self.write(LCR, LCR_DLAB);
            self.write(RBR_THR, divisor as u8);
            self.write(IER, (divisor >> 8) as u8);
        }
        self.write(LCR, LCR_8N1);
        self.write(MCR, MCR_DTR_RTS_OUT2);
    }

    /// Raise (or stop raising) the UART's interrupt while received data is waiting.
    pub fn set_rx_interrupt(&self, enable: bool) {
        self.write(IER, if enable { IER_RX_AVAILABLE } else { 0 });
    }

    /// Send one byte, waiting for room in the transmitter.
    pub fn write_byte(&self, byte: u8) {
        while self.read(LSR) & LSR_THR_EMPTY == 0 {
            core::hint::spin_loop();
        }
        self.write(RBR_THR, byte);
    }

    /// The next received byte, if any (an overrun goes unreported: see [`Uart16550::receive`]).
    pub fn read_byte(&self) -> Option<u8> {
        self.receive().byte
    }

    /// The next received byte, if any, and whether the receiver lost bytes since the last look.
    pub fn receive(&self) -> Received {
        let lsr = self.read(LSR);
        let byte = (lsr & LSR_DATA_READY != 0).then(|| self.read(RBR_THR));
        Received {
            byte,
            overrun: lsr & LSR_OVERRUN != 0,
        }
    }
}
