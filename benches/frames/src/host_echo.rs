//! The cost of one echo reply from the host's own IP endpoint: `HostIp::receive` of an ICMP
//! echo request (56-byte IP packet, as RouterOS's and netguest's pings send) from a known
//! neighbour, to the reply built in the endpoint's buffer and handed to the sink. The frame
//! loop around it (taking the request from the guest's ring, delivering the reply) is the
//! guest-to-guest path `measure` counts.

use core::net::{IpAddr, Ipv4Addr};

use vmm::hostip::{AddrConfig, ArpMode, FrameSink, HostIp, IfaceConfig, IfaceId};

const HOST_MAC: [u8; 6] = [0x02, 0x4D, 0x52, 0, 0, 1];
const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x11];
const IFACE: IfaceId = IfaceId(1);

/// Counts what the endpoint sends.
struct Count(u64);

impl FrameSink for Count {
    fn send(&mut self, _iface: IfaceId, frame: &[u8]) {
        self.0 += frame.len() as u64;
    }
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

/// An echo request from 10.0.1.2 to 10.0.1.1: 14 + 20 + 8 + 28 bytes.
fn echo_request() -> [u8; 70] {
    let mut f = [0u8; 70];
    f[..6].copy_from_slice(&HOST_MAC);
    f[6..12].copy_from_slice(&PEER_MAC);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    let ip = &mut f[14..34];
    ip.copy_from_slice(&[
        0x45, 0, 0, 56, 0, 0, 0x40, 0, 64, 1, 0, 0, 10, 0, 1, 2, 10, 0, 1, 1,
    ]);
    let c = checksum(ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let icmp = &mut f[34..];
    icmp[..8].copy_from_slice(&[8, 0, 0, 0, 0x12, 0x34, 0, 1]);
    for (i, b) in icmp[8..].iter_mut().enumerate() {
        *b = i as u8;
    }
    let c = checksum(icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    f
}

/// Clock units for `rounds` echo replies (and the bytes sent, to show they were).
pub fn measure_echo(rounds: u32, clock: &mut dyn FnMut() -> u64) -> (u64, u64) {
    let mut host = HostIp::new();
    host.configure(
        &[IfaceConfig {
            id: IFACE,
            mac: HOST_MAC,
            arp: ArpMode::Enabled,
            mtu: 1500,
        }],
        &[AddrConfig {
            iface: IFACE,
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)),
            prefix_len: 24,
        }],
    )
    .expect("one interface fits");
    let request = echo_request();
    let mut out = Count(0);
    let start = clock();
    for _ in 0..rounds {
        host.receive(0, IFACE, &request, &mut out);
    }
    let ticks = clock() - start;
    assert_eq!(
        host.stats().echo_replies,
        u64::from(rounds),
        "every request answered"
    );
    (ticks, out.0)
}
