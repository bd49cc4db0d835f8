//! A TFTP server in each guest model that has an address (port 69 of its endpoint), so that
//! `/tool fetch mode=tftp` can be tried in the simulator: octet mode, the `blksize` (up to
//! 1428) and `tsize` options, one transfer at a time, answering from port 69. It is written
//! here from RFC 1350, apart from the box's client (`tftp` crate), and keeps the files it is
//! sent. It serves `guest.bin` (3000 bytes: byte `i` is `i % 251`) and `huge.bin` (100 MiB of
//! the same pattern, never held whole); a name it does not have gets ERROR 1.

use std::collections::BTreeMap;

/// The largest block size it agrees to.
const MAX_BLKSIZE: usize = 1428;

/// What a file holds.
#[derive(Clone, Debug)]
enum Content {
    /// `len` bytes of the pattern.
    Pattern(u64),
    Bytes(Vec<u8>),
}

impl Content {
    fn len(&self) -> u64 {
        match self {
            Content::Pattern(len) => *len,
            Content::Bytes(b) => b.len() as u64,
        }
    }

    fn block(&self, offset: u64, size: usize) -> Vec<u8> {
        let end = (offset + size as u64).min(self.len());
        match self {
            Content::Pattern(_) => (offset..end).map(|i| (i % 251) as u8).collect(),
            Content::Bytes(b) => b[offset as usize..end as usize].to_vec(),
        }
    }
}

#[derive(Clone, Debug)]
enum Transfer {
    /// Sending `name`; `block` is in flight.
    Read {
        name: String,
        block: u16,
        blksize: usize,
        offset: u64,
    },
    /// Receiving `name`; `block` was the last acknowledged.
    Write {
        name: String,
        block: u16,
        blksize: usize,
        data: Vec<u8>,
    },
}

/// The server: its files and the transfer under way, with its client's port.
#[derive(Clone, Debug)]
pub struct TftpServer {
    files: BTreeMap<String, Content>,
    transfer: Option<(u16, Transfer)>,
}

impl Default for TftpServer {
    fn default() -> Self {
        let mut files = BTreeMap::new();
        files.insert(String::from("guest.bin"), Content::Pattern(3000));
        files.insert(String::from("huge.bin"), Content::Pattern(100 << 20));
        TftpServer {
            files,
            transfer: None,
        }
    }
}

fn error(code: u16, text: &str) -> Vec<u8> {
    let mut p = vec![0, 5];
    p.extend_from_slice(&code.to_be_bytes());
    p.extend_from_slice(text.as_bytes());
    p.push(0);
    p
}

fn data(block: u16, bytes: &[u8]) -> Vec<u8> {
    let mut p = vec![0, 3];
    p.extend_from_slice(&block.to_be_bytes());
    p.extend_from_slice(bytes);
    p
}

fn ack(block: u16) -> Vec<u8> {
    let mut p = vec![0, 4];
    p.extend_from_slice(&block.to_be_bytes());
    p
}

/// The zero-terminated strings of a request: name, mode, then option pairs.
fn strings(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

impl TftpServer {
    /// A datagram from `port`: the answers to send back to it.
    pub fn handle(&mut self, port: u16, packet: &[u8]) -> Option<Vec<u8>> {
        let opcode = u16::from_be_bytes([*packet.first()?, *packet.get(1)?]);
        let number = packet.get(2..4).map(|b| u16::from_be_bytes([b[0], b[1]]));
        match opcode {
            1 | 2 => Some(self.request(port, opcode == 2, &packet[2..])),
            3 => self.data(port, number?, &packet[4..]),
            4 => self.ack(port, number?),
            5 => {
                // The client gave up.
                self.transfer = None;
                None
            }
            _ => Some(error(4, "Illegal TFTP operation")),
        }
    }

    fn request(&mut self, port: u16, write: bool, body: &[u8]) -> Vec<u8> {
        let fields = strings(body);
        let (Some(name), Some(mode)) = (fields.first(), fields.get(1)) else {
            return error(4, "Illegal TFTP operation");
        };
        if !mode.eq_ignore_ascii_case("octet") {
            return error(0, "only octet mode");
        }
        let mut blksize = 512;
        let mut oack = vec![0, 6];
        let size = if write {
            None
        } else {
            match self.files.get(name) {
                Some(content) => Some(content.len()),
                None => return error(1, "File not found"),
            }
        };
        for pair in fields[2..].chunks(2) {
            let [option, value] = pair else { continue };
            if option.eq_ignore_ascii_case("blksize") {
                if let Ok(asked) = value.parse::<usize>() {
                    blksize = asked.clamp(8, MAX_BLKSIZE);
                    oack.extend_from_slice(format!("blksize\0{blksize}\0").as_bytes());
                }
            } else if option.eq_ignore_ascii_case("tsize") {
                let told = size.map_or_else(|| value.clone(), |s| s.to_string());
                oack.extend_from_slice(format!("tsize\0{told}\0").as_bytes());
            }
        }
        let name = name.clone();
        let transfer = if write {
            Transfer::Write {
                name,
                block: 0,
                blksize,
                data: Vec::new(),
            }
        } else {
            Transfer::Read {
                name,
                block: 0,
                blksize,
                offset: 0,
            }
        };
        self.transfer = Some((port, transfer));
        if oack.len() > 2 {
            return oack;
        }
        // No options: a write is acknowledged, a read starts with block 1.
        if write {
            ack(0)
        } else {
            self.ack(port, 0)
                .unwrap_or_else(|| error(0, "nothing to send"))
        }
    }

    fn ack(&mut self, port: u16, number: u16) -> Option<Vec<u8>> {
        let (
            client,
            Transfer::Read {
                name,
                block,
                blksize,
                offset,
            },
        ) = self.transfer.as_mut()?
        else {
            return None;
        };
        if *client != port || number != *block {
            return None;
        }
        let content = self.files.get(name.as_str())?;
        if *block > 0 {
            let sent = content.block(*offset, *blksize).len();
            *offset += sent as u64;
            if sent < *blksize {
                self.transfer = None;
                return None;
            }
        }
        *block = block.wrapping_add(1);
        Some(data(*block, &content.block(*offset, *blksize)))
    }

    fn data(&mut self, port: u16, number: u16, bytes: &[u8]) -> Option<Vec<u8>> {
        let (
            client,
            Transfer::Write {
                name,
                block,
                blksize,
                data,
            },
        ) = self.transfer.as_mut()?
        else {
            return None;
        };
        if *client != port {
            return None;
        }
        if number == *block {
            return Some(ack(number));
        }
        if number != block.wrapping_add(1) {
            return None;
        }
        data.extend_from_slice(bytes);
        *block = number;
        if bytes.len() < *blksize {
            let name = name.clone();
            let data = std::mem::take(data);
            self.files.insert(name, Content::Bytes(data));
            self.transfer = None;
        }
        Some(ack(number))
    }
}
