//! Virtual ethernet (queue 3, virq 3), as `drivers/net/ethernet/mtveth.c` of the Linux guest.
//!
//! Every frame in either direction starts with a big-endian `u16` interface id followed by an
//! Ethernet frame without FCS; TX frames are padded to 60 bytes (`ETH_ZLEN`) before the id is
//! prefixed. Id 0 carries control messages from the host, `{ u32 cmd; u16 id; u8 mac[6] }`
//! (12 bytes, packed, big-endian): cmd 0 = NEWIFACE (create interface `id` with `mac`), cmd 1 =
//! DELIFACE. Data ids are 1..=7 (`MAX_IFACES` = 8 in the guest driver, id 0 reserved).

/// Queue id of virtual ethernet.
pub const VETH_QUEUE: u32 = 3;
/// Virtual interrupt (bit of the virq word) of virtual ethernet.
pub const VETH_VIRQ: u32 = 3;
/// RX buffer size of the Linux guest driver (id prefix included).
pub const VETH_BUFFER_SIZE: u32 = 1600;
/// Length of the interface-id prefix.
pub const ID_LEN: usize = 2;
/// Minimum Ethernet frame length without FCS; shorter TX frames are zero-padded.
pub const ETH_ZLEN: usize = 60;
/// Interface table size of the guest driver (ids 1..=7 usable).
pub const MAX_INTERFACES: usize = 8;
/// Control command: a new interface.
pub const CMD_NEWIFACE: u32 = 0;
/// Control command: an interface removed.
pub const CMD_DELIFACE: u32 = 1;
/// Length of a control message.
pub const CONTROL_MESSAGE_LEN: usize = 12;

/// A control message from the host (interface id 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlMessage {
    /// [`CMD_NEWIFACE`], [`CMD_DELIFACE`] or something unknown.
    pub cmd: u32,
    /// The interface it is about.
    pub id: u16,
    /// The interface's MAC address (meaningful for NEWIFACE).
    pub mac: [u8; 6],
}

impl ControlMessage {
    /// Parse the bytes after the id prefix; `None` if shorter than 12 bytes.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let b: &[u8; CONTROL_MESSAGE_LEN] = bytes.get(..CONTROL_MESSAGE_LEN)?.try_into().ok()?;
        Some(Self {
            cmd: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            id: u16::from_be_bytes([b[4], b[5]]),
            mac: [b[6], b[7], b[8], b[9], b[10], b[11]],
        })
    }

    /// The 12 wire bytes (without the id-0 prefix).
    pub fn to_bytes(&self) -> [u8; CONTROL_MESSAGE_LEN] {
        let mut b = [0; CONTROL_MESSAGE_LEN];
        b[..4].copy_from_slice(&self.cmd.to_be_bytes());
        b[4..6].copy_from_slice(&self.id.to_be_bytes());
        b[6..].copy_from_slice(&self.mac);
        b
    }
}

/// What a filled RX buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received<'a> {
    /// Shorter than the id prefix: dropped.
    Runt,
    /// A control message (id 0).
    Control(ControlMessage),
    /// Id 0 but too short for a control message: dropped.
    BadControl,
    /// A frame for interface `id`.
    Frame {
        /// Interface id.
        id: u16,
        /// The Ethernet frame.
        frame: &'a [u8],
    },
}

/// Classify the `len` bytes the host wrote into an RX buffer.
pub fn parse_received(bytes: &[u8]) -> Received<'_> {
    let Some((prefix, rest)) = bytes.split_first_chunk::<ID_LEN>() else {
        return Received::Runt;
    };
    match u16::from_be_bytes(*prefix) {
        0 => ControlMessage::parse(rest).map_or(Received::BadControl, Received::Control),
        id => Received::Frame { id, frame: rest },
    }
}

/// Total TX length (prefix included) of an Ethernet frame of `frame_len` bytes.
pub const fn tx_length(frame_len: usize) -> usize {
    ID_LEN
        + if frame_len < ETH_ZLEN {
            ETH_ZLEN
        } else {
            frame_len
        }
}

/// Write the id prefix and zero the padding of a frame of `frame_len` bytes already placed at
/// `buffer[ID_LEN..]`; returns the total length to send, or `None` if the buffer is too small.
pub fn finish_tx(buffer: &mut [u8], id: u16, frame_len: usize) -> Option<usize> {
    let total = tx_length(frame_len);
    let b = buffer.get_mut(..total)?;
    b[..ID_LEN].copy_from_slice(&id.to_be_bytes());
    b[ID_LEN + frame_len..].fill(0);
    Some(total)
}

