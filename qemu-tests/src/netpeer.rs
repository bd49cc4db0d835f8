//! A peer for the network tests and benchmarks, run inside a network namespace (`ip netns
//! exec`) as the `netpeer` program (or a benchmark that runs itself as one):
//!
//! - `netpeer sink ADDR:PORT`: accept one connection, read it to the end, print
//!   `received BYTES HASH`;
//! - `netpeer send ADDR:PORT BYTES`: connect (retrying for 10 s), send BYTES of a fixed pattern,
//!   print `sent BYTES HASH MILLISECONDS`.
//!
//! - `netpeer flood ADDR:PORT PAYLOAD COUNT`: send COUNT UDP datagrams of PAYLOAD bytes as fast
//!   as the socket takes them (64-byte frames: 18 bytes; 1514: 1472), print
//!   `flooded COUNT MILLISECONDS`.
//! - `netpeer rate ADDR:PORT PAYLOAD PPS MILLISECONDS`: send UDP datagrams of PAYLOAD bytes at
//!   PPS datagrams a second (paced every 100 us) for MILLISECONDS, print
//!   `rate SENT MILLISECONDS` (SENT below PPS × time: this sender could not keep up).
//!
//! - `netpeer echo ADDR:PORT TEXT`: send TEXT in a UDP datagram and wait a second for it to
//!   come back (five tries), print `echoed TEXT` (a UDP echo server's answer, RFC 862).
//!
//! - `netpeer vlan-ping ...`, `netpeer vlan-serve ...`: an 802.1Q VLAN peer in user space
//!   ([`crate::vlanpeer`]).
//! - `netpeer broadcast DEV SECONDS`: a flood of Ethernet broadcasts ([`crate::broadcast`]).
//!
//! HASH is FNV-1a over the bytes, so the test can see that what arrived is what was sent.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// FNV-1a, 64-bit.
struct Fnv(u64);

impl Fnv {
    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
    }
}

const FNV_START: u64 = 0xCBF2_9CE4_8422_2325;

