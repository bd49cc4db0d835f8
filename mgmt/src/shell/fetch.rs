//! `/tool fetch mode=tftp` running from the shell's polling: the TFTP client (`tftp` crate)
//! over the platform's UDP socket and file store. A download is written into the store's
//! hidden receiving place and takes its name only when whole (`Platform::file_receive_*`):
//! a failed, refused or interrupted transfer leaves nothing. The size the server announces
//! (`tsize`) is checked against the free space before the first byte is written.
//!
//! Status lines as RouterOS prints them, every second and at the end:
//!
//! ```text
//!       status: downloading
//!   downloaded: 2816KiB
//!        total: 7012KiB
//!     duration: 1s
//! ```
//!
//! then `status: finished`, or `status: failed` and a `failure:` line. Ctrl-C stops the
//! transfer (the server is sent an ERROR); other keys wait in the type-ahead queue.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;

use tftp::{Client, Error, Io, LocalError, Options, Status};

use super::{Mode, Shell};
use crate::menus::fetch::FetchRequest;
use crate::platform::{IfaceId, Platform, PlatformError, UdpError};
use crate::rib_state::RibState;
use crate::route_view::NOT_HOSTS;
use crate::value::{format_bytes, format_duration};
use core::net::IpAddr;
use routing::{Decision, EcmpChoice, Packet};
use vmm::RouteSource;

/// Ctrl-C.
const INTERRUPT: u8 = 0x03;
/// How often the status lines are printed while the transfer runs.
const STATUS_EVERY_MS: u64 = 1000;
/// The first local port of the dynamic range (RFC 6335).
const DYNAMIC_PORTS: u16 = 49152;

/// A transfer under way.
#[derive(Debug)]
pub(super) struct Fetch {
    request: FetchRequest,
    client: Box<Client>,
    started_ms: u64,
    next_status_ms: u64,
    /// Download: the store's file was begun (it must be ended).
    begun: bool,
    /// Why the store refused, to say so.
    store_error: Option<PlatformError>,
    /// The interface and next hop the routes chose for the server.
    via: Option<(IfaceId, IpAddr)>,
}

/// The client's view of the platform.
struct PlatformIo<'a> {
    platform: &'a mut dyn Platform,
    request: &'a FetchRequest,
    begun: &'a mut bool,
    /// The size to begin the store's file with.
    size: Option<u64>,
    store_error: &'a mut Option<PlatformError>,
    send_error: Option<UdpError>,
    /// The interface and next hop the routes chose for the server.
    via: Option<(IfaceId, IpAddr)>,
}

fn local(e: PlatformError) -> LocalError {
    match e {
        PlatformError::NoSpace | PlatformError::DiskFull => LocalError::NoSpace,
        _ => LocalError::Failed,
    }
}

impl PlatformIo<'_> {
    fn begin(&mut self) -> Result<(), LocalError> {
        if !*self.begun {
            let result = self
                .platform
                .file_receive_begin(&self.request.dst, self.size);
            if let Err(e) = result {
                *self.store_error = Some(e);
                return Err(local(e));
            }
            *self.begun = true;
        }
        Ok(())
    }
}

impl Io for PlatformIo<'_> {
    fn send(&mut self, port: u16, packet: &[u8]) {
        // A full queue is like a lost packet: the client's timeout sends it again.
        let sent = self
            .platform
            .udp_send(self.request.server, port, packet, self.via);
        if let Err(e) = sent {
            self.send_error = Some(e);
        }
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), LocalError> {
        self.begin()?;
        self.platform.file_receive_write(offset, data).map_err(|e| {
            *self.store_error = Some(e);
            local(e)
        })
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, LocalError> {
        self.platform
            .file_read(&self.request.src, offset, buf)
            .map_err(|e| {
                *self.store_error = Some(e);
                local(e)
            })
    }
}

impl Fetch {
    fn io<'a>(&'a mut self, platform: &'a mut dyn Platform) -> (&'a mut Client, PlatformIo<'a>) {
        let size = self.client.total();
        (
            &mut self.client,
            PlatformIo {
                platform,
                request: &self.request,
                begun: &mut self.begun,
                size,
                store_error: &mut self.store_error,
                send_error: None,
                via: self.via,
            },
        )
    }
}

