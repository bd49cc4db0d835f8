//! The body of the `hostip` fuzz target: arbitrary frames (and time steps, and pings) into an
//! endpoint with two interfaces, IPv4 and IPv6 addresses. A plain function, so that `cargo test`
//! runs it too; it panics only when a rule is broken:
//! - every frame sent is a whole Ethernet frame of at most [`crate::FRAME_MAX`] bytes, from the
//!   host's MAC on the interface it leaves by, on an interface that exists;
//! - a frame from the host's own MAC, or shorter than a header, gets no answer;
//! - the neighbour tables hold no entry on an unknown interface, and no complete entry with a
//!   group or zero MAC;
//! - every frame is counted once: received = answered or learned from + dropped.
//!
//! Input: records of one opcode byte: `0..=2` a frame follows (two length bytes, then the
//! frame) on interface 1 or 2; `3` time passes (one byte of 10 ms steps); `4` a ping starts
//! (one byte picks the target); `5` the ping stops; `6` the UDP socket is bound (again) and a
//! datagram queued (one byte picks port, peer and length).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::{AddrConfig, FrameSink, HostIp, IfaceConfig, IfaceId, PingRequest, FRAME_MAX};

const MACS: [[u8; 6]; 2] = [[2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]];

struct Checker {
    sent: usize,
}

impl FrameSink for Checker {
    fn send(&mut self, iface: IfaceId, frame: &[u8]) {
        let mac = match iface.0 {
            1 => MACS[0],
            2 => MACS[1],
            other => panic!("sent on unknown interface {other}"),
        };
        assert!(
            frame.len() >= 14 && frame.len() <= FRAME_MAX,
            "frame length"
        );
        assert_eq!(frame[6..12], mac, "source MAC");
        self.sent += 1;
    }
}

/// The endpoint the fuzz body drives: interfaces 1 (10.0.1.1/24, 2001:db8:1::1/64) and 2
/// (10.0.2.1/24).
pub fn endpoint() -> HostIp {
    let mut host = HostIp::new();
    let ifaces = [
        IfaceConfig {
            id: IfaceId(1),
            mac: MACS[0],
            arp: crate::ArpMode::Enabled,
            mtu: 1500,
        },
        IfaceConfig {
            id: IfaceId(2),
            mac: MACS[1],
            arp: crate::ArpMode::Enabled,
            mtu: 1500,
        },
    ];
    let addrs = [
        AddrConfig {
            iface: IfaceId(1),
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)),
            prefix_len: 24,
        },
        AddrConfig {
            iface: IfaceId(1),
            addr: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1)),
            prefix_len: 64,
        },
        AddrConfig {
            iface: IfaceId(2),
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 2, 1)),
            prefix_len: 24,
        },
    ];
    host.configure(&ifaces, &addrs).expect("configuration fits");
    host
}

/// Runs one input; panics if a rule is broken.
pub fn run(mut input: &[u8]) {
    let mut host = endpoint();
    let mut now = 0u64;
    let mut out = Checker { sent: 0 };
    while let Some((&op, rest)) = input.split_first() {
        input = rest;
        match op % 7 {
            0..=2 => {
                let Some((len, rest)) = input.split_first_chunk::<2>() else {
                    return;
                };
                let len = usize::from(u16::from_be_bytes(*len)) % 1600;
                let frame = &rest[..len.min(rest.len())];
                input = &rest[frame.len()..];
                let iface = IfaceId(1 + u16::from(op % 2));
                let own = frame.len() >= 12 && MACS.iter().any(|m| frame[6..12] == *m);
                let before = (
                    out.sent,
                    host.stats().rx_frames,
                    host.stats().dropped_total(),
                );
                host.receive(now, iface, frame, &mut out);
                let stats = host.stats();
                assert_eq!(stats.rx_frames, before.1 + 1);
                if frame.len() < 14 || own {
                    assert_eq!(out.sent, before.0, "answered a runt or our own frame");
                    assert_eq!(
                        stats.dropped_total(),
                        before.2 + 1,
                        "not counted as dropped"
                    );
                }
            }
            3 => {
                let Some((&steps, rest)) = input.split_first() else {
                    return;
                };
                input = rest;
                now += u64::from(steps) * 10_000;
                host.poll(now, &mut out);
            }
            4 => {
                let Some((&pick, rest)) = input.split_first() else {
                    return;
                };
                input = rest;
                let target = match pick % 4 {
                    0 => IpAddr::V4(Ipv4Addr::new(10, 0, 1, pick)),
                    1 => IpAddr::V4(Ipv4Addr::new(10, 0, 2, pick)),
                    2 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, u16::from(pick))),
                    _ => IpAddr::V4(Ipv4Addr::new(192, 168, 0, pick)),
                };
                let mut request = PingRequest::new(target);
                request.count = Some(u32::from(pick % 5));
                request.size = u16::from(pick) * 7;
                let _ = host.ping_start(now, &request);
            }
            5 => host.ping_stop(),
            _ => {
                let Some((&pick, rest)) = input.split_first() else {
                    return;
                };
                input = rest;
                host.udp_bind(1000 + u16::from(pick % 2));
                let peer = match pick % 3 {
                    0 => IpAddr::V4(Ipv4Addr::new(10, 0, 1, pick)),
                    1 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, u16::from(pick))),
                    _ => IpAddr::V4(Ipv4Addr::new(10, 0, 2, pick)),
                };
                let _ = host.udp_send(now, peer, 69, &[pick; 40][..usize::from(pick % 40)]);
            }
        }
        while host.ping_next_event().is_some() {}
        let mut datagram = [0u8; crate::UDP_PAYLOAD_MAX];
        while let Some(d) = host.udp_recv(&mut datagram) {
            assert!(d.len <= crate::UDP_PAYLOAD_MAX);
        }
    }
    for e in host.arp_entries() {
        assert!(matches!(e.iface.0, 1 | 2), "entry on an unknown interface");
        assert!(
            e.mac.is_none_or(|m| m[0] & 1 == 0 && m != [0; 6]),
            "bad MAC learned"
        );
    }
    for e in host.nd_entries() {
        assert!(matches!(e.iface.0, 1 | 2), "entry on an unknown interface");
        assert!(
            e.mac.is_none_or(|m| m[0] & 1 == 0 && m != [0; 6]),
            "bad MAC learned"
        );
    }
}
