//! The shell's TCP transfer commands:
//!
//! - `tcp-listen <port>`: a sink in the background; each connection it served prints
//!   `tcp-listen: from A.B.C.D:P bytes=N time=S rate=R` when the peer closes (time from the
//!   first byte to the close); `tcp-listen` alone shows the port, how many connections it
//!   served and the last one;
//! - `tcp-send <address> <port> <bytes>`: sends, then prints `tcp-send: bytes=N time=S rate=R`
//!   (time from the connect to the acknowledgement of the close, in the guest's clock); the
//!   shell waits for it, Ctrl-C aborts;
//! - `tcp-loop <bytes>`: the same transfer between two sockets of a loopback interface inside
//!   the guest ([`crate::loopback`]), printed as `tcp-loop: ...`.

use mr_guest::println;
use mr_guest::proto::command::Command;
use mr_guest::proto::ipv4::Dotted;
use mr_guest::proto::transfer::{self, SendArgs};
use smoltcp::wire::IpAddress;

use crate::loopback;
use crate::net::Net;
use crate::tcp::{Served, Sink, Source, SourceEnd};

/// First local port of `tcp-send` (each run takes the next, so a connection in TIME-WAIT at
/// the peer is never reused).
const FIRST_LOCAL_PORT: u16 = 49152;

/// The running transfers.
pub struct Transfers {
    sink: Option<(u16, Sink)>,
    served: u32,
    last_served: Option<Served>,
    source: Option<Source>,
    next_local_port: u16,
}

impl Transfers {
    /// None running.
    pub const fn new() -> Self {
        Self {
            sink: None,
            served: 0,
            last_served: None,
            source: None,
            next_local_port: FIRST_LOCAL_PORT,
        }
    }

    /// Whether `tcp-send` holds the shell.
    pub fn sending(&self) -> bool {
        self.source.is_some()
    }

    /// The interface went away: its sockets with it.
    pub fn forget(&mut self) {
        self.sink = None;
        self.source = None;
    }

    /// Run `cmd` if it is a transfer command; `false` if it is not one.
    pub fn command(&mut self, cmd: &Command<'_>, net: Option<&mut Net>) -> bool {
        match cmd.name {
            b"tcp-listen" if cmd.args().next().is_none() => self.show_sink(),
            b"tcp-listen" => match (transfer::parse_listen(cmd), net) {
                (Err(e), _) => println!("{e}"),
                (Ok(_), None) => println!("no interface yet"),
                (Ok(port), Some(n)) => {
                    n.tcp_sink().abort();
                    let mut sink = Sink::new(port);
                    sink.step(n.tcp_sink(), mr_guest::timer::uptime_us());
                    self.sink = Some((port, sink));
                    self.served = 0;
                    self.last_served = None;
                    println!("tcp-listen: listening on port {port}");
                }
            },
            b"tcp-send" => match (SendArgs::parse(cmd), net) {
                (Err(e), _) => println!("{e}"),
                (Ok(_), None) => println!("no interface yet"),
                (Ok(_), Some(n)) if n.address.is_none() => {
                    println!("no address (set one with ip A.B.C.D/N)")
                }
                (Ok(args), Some(n)) => {
                    let port = self.next_local_port;
                    self.next_local_port = port.checked_add(1).unwrap_or(FIRST_LOCAL_PORT);
                    match n.start_source((args.target, args.port), port, args.bytes) {
                        Ok(source) => self.source = Some(source),
                        Err(e) => println!("tcp-send: cannot connect: {e:?}"),
                    }
                }
            },
            b"tcp-loop" => match transfer::parse_loop(cmd) {
                Err(e) => println!("{e}"),
                Ok(bytes) => match loopback::run(bytes) {
                    Ok(t) => println!("tcp-loop: {t}"),
                    Err(end) => print_failure("tcp-loop", end),
                },
            },
            _ => return false,
        }
        true
    }

    /// Advance the transfers after a poll of `net`; `true` when `tcp-send` just ended (the
    /// shell's prompt is due).
    pub fn step(&mut self, net: &mut Net) -> bool {
        let now_us = mr_guest::timer::uptime_us();
        if let Some((_, sink)) = &mut self.sink {
            if let Some(served) = sink.step(net.tcp_sink(), now_us) {
                println!("tcp-listen: {}", ServedLine(&served));
                self.served += 1;
                self.last_served = Some(served);
            }
        }
        let Some(source) = &mut self.source else {
            return false;
        };
        match source.step(net.tcp_source(), now_us) {
            None => false,
            Some(SourceEnd::Done(t)) => {
                println!("tcp-send: {t}");
                self.source = None;
                true
            }
            Some(end) => {
                print_failure("tcp-send", end);
                self.source = None;
                true
            }
        }
    }

    /// `tcp-listen` alone: `tcp-listen: port P served=N[ last from A.B.C.D:P bytes=...]`.
    fn show_sink(&self) {
        let Some((port, _)) = &self.sink else {
            println!("tcp-listen: not listening");
            return;
        };
        match &self.last_served {
            None => println!("tcp-listen: port {port} served={}", self.served),
            Some(last) => println!(
                "tcp-listen: port {port} served={} last {}",
                self.served,
                ServedLine(last)
            ),
        }
    }

    /// Ctrl-C during `tcp-send`: reset the connection.
    pub fn cancel(&mut self, net: Option<&mut Net>) {
        if self.source.take().is_some() {
            if let Some(n) = net {
                n.tcp_source().abort();
            }
            println!("tcp-send: interrupted");
        }
    }
}

fn print_failure(what: &str, end: SourceEnd) {
    match end {
        SourceEnd::Done(t) => println!("{what}: {t}"),
        SourceEnd::Failed(sent) => {
            println!("{what}: connection failed or reset after {sent} bytes")
        }
        SourceEnd::Stalled(sent) => println!("{what}: no progress for 10 s after {sent} bytes"),
    }
}

/// `from A.B.C.D:P bytes=N time=S rate=R`.
struct ServedLine<'a>(&'a Served);

impl core::fmt::Display for ServedLine<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if let Some(p) = self.0.peer {
            let IpAddress::Ipv4(a) = p.addr;
            write!(f, "from {}:{} ", Dotted(a.octets()), p.port)?;
        }
        write!(f, "{}", self.0.transfer)
    }
}
