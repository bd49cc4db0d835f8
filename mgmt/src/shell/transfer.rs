//! `/file receive` and `/file send` running on the console: every byte from the terminal goes
//! to the ZMODEM or YMODEM session (`zmodem`, `zmodem::ymodem`), its answers go back
//! unchanged, and the files go to and come from the platform's store. A received file is kept only when it arrived whole
//! (`Platform::file_receive_end`); a cancelled, broken or refused transfer leaves nothing.
//!
//! The terminal belongs to the other side's `sz` or `rz` while the session runs, so nothing
//! else is printed then: the line before says what to start and how to cancel, the line after
//! what was moved (name, size, time, rate) or why not. Ctrl-C cancels (the ZMODEM receiver
//! asks for control characters to be escaped, so a bare Ctrl-C is a key, never data; YMODEM
//! data is raw, so its receiver takes Ctrl-C only where a block would start: while it waits
//! for the sender or between blocks), as does the other side's cancel or a peer silent for a
//! minute. When the session is over,
//! the console ignores input until the line has been quiet for half a second: the other
//! side's last bytes (`OO`, the rest of a cancel) never reach the command line.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use zmodem::{ymodem, FileOffer, Receiver, Refused, Sender, Sink, Source, Status, Stop};

use super::{Mode, Shell};
use crate::menus::file_transfer::{Protocol, TransferRequest};
use crate::platform::{Platform, PlatformError};
use crate::value::format_bytes;

/// Ctrl-C.
const INTERRUPT: u8 = 0x03;
/// Quiet time that ends a finished session.
const SETTLE_MS: u64 = 500;

#[derive(Debug)]
enum Engine {
    Receive(Receiver),
    ReceiveY(ymodem::Receiver),
    Send { sender: Sending, name: String },
}

/// A sender of either protocol.
#[derive(Debug)]
enum Sending {
    Z(Sender),
    Y(ymodem::Sender),
}

/// A session on the console.
#[derive(Debug)]
pub(super) struct Transfer {
    engine: Engine,
    started_ms: u64,
    /// The file being received: its store name and bytes so far.
    file: Option<(String, u64)>,
    /// Files kept (received) or sent: name and size.
    moved: Vec<(String, u64)>,
    /// What went wrong with a file, for the closing line.
    problems: Vec<String>,
    /// The session's closing line once it is over; input is ignored until the line is quiet.
    closing: Option<String>,
    last_input_ms: u64,
    /// Bad frames the receiver asked for again.
    errors: u32,
}

/// The store as the receiver's sink.
struct StoreSink<'a> {
    platform: &'a mut dyn Platform,
    file: &'a mut Option<(String, u64)>,
    moved: &'a mut Vec<(String, u64)>,
    problems: &'a mut Vec<String>,
}

impl Sink for StoreSink<'_> {
    fn begin(&mut self, offer: &FileOffer<'_>) -> Result<(), Refused> {
        let shown = String::from_utf8_lossy(offer.name);
        let name = match store_name(offer.name) {
            Some(name) => name,
            None => {
                self.problems.push(format!("{shown}: invalid file name"));
                return Err(Refused);
            }
        };
        if let Err(e) = self.platform.file_receive_begin(&name, offer.size) {
            let size = offer.size.map(|s| format!(" ({})", format_bytes(s)));
            self.problems.push(format!(
                "{name}{}: {}",
                size.unwrap_or_default(),
                e.message()
            ));
            return Err(Refused);
        }
        *self.file = Some((name, 0));
        Ok(())
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Stop> {
        let result = self.platform.file_receive_write(offset, data);
        self.check(result)?;
        if let Some((_, size)) = &mut self.file {
            *size = offset + data.len() as u64;
        }
        Ok(())
    }

    fn end(&mut self, size: u64) -> Result<(), Stop> {
        let result = self.platform.file_receive_end(true);
        self.check(result)?;
        if let Some((name, _)) = self.file.take() {
            self.moved.push((name, size));
        }
        Ok(())
    }

    fn discard(&mut self) {
        let _ = self.platform.file_receive_end(false);
        *self.file = None;
    }
}

