//! Queue 0, the control channel: "restart" and "halt", in both directions.
//!
//! Guest side (`arch/mips/rb/vm/setup.c`, `arch/powerpc/platforms/85xx/metarouter.c`): four
//! 256-byte buffers each way. The guest sends `"restart"` / `"halt"` with their NUL
//! (`send_message(msg, sizeof(msg))`) when it reboots or powers off itself; it takes a host
//! message as a request when `strncmp(buf, "restart", len) == 0` (or `"halt"`) and signals its
//! init (SIGINT to reboot, SIGWINCH to halt). The host sends the same words, NUL included.

use crate::fault::DeviceError;
use crate::queue::{OnSide, Slot};
use crate::ring::RxFill;
use guest_mem::GuestRam;

/// A control word, in either direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlWord {
    /// Reboot: the host asks the guest to reboot, or the guest says it is rebooting.
    Restart,
    /// Power off: the host asks the guest to halt, or the guest says it has halted.
    Halt,
}

/// Longest message prefix looked at when parsing (the words are short; the rest is ignored).
const PARSE_WINDOW: usize = 16;

impl ControlWord {
    /// The bytes the host sends, NUL included, as the guest's own messages are.
    pub const fn message(self) -> &'static [u8] {
        match self {
            ControlWord::Restart => b"restart\0",
            ControlWord::Halt => b"halt\0",
        }
    }

    /// Parses a message from the guest: the word up to the first NUL (or the end).
    pub fn parse(message: &[u8]) -> Option<Self> {
        let head = &message[..message.len().min(PARSE_WINDOW)];
        let word = match head.iter().position(|&b| b == 0) {
            Some(nul) => &head[..nul],
            None if message.len() <= PARSE_WINDOW => head,
            None => return None,
        };
        match word {
            b"restart" => Some(ControlWord::Restart),
            b"halt" => Some(ControlWord::Halt),
            _ => None,
        }
    }
}

/// Queue 0 of one guest.
#[derive(Debug)]
pub(crate) struct Control {
    pub(crate) slot: Slot,
    /// Guest messages that were neither "restart" nor "halt".
    pub(crate) unknown: u64,
    /// Messages were handed back since virq 0 was last raised for that (a guest waiting for a
    /// free descriptor sleeps in `wait` until an interrupt).
    pub(crate) handed_back: bool,
}

impl Control {
    pub(crate) const fn new() -> Self {
        Self {
            slot: Slot::new(crate::abi::QueueId::Control),
            unknown: 0,
            handed_back: false,
        }
    }

    /// Puts `word` into the guest's next posted RX buffer; `Ok(false)` if none is posted.
    pub(crate) fn send(
        &mut self,
        ram: &mut GuestRam<'_>,
        word: ControlWord,
    ) -> Result<bool, DeviceError> {
        self.slot.run(|ch| {
            let filled = ch.rx.rx_fill(ram, &[word.message()]).rx()?;
            Ok(matches!(filled, RxFill::Filled { .. }))
        })
    }

    /// Consumes the guest's messages until one is a control word (returned) or none is left;
    /// unrecognised messages are consumed and counted.
    pub(crate) fn poll(
        &mut self,
        ram: &mut GuestRam<'_>,
    ) -> Result<Option<ControlWord>, DeviceError> {
        let (unknown, handed_back) = (&mut self.unknown, &mut self.handed_back);
        self.slot.run(|ch| {
            for _ in 0..ch.tx.entries() {
                let Some(tx) = ch.tx.tx_peek(ram).tx()? else {
                    return Ok(None);
                };
                let word = ram.bytes(tx.addr, tx.len).ok().and_then(ControlWord::parse);
                ch.tx.tx_complete(ram, &tx).tx()?;
                *handed_back = true;
                match word {
                    Some(word) => return Ok(Some(word)),
                    None => *unknown += 1,
                }
            }
            Ok(None)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_the_guest_messages() {
        assert_eq!(ControlWord::parse(b"restart\0"), Some(ControlWord::Restart));
        assert_eq!(ControlWord::parse(b"halt\0"), Some(ControlWord::Halt));
        assert_eq!(ControlWord::parse(b"halt"), Some(ControlWord::Halt));
        assert_eq!(
            ControlWord::parse(b"halt\0garbage after the nul......"),
            Some(ControlWord::Halt)
        );
        assert_eq!(ControlWord::parse(b"hal"), None);
        assert_eq!(ControlWord::parse(b"halting\0"), None);
        assert_eq!(ControlWord::parse(b""), None);
        assert_eq!(ControlWord::parse(&[b'x'; 300]), None);
    }

    #[test]
    fn messages_include_the_nul() {
        assert_eq!(ControlWord::Restart.message().len(), 8);
        assert_eq!(ControlWord::Halt.message().len(), 5);
    }
}
