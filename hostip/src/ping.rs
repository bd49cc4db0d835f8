//! The ping engine behind `/ping ADDRESS [count=N] [interface=X] [size=N] [interval=T]`: one
//! ping at a time. It picks the interface and source address (the connected network holding the
//! target, or the named interface), resolves the neighbour (ARP or neighbour solicitation;
//! the first request waits for the answer), sends an echo request every interval, matches the
//! replies (identifier, sequence number, source, data) and times out the unanswered ones. What
//! it finds comes out as [`PingEvent`]s, one per output line, for the CLI to print.
//!
//! `size` is the whole IP packet, headers included (RouterOS: "size of the IP packet, including
//! the IP and ICMP headers"); the default 56 is RouterOS v7's.

use core::net::IpAddr;

use smoltcp::wire::{Icmpv4Repr, Icmpv6Repr, IPV4_HEADER_LEN, IPV6_HEADER_LEN};

use crate::config::Config;
use crate::{tx, FrameSink, HostIp, IfaceId, Mac, Micros};

/// Requests in flight at once (older ones are timed out to make room).
const IN_FLIGHT: usize = 8;
/// Output lines kept until the CLI takes them.
const EVENTS: usize = 16;
/// The ICMP header.
const ICMP_HEADER: u16 = 8;
/// RouterOS's default packet size.
pub const DEFAULT_SIZE: u16 = 56;
/// How long a request waits for its reply.
pub const DEFAULT_TIMEOUT_US: Micros = 1_000_000;

/// What to ping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PingRequest {
    /// The address.
    pub target: IpAddr,
    /// How many requests (`None`: until stopped).
    pub count: Option<u32>,
    /// The interface to send from (needed for an IPv6 link-local target).
    pub interface: Option<IfaceId>,
    /// The IP packet's size, headers included.
    pub size: u16,
    /// Time between requests.
    pub interval_us: Micros,
    /// How long each request waits for its reply.
    pub timeout_us: Micros,
}

impl PingRequest {
    /// RouterOS's defaults: 56 bytes, every second, until stopped.
    pub fn new(target: IpAddr) -> Self {
        PingRequest {
            target,
            count: None,
            interface: None,
            size: DEFAULT_SIZE,
            interval_us: 1_000_000,
            timeout_us: DEFAULT_TIMEOUT_US,
        }
    }
}

/// Why a ping could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingError {
    /// No interface has an address on the target's network (or the named interface has no
    /// address of the target's family).
    NoRoute,
    /// `size` below the headers (28 for IPv4, 48 for IPv6).
    SizeTooSmall(u16),
    /// `size` above the interface's MTU.
    SizeTooLarge(u16),
}

/// One line of output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingEvent {
    /// A reply to request `seq`.
    Reply {
        seq: u32,
        host: IpAddr,
        /// The reply's IP packet size.
        size: u16,
        ttl: u8,
        rtt_us: Micros,
    },
    /// Request `seq` was not answered in time.
    Timeout { seq: u32, host: IpAddr },
    /// The ping ended (all sent and answered or timed out, or stopped).
    Done(PingSummary),
}

/// The last line: `sent=N received=N packet-loss=N% min-rtt=.. avg-rtt=.. max-rtt=..`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PingSummary {
    pub sent: u32,
    pub received: u32,
    /// Round-trip times when something was received: min, average, max.
    pub rtt_us: Option<(Micros, Micros, Micros)>,
}

impl PingSummary {
    /// Lost requests in percent, rounded down.
    pub fn loss_percent(&self) -> u32 {
        if self.sent == 0 {
            return 0;
        }
        (u64::from(self.sent - self.received.min(self.sent)) * 100 / u64::from(self.sent)) as u32
    }
}

#[derive(Clone, Copy)]
struct InFlight {
    seq: u32,
    /// When it was due (its timeout runs from here).
    due: Micros,
    /// When it left (`None`: waiting for the neighbour).
    sent_at: Option<Micros>,
}

#[derive(Clone, Copy)]
struct Job {
    target: IpAddr,
    iface: IfaceId,
    source: IpAddr,
    ident: u16,
    size: u16,
    count: Option<u32>,
    interval: Micros,
    timeout: Micros,
    next_seq: u32,
    next_send: Micros,
    received: u32,
    rtt_min: Micros,
    rtt_max: Micros,
    rtt_sum: Micros,
    in_flight: [Option<InFlight>; IN_FLIGHT],
    /// The neighbour's MAC, once known.
    mac: Option<Mac>,
}