impl StoreSink<'_> {
    fn check(&mut self, result: Result<(), PlatformError>) -> Result<(), Stop> {
        result.map_err(|e| {
            let name = self.file.as_ref().map(|(n, _)| n.as_str()).unwrap_or("?");
            self.problems.push(format!("{name}: {}", e.message()));
            Stop
        })
    }
}

/// The store's name for an offered file: its last path component, printable UTF-8 that is
/// a valid file name.
fn store_name(offered: &[u8]) -> Option<String> {
    let base = offered.rsplit(|&b| b == b'/').next()?;
    let name = core::str::from_utf8(base).ok()?;
    let fine = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.starts_with('.')
        && name.chars().all(|c| !c.is_control());
    fine.then(|| String::from(name))
}

/// A file of the store as the sender's source.
struct StoreSource<'a> {
    platform: &'a mut dyn Platform,
    name: &'a str,
    problems: &'a mut Vec<String>,
}

impl Source for StoreSource<'_> {
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Stop> {
        self.platform
            .file_read(self.name, offset, buf)
            .map_err(|e| {
                self.problems
                    .push(format!("{}: {}", self.name, e.message()));
                Stop
            })
    }
}

impl Shell {
    /// Starts the session `request` asks for.
    pub(super) fn start_transfer(&mut self, request: TransferRequest, platform: &mut dyn Platform) {
        let now = platform.now_ms();
        let engine = match request {
            TransferRequest::Receive { protocol } => {
                let (text, engine) = match protocol {
                    Protocol::Zmodem => ("ZMODEM", "sz"),
                    Protocol::Ymodem => ("YMODEM", "sb"),
                };
                self.say(&format!(
                    "receiving with {text}: start the sender now ({engine} FILE); Ctrl-C cancels\n"
                ));
                match protocol {
                    Protocol::Zmodem => Engine::Receive(Receiver::new(now)),
                    Protocol::Ymodem => {
                        Engine::ReceiveY(ymodem::Receiver::new(now).with_interrupt(INTERRUPT))
                    }
                }
            }
            TransferRequest::Send {
                protocol,
                name,
                size,
                created,
            } => {
                let (text, program) = match protocol {
                    Protocol::Zmodem => ("ZMODEM", "rz"),
                    Protocol::Ymodem => ("YMODEM", "rb"),
                };
                self.say(&format!(
                    "sending {name} ({}) with {text}: start the receiver now ({program}); Ctrl-C cancels\n",
                    format_bytes(size)
                ));
                let sender = match protocol {
                    Protocol::Zmodem => {
                        Sending::Z(Sender::new(name.as_bytes(), size, created, now))
                    }
                    Protocol::Ymodem => {
                        Sending::Y(ymodem::Sender::new(name.as_bytes(), size, created, now))
                    }
                };
                Engine::Send { sender, name }
            }
        };
        self.mode = Mode::Transfer(Box::new(Transfer {
            engine,
            started_ms: now,
            file: None,
            moved: Vec::new(),
            problems: Vec::new(),
            closing: None,
            last_input_ms: now,
            errors: 0,
        }));
        self.pump_transfer(&[], platform);
    }

    /// Hands the terminal's bytes to the session (all of them: nothing is typed ahead).
    pub(super) fn transfer_input(&mut self, platform: &mut dyn Platform) {
        let bytes: Vec<u8> = self.typeahead.drain_all();
        if !bytes.is_empty() {
            self.pump_transfer(&bytes, platform);
        }
    }