impl Shell {
    /// Starts `request`: the socket opens and the first request goes out; the shell polls the
    /// transfer until it ends. Errors before anything was sent are printed as the command's.
    pub(super) fn start_fetch(&mut self, request: FetchRequest, platform: &mut dyn Platform) {
        let port = DYNAMIC_PORTS + (platform.entropy() % 16384) as u16;
        if let Err(e) = platform.udp_open(port) {
            self.say(&format!("failure: {}\n", e.message()));
            self.prompt();
            return;
        }
        let now = platform.now_ms();
        let via = next_hop(&self.rib, request.server);
        let (mut begun, mut store_error) = (false, None);
        let mut io = PlatformIo {
            platform: &mut *platform,
            request: &request,
            begun: &mut begun,
            size: None,
            store_error: &mut store_error,
            send_error: None,
            via,
        };
        let (server_port, options) = (request.port, Options::default());
        let client = if request.upload {
            Client::upload(
                now * 1000,
                server_port,
                &request.dst,
                request.size,
                options,
                &mut io,
            )
        } else {
            Client::download(now * 1000, server_port, &request.src, options, &mut io)
        };
        let refused = match (io.send_error, client.status()) {
            (Some(UdpError::NoRoute), _) => Some("no route to host"),
            (_, Status::Failed(Error::BadName)) => Some("invalid src-path"),
            _ => None,
        };
        if let Some(text) = refused {
            platform.udp_close();
            self.say(&format!("failure: {text}\n"));
            self.prompt();
            return;
        }
        self.mode = Mode::Fetching(Box::new(Fetch {
            request,
            client: Box::new(client),
            started_ms: now,
            next_status_ms: now + STATUS_EVERY_MS,
            begun,
            store_error,
            via,
        }));
        self.poll_fetch(platform);
    }

    /// Feeds the client what arrived, ticks its timer, prints the status; back to the prompt
    /// when it ended.
    pub(super) fn poll_fetch(&mut self, platform: &mut dyn Platform) {
        let Mode::Fetching(mut fetch) = core::mem::replace(&mut self.mode, Mode::Command) else {
            return;
        };
        let interrupted = self.typeahead.take_interrupt(INTERRUPT);
        let now_ms = platform.now_ms();
        let server = fetch.request.server;
        let upload = fetch.request.upload;
        let mut buf = [0u8; tftp::MAX_PACKET];
        {
            let (client, mut io) = fetch.io(platform);
            while client.status() == Status::Running {
                let Some(d) = io.platform.udp_recv(&mut buf) else {
                    break;
                };
                if d.from != server {
                    continue;
                }
                client.receive(now_ms * 1000, d.port, &buf[..d.len], &mut io);
                // The server told the size: refuse now what cannot fit.
                if !upload && !*io.begun && client.total().is_some() {
                    io.size = client.total();
                    if let Err(e) = io.begin() {
                        client.refuse(e, &mut io);
                    }
                }
            }
            client.poll(now_ms * 1000, &mut io);
            if interrupted {
                client.abort(&mut io);
            }
        }
        match fetch.client.status() {
            Status::Running => {
                if now_ms >= fetch.next_status_ms {
                    fetch.next_status_ms = now_ms + STATUS_EVERY_MS;
                    let lines = status_lines(&fetch, now_ms, None);
                    self.say(&lines);
                }
                self.mode = Mode::Fetching(fetch);
            }
            Status::Finished => {
                let kept = if upload {
                    Ok(())
                } else {
                    finish_download(&mut fetch, platform)
                };
                platform.udp_close();
                match kept {
                    Ok(()) => {
                        let lines = status_lines(&fetch, now_ms, Some("finished"));
                        self.say(&lines);
                    }
                    Err(e) => {
                        let lines = status_lines(&fetch, now_ms, Some("failed"));
                        self.say(&lines);
                        self.say(&format!("failure: {}\n", e.message()));
                    }
                }
                self.prompt();
            }
            Status::Failed(error) => {
                if fetch.begun {
                    let _ = platform.file_receive_end(false);
                }
                platform.udp_close();
                let lines = status_lines(&fetch, now_ms, Some("failed"));
                self.say(&lines);
                let reason = failure_text(&fetch, error);
                self.say(&format!("failure: {reason}\n"));
                self.prompt();
            }
        }
    }
}