fn sink(addr: &str) -> Result<(), String> {
    let listener = TcpListener::bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
    let (mut conn, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut hash = Fnv(FNV_START);
    let mut total = 0u64;
    let mut buf = vec![0u8; 65536];
    loop {
        let n = conn.read(&mut buf).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        total += n as u64;
    }
    println!("received {total} {:016x}", hash.0);
    Ok(())
}

fn send(addr: &str, bytes: u64) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut conn = loop {
        match TcpStream::connect_timeout(
            &addr.parse().map_err(|e| format!("{addr}: {e}"))?,
            Duration::from_secs(2),
        ) {
            Ok(c) => break c,
            Err(e) if Instant::now() > deadline => return Err(format!("connect {addr}: {e}")),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    conn.set_write_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let chunk: Vec<u8> = (0..65536u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut hash = Fnv(FNV_START);
    let start = Instant::now();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        conn.write_all(&chunk[..n])
            .map_err(|e| format!("write: {e}"))?;
        hash.update(&chunk[..n]);
        left -= n as u64;
    }
    conn.shutdown(std::net::Shutdown::Write)
        .map_err(|e| e.to_string())?;
    // Wait for the peer to close: everything was received.
    let _ = conn.read(&mut [0u8; 1]);
    println!(
        "sent {bytes} {:016x} {}",
        hash.0,
        start.elapsed().as_millis()
    );
    Ok(())
}

/// A UDP socket on a port of the system's choosing, of `to`'s family.
fn unbound_socket(to: std::net::SocketAddr) -> Result<std::net::UdpSocket, String> {
    let any = if to.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" };
    std::net::UdpSocket::bind(any).map_err(|e| format!("bind: {e}"))
}

fn flood(addr: &str, payload: usize, count: u64) -> Result<(), String> {
    let to: std::net::SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    // Not connected: the peer's "port unreachable" answers do not fail the sends.
    let socket = unbound_socket(to)?;
    let datagram = vec![0x5Au8; payload];
    let start = Instant::now();
    let mut sent = 0;
    while sent < count {
        match socket.send_to(&datagram, to) {
            Ok(_) => sent += 1,
            // The tap's queue is full: let it drain.
            Err(e) if e.raw_os_error() == Some(105) => std::thread::yield_now(),
            Err(e) => return Err(format!("send: {e}")),
        }
    }
    println!("flooded {count} {}", start.elapsed().as_millis());
    Ok(())
}

fn rate(addr: &str, payload: usize, pps: u64, millis: u64) -> Result<(), String> {
    let to: std::net::SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let socket = unbound_socket(to)?;
    // A tap nobody reads any more (QEMU ended) fills the socket's buffer for good: give up
    // rather than wait forever.
    socket
        .set_write_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let datagram = vec![0x5Au8; payload];
    let start = Instant::now();
    let length = Duration::from_millis(millis);
    let mut sent: u64 = 0;
    loop {
        let elapsed = start.elapsed();
        if elapsed >= length {
            break;
        }
        let due = (elapsed.as_micros() as u64 * pps / 1_000_000).saturating_sub(sent);
        for _ in 0..due {
            match socket.send_to(&datagram, to) {
                Ok(_) => sent += 1,
                // The tap's queue is full: what the box did not take is lost.
                Err(e) if e.raw_os_error() == Some(105) => break,
                Err(e) => return Err(format!("send: {e}")),
            }
        }
        let next = Duration::from_micros((sent + 1) * 1_000_000 / pps.max(1));
        if let Some(wait) = next.checked_sub(start.elapsed()) {
            std::thread::sleep(wait.min(Duration::from_micros(100)));
        }
    }
    println!("rate {sent} {}", start.elapsed().as_millis());
    Ok(())
}

fn echo(addr: &str, text: &str) -> Result<(), String> {
    let to: std::net::SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").map_err(|e| format!("bind: {e}"))?;
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 1500];
    for _ in 0..5 {
        socket
            .send_to(text.as_bytes(), to)
            .map_err(|e| format!("send: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            match socket.recv_from(&mut buf) {
                Ok((n, from)) if from == to && buf[..n] == *text.as_bytes() => {
                    println!("echoed {text}");
                    return Ok(());
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    Err(format!("no echo from {addr} after 5 tries"))
}

/// Run the command `args` (without the program's name): `sink`, `send`, `flood`, `rate`, `echo`,
/// `vlan-ping`, `vlan-serve` or `broadcast`.
pub fn run(args: &[String]) -> Result<(), String> {
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["sink", addr] => sink(addr),
        ["send", addr, bytes] => bytes
            .parse()
            .map_err(|e| format!("{bytes}: {e}"))
            .and_then(|b| send(addr, b)),
        ["flood", addr, payload, count] => match (payload.parse(), count.parse()) {
            (Ok(p), Ok(c)) => flood(addr, p, c),
            _ => Err(format!("{payload} {count}: not numbers")),
        },
        ["rate", addr, payload, pps, millis] => {
            match (payload.parse(), pps.parse(), millis.parse()) {
                (Ok(p), Ok(r), Ok(m)) => rate(addr, p, r, m),
                _ => Err(format!("{payload} {pps} {millis}: not numbers")),
            }
        }
        ["echo", addr, text] => echo(addr, text),
        ["vlan-ping", dev, vid, ip, target, count] => {
            crate::vlanpeer::vlan_ping(dev, vid, ip, target, count)
        }
        ["vlan-serve", dev, vid, ip, seconds] => crate::vlanpeer::vlan_serve(dev, vid, ip, seconds),
        ["broadcast", dev, seconds] => crate::broadcast::broadcast(dev, seconds),
        _ => Err(
            "usage: netpeer sink ADDR:PORT | send ADDR:PORT BYTES | flood ADDR:PORT \
                  PAYLOAD COUNT | rate ADDR:PORT PAYLOAD PPS MILLISECONDS | echo ADDR:PORT TEXT \
                  | vlan-ping DEV VID MY_IP TARGET COUNT | vlan-serve DEV VID MY_IP SECONDS \
                  | broadcast DEV SECONDS"
                .into(),
        ),
    }
}