    /// Feeds `bytes` (and the time) to the session, sends its answers, ends it when over.
    pub(super) fn pump_transfer(&mut self, bytes: &[u8], platform: &mut dyn Platform) {
        let now = platform.now_ms();
        let Mode::Transfer(t) = &mut self.mode else {
            return;
        };
        if !bytes.is_empty() {
            t.last_input_ms = now;
        }
        if t.closing.is_none() {
            // ZMODEM data never holds a bare Ctrl-C (control characters are escaped), and
            // a receiver sends none; a YMODEM receiver tells it from data itself.
            let interrupt = bytes.contains(&INTERRUPT);
            let (file, moved, problems) = (&mut t.file, &mut t.moved, &mut t.problems);
            let status = match &mut t.engine {
                Engine::Receive(receiver) => {
                    let mut sink = StoreSink {
                        platform,
                        file,
                        moved,
                        problems,
                    };
                    if interrupt {
                        receiver.cancel(&mut sink);
                    } else {
                        receiver.feed(bytes, now, &mut sink);
                        receiver.tick(now, &mut sink);
                    }
                    self.out.extend_from_slice(&receiver.take_output());
                    receiver.status()
                }
                Engine::ReceiveY(receiver) => {
                    let mut sink = StoreSink {
                        platform,
                        file,
                        moved,
                        problems,
                    };
                    receiver.feed(bytes, now, &mut sink);
                    receiver.tick(now, &mut sink);
                    self.out.extend_from_slice(&receiver.take_output());
                    receiver.status()
                }
                Engine::Send { sender, name } => {
                    let mut source = StoreSource {
                        platform,
                        name,
                        problems,
                    };
                    let status = sender.pump(bytes, interrupt, now, &mut source, &mut self.out);
                    if status == Status::Done {
                        moved.push((name.clone(), sender.offset()));
                    }
                    status
                }
            };
            if status != Status::Running {
                t.errors = match &t.engine {
                    Engine::Receive(receiver) => receiver.errors(),
                    Engine::ReceiveY(receiver) => receiver.errors(),
                    Engine::Send { .. } => 0,
                };
                t.closing = Some(closing_line(t, status, now));
            }
        }
        if t.closing.is_some() && now.saturating_sub(t.last_input_ms) >= SETTLE_MS {
            let line = t.closing.take().unwrap_or_default();
            self.mode = super::Mode::Command;
            self.say("\n");
            self.say(&line);
            self.prompt();
        }
    }
}

impl Sending {
    /// Feeds the receiver's bytes (or cancels on Ctrl-C), lets the time act, and puts the
    /// answer in `out`.
    fn pump(
        &mut self,
        bytes: &[u8],
        interrupt: bool,
        now: u64,
        source: &mut dyn Source,
        out: &mut Vec<u8>,
    ) -> Status {
        match self {
            Sending::Z(sender) => {
                if interrupt {
                    sender.cancel();
                } else {
                    sender.feed(bytes, now, source);
                    sender.tick(now, source);
                }
                out.extend_from_slice(&sender.take_output());
                sender.status()
            }
            Sending::Y(sender) => {
                if interrupt {
                    sender.cancel();
                } else {
                    sender.feed(bytes, now, source);
                    sender.tick(now, source);
                }
                out.extend_from_slice(&sender.take_output());
                sender.status()
            }
        }
    }

    fn offset(&self) -> u64 {
        match self {
            Sending::Z(sender) => sender.offset(),
            Sending::Y(sender) => sender.offset(),
        }
    }
}

/// What the session did: each file moved with its size, time and rate, then problems.
fn closing_line(t: &Transfer, status: Status, now: u64) -> String {
    let ms = now.saturating_sub(t.started_ms).max(1);
    let (verb, frames) = match t.engine {
        Engine::Receive(_) => ("received", "frames"),
        Engine::ReceiveY(_) => ("received", "blocks"),
        Engine::Send { .. } => ("sent", "frames"),
    };
    let mut text = String::new();
    let errors = match t.errors {
        0 => String::new(),
        n => format!(", {n} damaged {frames} sent again"),
    };
    for (name, size) in &t.moved {
        text.push_str(&format!(
            "{verb}: {name} {} in {}.{:01}s ({}/s){errors}\n",
            format_bytes(*size),
            ms / 1000,
            ms % 1000 / 100,
            format_bytes(size * 1000 / ms)
        ));
    }
    for problem in &t.problems {
        text.push_str(&format!("failure: {problem}\n"));
    }
    match status {
        Status::Failed(zmodem::Failure::Storage | zmodem::Failure::Refused)
            if !t.problems.is_empty() => {}
        Status::Failed(why) => {
            text.push_str(&format!(
                "failure: transfer {}; nothing kept of an unfinished file\n",
                why.message()
            ));
        }
        _ => {}
    }
    if text.is_empty() {
        text.push_str("no files transferred\n");
    }
    text
}