/// Where the routes send packets for `server` (from the box itself): the interface and next
/// hop of a `Forward` decision (a gateway, or `server` on a connected network). Anything else
/// (no route, a blackhole ...) leaves it to the platform's connected networks, which refuse
/// what they do not hold (`no route to host`).
fn next_hop(rib: &RibState, server: IpAddr) -> Option<(IfaceId, IpAddr)> {
    let unspecified = match server {
        IpAddr::V4(_) => IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(core::net::Ipv6Addr::UNSPECIFIED),
    };
    let packet = Packet {
        src: unspecified,
        dst: server,
        in_interface: None,
        routing_mark: None,
    };
    match rib.routes().decide(&packet, EcmpChoice::Flow(0)) {
        Decision::Forward {
            next_hop,
            interface,
        } if interface != NOT_HOSTS => Some((IfaceId(interface.0), next_hop)),
        _ => None,
    }
}

/// Keeps the downloaded file under its name (an empty file was never begun).
fn finish_download(fetch: &mut Fetch, platform: &mut dyn Platform) -> Result<(), PlatformError> {
    if !fetch.begun {
        platform.file_receive_begin(&fetch.request.dst, Some(0))?;
    }
    fetch.begun = false;
    platform.file_receive_end(true)
}

/// The status block: `status`, bytes moved, the total when known, the time taken.
fn status_lines(fetch: &Fetch, now_ms: u64, end: Option<&str>) -> String {
    let upload = fetch.request.upload;
    let status = match end {
        Some(end) => end,
        None if !fetch.client.connected() => "connecting",
        None if upload => "uploading",
        None => "downloading",
    };
    let moved = if upload { "uploaded" } else { "downloaded" };
    let mut out = format!("{:>12}: {status}\n", "status");
    out.push_str(&format!(
        "{:>12}: {}KiB\n",
        moved,
        fetch.client.transferred() / 1024
    ));
    if let Some(total) = fetch.client.total() {
        out.push_str(&format!("{:>12}: {}KiB\n", "total", total / 1024));
    }
    let seconds = now_ms.saturating_sub(fetch.started_ms) / 1000;
    out.push_str(&format!(
        "{:>12}: {}\n",
        "duration",
        format_duration(seconds)
    ));
    out
}

/// The `failure:` text of a failed transfer.
fn failure_text(fetch: &Fetch, error: Error) -> String {
    let server = fetch.request.server;
    match error {
        Error::Remote(code) => {
            let message: String = fetch.client.remote_message().collect();
            let message = if message.is_empty() {
                String::from(code_text(code))
            } else {
                message
            };
            format!("TFTP server {server}: error {code}: {message}")
        }
        Error::Timeout => format!("timeout: no answer from {server}"),
        Error::Protocol => format!("TFTP server {server} broke the protocol"),
        Error::Local(e) => {
            let store = fetch.store_error.unwrap_or(match e {
                LocalError::NoSpace => PlatformError::NoSpace,
                LocalError::Failed => PlatformError::Hardware,
            });
            match (store, fetch.client.total()) {
                (PlatformError::NoSpace, Some(total)) if !fetch.request.upload => format!(
                    "{} ({}): {}",
                    fetch.request.dst,
                    format_bytes(total),
                    store.message()
                ),
                _ => String::from(store.message()),
            }
        }
        Error::Aborted => String::from("transfer interrupted"),
        Error::BadName => String::from("invalid src-path"),
    }
}

/// RFC 1350's meaning of an error code, for a server that sent no message.
fn code_text(code: u16) -> &'static str {
    match code {
        1 => "File not found",
        2 => "Access violation",
        3 => "Disk full or allocation exceeded",
        4 => "Illegal TFTP operation",
        5 => "Unknown transfer ID",
        6 => "File already exists",
        7 => "No such user",
        8 => "Option negotiation refused",
        _ => "Not defined",
    }
}

#[cfg(test)]
mod tests {
    use super::code_text;

    #[test]
    fn codes_have_their_rfc_words() {
        assert_eq!(code_text(1), "File not found");
        assert_eq!(code_text(99), "Not defined");
    }
}