/// What a control message changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterfaceChange {
    /// Interface `id` created with `mac`.
    Added {
        /// Interface id.
        id: u16,
        /// Its MAC address.
        mac: [u8; 6],
    },
    /// Interface `id` removed.
    Removed {
        /// Interface id.
        id: u16,
    },
    /// Ignored, as the guest driver ignores it: id out of range, NEWIFACE for an existing
    /// interface, DELIFACE for a missing one, or an unknown command.
    Ignored,
}

/// The guest's interfaces (ids 1..=7) and their MAC addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interfaces {
    macs: [Option<[u8; 6]>; MAX_INTERFACES],
}

impl Interfaces {
    /// No interfaces.
    pub const fn new() -> Self {
        Self {
            macs: [None; MAX_INTERFACES],
        }
    }

    /// Apply a control message.
    pub fn apply(&mut self, msg: &ControlMessage) -> InterfaceChange {
        let id = usize::from(msg.id);
        if id == 0 || id >= MAX_INTERFACES {
            return InterfaceChange::Ignored;
        }
        match (msg.cmd, self.macs[id]) {
            (CMD_NEWIFACE, None) => {
                self.macs[id] = Some(msg.mac);
                InterfaceChange::Added {
                    id: msg.id,
                    mac: msg.mac,
                }
            }
            (CMD_DELIFACE, Some(_)) => {
                self.macs[id] = None;
                InterfaceChange::Removed { id: msg.id }
            }
            _ => InterfaceChange::Ignored,
        }
    }

    /// The MAC address of interface `id`.
    pub fn mac(&self, id: u16) -> Option<[u8; 6]> {
        self.macs.get(usize::from(id)).copied().flatten()
    }

    /// The interface with the lowest id.
    pub fn first(&self) -> Option<(u16, [u8; 6])> {
        (1..MAX_INTERFACES).find_map(|i| self.macs[i].map(|m| (i as u16, m)))
    }

    /// Number of interfaces.
    pub fn count(&self) -> usize {
        self.macs.iter().filter(|m| m.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x11];

    #[test]
    fn control_message_layout() {
        let msg = ControlMessage {
            cmd: CMD_NEWIFACE,
            id: 1,
            mac: MAC,
        };
        assert_eq!(msg.to_bytes(), [0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0x11]);
        let mut wire = [0u8; 14];
        wire[2..].copy_from_slice(&msg.to_bytes());
        assert_eq!(parse_received(&wire), Received::Control(msg));
        assert_eq!(parse_received(&wire[..13]), Received::BadControl);
        assert_eq!(parse_received(&[0]), Received::Runt);
        assert_eq!(
            parse_received(&[0, 3, 0xAA]),
            Received::Frame {
                id: 3,
                frame: &[0xAA]
            }
        );
    }

    #[test]
    fn tx_frames_are_padded_and_prefixed() {
        let mut buf = [0xEEu8; 100];
        buf[2..16].fill(0x55);
        assert_eq!(finish_tx(&mut buf, 0x0102, 14), Some(62));
        assert_eq!(&buf[..2], &[1, 2]);
        assert!(buf[2..16].iter().all(|&b| b == 0x55));
        assert!(buf[16..62].iter().all(|&b| b == 0), "padding zeroed");
        assert_eq!(buf[62], 0xEE, "nothing written past the frame");
        assert_eq!(tx_length(1514), 1516);
        assert_eq!(finish_tx(&mut buf, 1, 99), None);
    }

    #[test]
    fn interface_table_follows_the_guest_driver() {
        let mut t = Interfaces::new();
        let new = |id| ControlMessage {
            cmd: CMD_NEWIFACE,
            id,
            mac: MAC,
        };
        let del = |id| ControlMessage {
            cmd: CMD_DELIFACE,
            id,
            mac: [0; 6],
        };
        assert_eq!(t.apply(&new(2)), InterfaceChange::Added { id: 2, mac: MAC });
        assert_eq!(t.apply(&new(2)), InterfaceChange::Ignored, "already exists");
        assert_eq!(t.apply(&new(0)), InterfaceChange::Ignored);
        assert_eq!(t.apply(&new(8)), InterfaceChange::Ignored);
        assert_eq!(
            t.apply(&ControlMessage {
                cmd: 7,
                id: 3,
                mac: MAC
            }),
            InterfaceChange::Ignored
        );
        assert_eq!(t.first(), Some((2, MAC)));
        assert_eq!(t.apply(&new(1)), InterfaceChange::Added { id: 1, mac: MAC });
        assert_eq!(t.first().map(|f| f.0), Some(1));
        assert_eq!(t.count(), 2);
        assert_eq!(t.apply(&del(1)), InterfaceChange::Removed { id: 1 });
        assert_eq!(t.apply(&del(1)), InterfaceChange::Ignored);
        assert_eq!((t.mac(1), t.mac(2), t.mac(99)), (None, Some(MAC), None));
    }
}