impl Job {
    fn summary(&self) -> PingSummary {
        PingSummary {
            sent: self.next_seq,
            received: self.received,
            rtt_us: (self.received > 0).then(|| {
                (
                    self.rtt_min,
                    self.rtt_sum / Micros::from(self.received),
                    self.rtt_max,
                )
            }),
        }
    }

    fn all_sent(&self) -> bool {
        self.count.is_some_and(|c| self.next_seq >= c)
    }
}

/// The engine's state: at most one job, and the lines not yet taken.
#[derive(Clone)]
pub(crate) struct Pinger {
    job: Option<Job>,
    events: [Option<PingEvent>; EVENTS],
    head: usize,
    len: usize,
    idents: u16,
}

impl Pinger {
    pub(crate) const fn new() -> Self {
        Pinger {
            job: None,
            events: [None; EVENTS],
            head: 0,
            len: 0,
            idents: 0x4D52,
        }
    }

    fn push(&mut self, event: PingEvent) {
        if self.len == EVENTS {
            // Never reached while the engine holds back (see `poll`); the oldest line goes.
            self.head = (self.head + 1) % EVENTS;
            self.len -= 1;
        }
        self.events[(self.head + self.len) % EVENTS] = Some(event);
        self.len += 1;
    }

    pub(crate) fn next_event(&mut self) -> Option<PingEvent> {
        if self.len == 0 {
            return None;
        }
        let event = self.events[self.head].take();
        self.head = (self.head + 1) % EVENTS;
        self.len -= 1;
        event
    }

    pub(crate) fn events_pending(&self) -> bool {
        self.len > 0
    }

    pub(crate) fn running(&self) -> bool {
        self.job.is_some() || self.len > 0
    }

    pub(crate) fn stop(&mut self) {
        if let Some(job) = self.job.take() {
            self.push(PingEvent::Done(job.summary()));
        }
    }

    pub(crate) fn next_due(&self) -> Micros {
        let Some(job) = &self.job else {
            return Micros::MAX;
        };
        let send = if job.all_sent() {
            Micros::MAX
        } else {
            job.next_send
        };
        job.in_flight
            .iter()
            .flatten()
            .map(|f| f.due + job.timeout)
            .fold(send, Micros::min)
    }

    /// The configuration changed: a ping whose interface or source address is gone ends.
    pub(crate) fn reconfigured(&mut self, config: &Config) {
        let gone = self.job.as_ref().is_some_and(|job| {
            config
                .route(job.target, Some(job.iface))
                .is_none_or(|(_, src)| src != job.source && job.target.is_ipv4())
        });
        if gone {
            self.stop();
        }
    }

    /// A neighbour became known: the waiting request may leave.
    pub(crate) fn neighbor_known(&mut self, iface: IfaceId, addr: IpAddr, mac: Mac) {
        if let Some(job) = &mut self.job {
            if job.iface == iface && job.target == addr {
                job.mac = Some(mac);
            }
        }
    }

    /// An echo reply arrived.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn echo_reply(
        &mut self,
        now: Micros,
        from: IpAddr,
        ident: u16,
        seq: u16,
        data: &[u8],
        size: u16,
        ttl: u8,
    ) {
        let Some(job) = &mut self.job else { return };
        if job.ident != ident || job.target != from || data != tx::pattern(data_len(job)) {
            return;
        }
        let Some(slot) = job
            .in_flight
            .iter_mut()
            .find(|f| f.is_some_and(|f| f.seq as u16 == seq && f.sent_at.is_some()))
        else {
            return;
        };
        let Some(InFlight {
            seq,
            sent_at: Some(sent_at),
            ..
        }) = slot.take()
        else {
            return;
        };
        let rtt = now.saturating_sub(sent_at);
        if job.received == 0 {
            job.rtt_min = rtt;
            job.rtt_max = rtt;
        }
        job.received += 1;
        job.rtt_min = job.rtt_min.min(rtt);
        job.rtt_max = job.rtt_max.max(rtt);
        job.rtt_sum += rtt;
        let host = job.target;
        self.push(PingEvent::Reply {
            seq,
            host,
            size,
            ttl,
            rtt_us: rtt,
        });
    }
}

