//! A broadcast flood from user space, run inside a namespace by `netpeer`:
//! `netpeer broadcast DEV SECONDS` sends 60-byte Ethernet broadcasts (a UDP datagram from
//! 10.40.0.9 to 255.255.255.255, port 9, to `ff:ff:ff:ff:ff:ff`) on DEV through a packet
//! socket as fast as the device's queue takes them, for SECONDS, then prints
//! `broadcast SENT MILLISECONDS` (SENT: the sends the kernel accepted; those it refused because
//! the queue was full are not counted).

use std::ffi::CString;
use std::time::{Duration, Instant};

fn os_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// The broadcast frame from `mac`: Ethernet, IPv4 (checksummed), UDP (no checksum), 18 bytes
/// of payload: 60 bytes, 64 on the wire with the FCS.
fn frame(mac: [u8; 6]) -> Vec<u8> {
    let mut f = vec![0xFF; 6];
    f.extend_from_slice(&mac);
    f.extend_from_slice(&[0x08, 0x00]);
    let mut ip = vec![
        0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 40, 0, 9, 255, 255, 255, 255,
    ];
    let mut sum: u32 = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&[0x30, 0x39, 0, 9, 0, 26, 0, 0]);
    f.extend_from_slice(&[0x42; 18]);
    f
}

/// `broadcast DEV SECONDS`.
pub fn broadcast(dev: &str, seconds: &str) -> Result<(), String> {
    let seconds: u64 = seconds.parse().map_err(|e| format!("{seconds}: {e}"))?;
    let name = CString::new(dev).map_err(|e| e.to_string())?;
    // SAFETY: `name` is a NUL-terminated string that lives across the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(os_error(dev));
    }
    let text = std::fs::read_to_string(format!("/sys/class/net/{dev}/address"))
        .map_err(|e| format!("{dev}'s address: {e}"))?;
    let mut mac = [0u8; 6];
    for (byte, hex) in mac.iter_mut().zip(text.trim().split(':')) {
        *byte = u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
    }
    // Protocol 0: the socket sends only, it receives nothing.
    // SAFETY: plain system call with constant arguments.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
    if fd < 0 {
        return Err(os_error("socket(AF_PACKET)"));
    }
    // SAFETY: an all-zero `sockaddr_ll` is valid; the fields set are plain integers.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_ifindex = index as libc::c_int;
    // SAFETY: `addr` is a valid `sockaddr_ll` of the length given.
    let bound = unsafe {
        libc::bind(
            fd,
            (&addr as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    let result = if bound < 0 {
        Err(os_error("bind"))
    } else {
        let out = frame(mac);
        let start = Instant::now();
        let length = Duration::from_secs(seconds);
        let mut sent: u64 = 0;
        let mut failed = None;
        while start.elapsed() < length {
            // SAFETY: `out` is a live buffer of the length given.
            let n = unsafe { libc::send(fd, out.as_ptr().cast(), out.len(), 0) };
            if n >= 0 {
                sent += 1;
            } else if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOBUFS) {
                // The device's queue is full: let it drain.
                std::thread::yield_now();
            } else {
                failed = Some(os_error("send"));
                break;
            }
        }
        match failed {
            Some(e) => Err(e),
            None => {
                println!("broadcast {sent} {}", start.elapsed().as_millis());
                Ok(())
            }
        }
    };
    // SAFETY: `fd` is this function's socket, closed once.
    unsafe { libc::close(fd) };
    result
}
