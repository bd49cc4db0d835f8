//! The `ping` command: one ICMP echo request per second on an ICMP socket, RouterOS-like lines.

use mr_guest::println;
use mr_guest::proto::ping::{PingArgs, PingStats, ResultLine, HEADER, PAYLOAD_SIZE};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::socket::icmp;
use smoltcp::wire::{Icmpv4Packet, Icmpv4Repr, IpAddress, Ipv4Address};

/// Echo identifier of this guest's pings.
pub const IDENT: u16 = 0x4D52;
const INTERVAL_US: u64 = 1_000_000;

/// A running `ping`.
pub struct PingRun {
    args: PingArgs,
    next_seq: u16,
    waiting: Option<(u16, u64)>,
    next_send_us: u64,
    stats: PingStats,
}

impl PingRun {
    /// Start pinging; prints the header.
    pub fn start(args: PingArgs, now_us: u64) -> Self {
        println!("{HEADER}");
        Self {
            args,
            next_seq: 0,
            waiting: None,
            next_send_us: now_us,
            stats: PingStats::new(),
        }
    }

    /// Advance: read replies, time out, send the next request. Returns false when finished
    /// (the summary has been printed).
    pub fn step(&mut self, socket: &mut icmp::Socket<'_>, now_us: u64) -> bool {
        let target = Ipv4Address::from(self.args.target);
        while let Ok((payload, from)) = socket.recv() {
            let Ok(packet) = Icmpv4Packet::new_checked(payload) else {
                continue;
            };
            let Ok(Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            }) = Icmpv4Repr::parse(&packet, &ChecksumCapabilities::default())
            else {
                continue;
            };
            if ident != IDENT {
                continue;
            }
            if let Some((seq, sent_us)) = self.waiting {
                if seq == seq_no {
                    let IpAddress::Ipv4(from) = from;
                    let rtt_us = now_us.saturating_sub(sent_us);
                    self.stats.received(rtt_us);
                    println!(
                        "{}",
                        ResultLine::Reply {
                            seq,
                            host: from.octets(),
                            size: data.len(),
                            ttl: None,
                            rtt_us
                        }
                    );
                    self.waiting = None;
                }
            }
        }
        if let Some((seq, sent_us)) = self.waiting {
            if now_us >= sent_us + INTERVAL_US {
                println!(
                    "{}",
                    ResultLine::Timeout {
                        seq,
                        host: self.args.target
                    }
                );
                self.waiting = None;
            }
        }
        if self.waiting.is_none()
            && u32::from(self.next_seq) < self.args.count
            && now_us >= self.next_send_us
        {
            let seq = self.next_seq;
            let data = [0x5Au8; PAYLOAD_SIZE];
            let repr = Icmpv4Repr::EchoRequest {
                ident: IDENT,
                seq_no: seq,
                data: &data,
            };
            if let Ok(buf) = socket.send(repr.buffer_len(), IpAddress::Ipv4(target)) {
                repr.emit(
                    &mut Icmpv4Packet::new_unchecked(buf),
                    &ChecksumCapabilities::default(),
                );
            }
            self.stats.sent();
            self.waiting = Some((seq, now_us));
            self.next_seq += 1;
            self.next_send_us = now_us + INTERVAL_US;
        }
        if self.waiting.is_none() && u32::from(self.next_seq) >= self.args.count {
            self.finish();
            return false;
        }
        true
    }

    /// Stop now (Ctrl-C): the outstanding request counts as lost; prints the summary.
    pub fn finish(&mut self) {
        println!("{}", self.stats);
    }
}
