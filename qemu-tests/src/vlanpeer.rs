//! An 802.1Q VLAN peer in user space, for kernels without VLAN interfaces (no `8021q`: `ip link
//! add ... type vlan` fails with "Unknown device type"): an `AF_PACKET` socket on a device sends
//! and receives frames tagged with a VLAN id, and speaks enough IPv4 for the tests: ARP (asking
//! and answering) and ICMP echo (asking and answering). Run inside a namespace by `netpeer`:
//!
//! - `netpeer vlan-ping DEV VID MY_IP TARGET COUNT`: find TARGET's MAC (tagged ARP), send COUNT
//!   tagged echo requests (one every 200 ms, each waited for a second), answering ARP and echo
//!   for MY_IP meanwhile; print `vlan-ping SENT RECEIVED`. VID 0 sends untagged frames and takes
//!   only untagged ones.
//! - `netpeer vlan-serve DEV VID MY_IP SECONDS`: answer tagged ARP requests and echo requests
//!   for MY_IP for SECONDS; print `vlan-serve ANSWERED`.
//!
//! The kernel takes a received tag out of the frame before a packet socket sees it
//! (`skb_vlan_untag`); it comes back as `PACKET_AUXDATA` (`tp_vlan_tci`), which is read here.

use std::ffi::CString;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

type Mac = [u8; 6];

/// A raw socket on one device.
struct RawSocket {
    fd: libc::c_int,
    mac: Mac,
}

fn os_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

impl RawSocket {
    fn open(dev: &str) -> Result<RawSocket, String> {
        let name = CString::new(dev).map_err(|e| e.to_string())?;
        // SAFETY: `name` is a NUL-terminated string that lives across the call.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if index == 0 {
            return Err(os_error(dev));
        }
        let proto = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: plain system call with constant arguments.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, libc::c_int::from(proto)) };
        if fd < 0 {
            return Err(os_error("socket(AF_PACKET)"));
        }
        // Owned from here: closed when dropped, also on the errors below.
        let mut socket = RawSocket { fd, mac: [0; 6] };
        // SAFETY: an all-zero `sockaddr_ll` is valid; the fields set are plain integers.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = proto;
        addr.sll_ifindex = index as libc::c_int;
        // SAFETY: `addr` is a valid `sockaddr_ll` of the length given.
        let bound = unsafe {
            libc::bind(
                fd,
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if bound < 0 {
            return Err(os_error("bind"));
        }
        let one: libc::c_int = 1;
        let timeout = libc::timeval {
            tv_sec: 0,
            tv_usec: 50_000,
        };
        // SAFETY: the option values point at live values of the lengths given.
        let set = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_PACKET,
                libc::PACKET_AUXDATA,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ) | libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&timeout as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if set < 0 {
            return Err(os_error("setsockopt"));
        }
        let text = std::fs::read_to_string(format!("/sys/class/net/{dev}/address"))
            .map_err(|e| format!("{dev}'s address: {e}"))?;
        for (byte, hex) in socket.mac.iter_mut().zip(text.trim().split(':')) {
            *byte = u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
        }
        Ok(socket)
    }

    /// Send `frame` (untagged) tagged with `vid` (0: as it is).
    fn send(&self, frame: &[u8], vid: u16) -> Result<(), String> {
        let mut out = frame[..12].to_vec();
        if vid != 0 {
            out.extend_from_slice(&[0x81, 0x00]);
            out.extend_from_slice(&vid.to_be_bytes());
        }
        out.extend_from_slice(&frame[12..]);
        // SAFETY: `out` is a live buffer of the length given.
        let n = unsafe { libc::send(self.fd, out.as_ptr().cast(), out.len(), 0) };
        if n < 0 {
            return Err(os_error("send"));
        }
        Ok(())
    }

    /// The next frame received (not one of ours), untagged, with its VLAN id (0: untagged);
    /// `None` after 50 ms without one.
    fn receive(&self) -> Option<(Vec<u8>, u16)> {
        let mut buf = [0u8; 2048];
        let mut control = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: an all-zero `msghdr` is valid; its pointers are set to live buffers below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: `msg` points at `iov` (over `buf`) and `control`, all live and writable.
        let n = unsafe { libc::recvmsg(self.fd, &mut msg, 0) };
        let n = usize::try_from(n).ok()?;
        let mut vid = 0;
        // SAFETY: the control messages are walked with the kernel's macros over the buffer the
        // kernel filled (`msg` still describes it).
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_PACKET
                    && (*cmsg).cmsg_type == libc::PACKET_AUXDATA
                {
                    let aux: libc::tpacket_auxdata =
                        std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                    if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 {
                        vid = aux.tp_vlan_tci & 0x0FFF;
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        let mut frame = buf[..n].to_vec();
        if frame.len() >= 18 && frame[12..14] == [0x81, 0x00] {
            vid = u16::from_be_bytes([frame[14], frame[15]]) & 0x0FFF;
            frame.drain(12..16);
        }
        (frame.len() >= 14 && frame[6..12] != self.mac).then_some((frame, vid))
    }
}

impl Drop for RawSocket {
    fn drop(&mut self) {
        // SAFETY: `fd` is this socket's, closed once.
        unsafe { libc::close(self.fd) };
    }
}

/// An ARP frame (`op` 1 request, 2 reply).
fn arp(op: u16, sender: (Mac, Ipv4Addr), target: (Mac, Ipv4Addr), dst: Mac) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&sender.0);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4]);
    f.extend_from_slice(&op.to_be_bytes());
    f.extend_from_slice(&sender.0);
    f.extend_from_slice(&sender.1.octets());
    f.extend_from_slice(&target.0);
    f.extend_from_slice(&target.1.octets());
    f
}

fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ICMP echo frame (`kind` 8 request, 0 reply).
fn echo(
    kind: u8,
    from: (Mac, Ipv4Addr),
    to: (Mac, Ipv4Addr),
    id_seq: [u8; 4],
    data: &[u8],
) -> Vec<u8> {
    let mut icmp = vec![kind, 0, 0, 0];
    icmp.extend_from_slice(&id_seq);
    icmp.extend_from_slice(data);
    let sum = checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let total = (20 + icmp.len()) as u16;
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 1, 0, 0]);
    ip.extend_from_slice(&from.1.octets());
    ip.extend_from_slice(&to.1.octets());
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    let mut f = to.0.to_vec();
    f.extend_from_slice(&from.0);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&icmp);
    f
}

/// What a received frame is, for this peer.
enum Seen {
    /// An ARP reply: the sender's address and MAC.
    ArpReply(Ipv4Addr, Mac),
    /// An echo reply from an address: its identifier and sequence.
    EchoReply(Ipv4Addr, [u8; 4]),
    Other,
}

/// The peer: its socket, VLAN and address.
struct Peer {
    socket: RawSocket,
    vid: u16,
    ip: Ipv4Addr,
    answered: u32,
}

impl Peer {
    /// Take one frame (if one comes within 50 ms): answer what asks for our address, say what
    /// it was.
    fn step(&mut self) -> Result<Seen, String> {
        let Some((f, vid)) = self.socket.receive() else {
            return Ok(Seen::Other);
        };
        // Only what is for this station: its VLAN, and its MAC or broadcast (the tap sees every
        // frame on the wire, as a station in promiscuous mode would).
        if vid != self.vid || (f[..6] != self.socket.mac && f[..6] != [0xFF; 6]) {
            return Ok(Seen::Other);
        }
        let src: Mac = f[6..12].try_into().expect("6 bytes");
        let me = (self.socket.mac, self.ip);
        let ip_at = |at: usize| Ipv4Addr::new(f[at], f[at + 1], f[at + 2], f[at + 3]);
        match (&f[12..14], f.len()) {
            ([0x08, 0x06], 42..) => {
                let (op, sender, target) =
                    (u16::from_be_bytes([f[20], f[21]]), ip_at(28), ip_at(38));
                if op == 1 && target == self.ip {
                    self.socket
                        .send(&arp(2, me, (src, sender), src), self.vid)?;
                    self.answered += 1;
                } else if op == 2 {
                    return Ok(Seen::ArpReply(sender, src));
                }
            }
            ([0x08, 0x00], 42..) if f[23] == 1 && ip_at(30) == self.ip => {
                let ihl = usize::from(f[14] & 0x0F) * 4;
                let icmp = &f[14 + ihl..];
                let id_seq: [u8; 4] = icmp[4..8].try_into().expect("4 bytes");
                match icmp[0] {
                    8 => {
                        let reply = echo(0, me, (src, ip_at(26)), id_seq, &icmp[8..]);
                        self.socket.send(&reply, self.vid)?;
                        self.answered += 1;
                    }
                    0 => return Ok(Seen::EchoReply(ip_at(26), id_seq)),
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(Seen::Other)
    }

    fn ping(&mut self, target: Ipv4Addr, count: u16) -> Result<(u16, u16), String> {
        let me = (self.socket.mac, self.ip);
        let mut mac = None;
        for _ in 0..3 {
            let ask = arp(1, me, ([0; 6], target), [0xFF; 6]);
            self.socket.send(&ask, self.vid)?;
            let end = Instant::now() + Duration::from_secs(1);
            while mac.is_none() && Instant::now() < end {
                if let Seen::ArpReply(from, at) = self.step()? {
                    mac = (from == target).then_some(at);
                }
            }
            if mac.is_some() {
                break;
            }
        }
        let Some(mac) = mac else {
            return Ok((0, 0));
        };
        let mut received = 0;
        for seq in 0..count {
            let id_seq = [0x4D, 0x52, (seq >> 8) as u8, seq as u8];
            let request = echo(8, me, (mac, target), id_seq, b"vlan peer");
            self.socket.send(&request, self.vid)?;
            let end = Instant::now() + Duration::from_secs(1);
            while Instant::now() < end {
                if let Seen::EchoReply(from, got) = self.step()? {
                    if from == target && got == id_seq {
                        received += 1;
                        break;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok((count, received))
    }
}

fn peer(dev: &str, vid: &str, ip: &str) -> Result<Peer, String> {
    Ok(Peer {
        socket: RawSocket::open(dev)?,
        vid: vid.parse().map_err(|e| format!("{vid}: {e}"))?,
        ip: ip.parse().map_err(|e| format!("{ip}: {e}"))?,
        answered: 0,
    })
}

/// `vlan-ping DEV VID MY_IP TARGET COUNT`.
pub fn vlan_ping(dev: &str, vid: &str, ip: &str, target: &str, count: &str) -> Result<(), String> {
    let mut p = peer(dev, vid, ip)?;
    let target: Ipv4Addr = target.parse().map_err(|e| format!("{target}: {e}"))?;
    let count = count.parse().map_err(|e| format!("{count}: {e}"))?;
    let (sent, received) = p.ping(target, count)?;
    println!("vlan-ping {sent} {received}");
    Ok(())
}

/// `vlan-serve DEV VID MY_IP SECONDS`.
pub fn vlan_serve(dev: &str, vid: &str, ip: &str, seconds: &str) -> Result<(), String> {
    let mut p = peer(dev, vid, ip)?;
    let seconds = seconds.parse().map_err(|e| format!("{seconds}: {e}"))?;
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        p.step()?;
    }
    println!("vlan-serve {}", p.answered);
    Ok(())
}