fn header_len(target: IpAddr) -> u16 {
    let ip = if target.is_ipv4() {
        IPV4_HEADER_LEN
    } else {
        IPV6_HEADER_LEN
    };
    ip as u16 + ICMP_HEADER
}

fn data_len(job: &Job) -> usize {
    usize::from(job.size.saturating_sub(header_len(job.target)))
}

/// Starts `request` (a running ping is replaced; its lines not yet taken are dropped).
pub(crate) fn start(
    host: &mut HostIp,
    now: Micros,
    request: &PingRequest,
) -> Result<(), PingError> {
    let (iface, source) = host
        .config
        .route(request.target, request.interface)
        .ok_or(PingError::NoRoute)?;
    let min = header_len(request.target);
    if request.size < min {
        return Err(PingError::SizeTooSmall(min));
    }
    let mtu = host.config.iface(iface).map_or(0, |i| i.mtu);
    let max = mtu.min((crate::FRAME_MAX - 14) as u16);
    if request.size > max {
        return Err(PingError::SizeTooLarge(max));
    }
    let ping = &mut host.ping;
    ping.job = None;
    ping.events = [None; EVENTS];
    ping.len = 0;
    ping.idents = ping.idents.wrapping_add(1);
    ping.job = Some(Job {
        target: request.target,
        iface,
        source,
        ident: ping.idents,
        size: request.size,
        count: request.count,
        interval: request.interval_us.max(1),
        timeout: request.timeout_us.max(1),
        next_seq: 0,
        next_send: now,
        received: 0,
        rtt_min: 0,
        rtt_max: 0,
        rtt_sum: 0,
        in_flight: [None; IN_FLIGHT],
        mac: None,
    });
    Ok(())
}

/// Sends what is due, times out what was not answered, ends a finished ping.
pub(crate) fn poll(host: &mut HostIp, now: Micros, out: &mut dyn FrameSink) {
    let Some(mut job) = host.ping.job else { return };
    // Time out what waited too long.
    for slot in &mut job.in_flight {
        if let Some(f) = *slot {
            if now >= f.due + job.timeout {
                *slot = None;
                host.ping.push(PingEvent::Timeout {
                    seq: f.seq,
                    host: job.target,
                });
            }
        }
    }
    // Send the next request when due, unless the CLI is behind in taking lines.
    if !job.all_sent() && now >= job.next_send && host.ping.len + 4 <= EVENTS {
        if job.in_flight.iter().all(Option::is_some) {
            // No room: the oldest request has waited long enough.
            if let Some(oldest) = job.in_flight.iter_mut().min_by_key(|f| f.map(|f| f.seq)) {
                if let Some(f) = oldest.take() {
                    host.ping.push(PingEvent::Timeout {
                        seq: f.seq,
                        host: job.target,
                    });
                }
            }
        }
        if let Some(slot) = job.in_flight.iter_mut().find(|f| f.is_none()) {
            *slot = Some(InFlight {
                seq: job.next_seq,
                due: now,
                sent_at: None,
            });
        }
        job.next_seq += 1;
        job.next_send = job.next_send.saturating_add(job.interval).max(now);
        job.mac = host.resolve(now, job.iface, job.target, out);
    }
    transmit_waiting(host, now, &mut job, out);
    if job.all_sent() && job.in_flight.iter().all(Option::is_none) {
        host.ping.job = None;
        host.ping.push(PingEvent::Done(job.summary()));
    } else {
        host.ping.job = Some(job);
    }
}

/// Sends every request that waits, if the neighbour is known.
fn transmit_waiting(host: &mut HostIp, now: Micros, job: &mut Job, out: &mut dyn FrameSink) {
    let Some(mac) = job.mac else { return };
    let data = tx::pattern(data_len(job));
    for slot in job.in_flight.iter_mut().flatten() {
        if slot.sent_at.is_some() {
            continue;
        }
        slot.sent_at = Some(now);
        let (ident, seq_no) = (job.ident, slot.seq as u16);
        match (job.source, job.target) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                let icmp = Icmpv4Repr::EchoRequest {
                    ident,
                    seq_no,
                    data,
                };
                tx::icmpv4(host, job.iface, mac, (src, dst), &icmp, out);
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                let icmp = Icmpv6Repr::EchoRequest {
                    ident,
                    seq_no,
                    data,
                };
                tx::icmpv6(host, job.iface, mac, (src, dst), tx::TTL, &icmp, out);
            }
            _ => {}
        }
    }
}
