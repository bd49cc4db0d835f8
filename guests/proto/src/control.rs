//! The control queue (queue 0, virq 0): 4 buffers of 256 bytes each way carrying the ASCII
//! words "restart" and "halt" (terminating NUL included), in both directions.
//!
//! The Linux guest (`arch/mips/rb/vm/setup.c`) sends `"restart"` / `"halt"` with
//! `sizeof(msg)` bytes (so with the NUL) and recognises a received message with
//! `strncmp(buf, word, len)`. Here a received message is recognised when, without its trailing
//! NULs, it is exactly one of the two words (an empty message is not recognised).

/// Queue id of the control channel.
pub const CONTROL_QUEUE: u32 = 0;
/// Virtual interrupt (bit of the virq word) of the control channel.
pub const CONTROL_VIRQ: u32 = 0;
/// Number of buffers in each direction.
pub const CONTROL_BUFFERS: usize = 4;
/// Size of each buffer.
pub const CONTROL_BUFFER_SIZE: u32 = 256;

/// A control message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlMessage {
    /// Reboot (host to guest: please reboot; guest to host: I am rebooting, restart me).
    Restart,
    /// Power off (host to guest: please halt; guest to host: I halted, stop me).
    Halt,
}

impl ControlMessage {
    /// The bytes sent on the wire, NUL included.
    pub const fn wire(self) -> &'static [u8] {
        match self {
            Self::Restart => b"restart\0",
            Self::Halt => b"halt\0",
        }
    }

    /// Recognise a received message.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        match &bytes[..end] {
            b"restart" => Some(Self::Restart),
            b"halt" => Some(Self::Halt),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for m in [ControlMessage::Restart, ControlMessage::Halt] {
            assert_eq!(ControlMessage::parse(m.wire()), Some(m));
        }
        assert_eq!(ControlMessage::Restart.wire().len(), 8);
        assert_eq!(
            ControlMessage::parse(b"halt"),
            Some(ControlMessage::Halt),
            "without NUL"
        );
        assert_eq!(
            ControlMessage::parse(b"halt\0\0\0"),
            Some(ControlMessage::Halt)
        );
        for other in [
            &b""[..],
            b"\0",
            b"hal",
            b"halted",
            b"Restart\0",
            b"restart now",
        ] {
            assert_eq!(ControlMessage::parse(other), None, "{other:?}");
        }
    }
}
