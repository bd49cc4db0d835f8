//! The guest model: what a virtual machine does in the simulator. It is not a virtual machine;
//! it follows the documented state machine and has a tiny console so that attach, input,
//! output, break, guest-initiated halt and reboot can be exercised end to end.
//!
//! - start: `booting` for [`BOOT_MS`], then `running`; prints `Starting...`, then
//!   `Starting services...`, a banner and the prompt `<name>> `.
//! - console: echoes what is typed; on Enter answers the line: `halt` (the guest halts itself:
//!   `shutting-down`, then `stopped` with last message "halted by guest"), `reboot` (the guest
//!   restarts itself), `disk` (prints its disk counters), anything else `<line>: unknown command`.
//!   Backspace works. A break prints `<break>`.
//! - host shut-down: `shutting-down` for [`STOP_MS`], then `stopped`; host reboot: `rebooting`
//!   for [`STOP_MS`], then boots again.
//! - console output is kept in a ring of [`CONSOLE_RING`] bytes while nobody reads it.

use std::collections::VecDeque;

use mgmt::{GuestConfig, GuestState};

/// Time from start to running.
pub const BOOT_MS: u64 = 300;
/// Time to shut down or to go down for a reboot.
pub const STOP_MS: u64 = 200;
/// Console output kept while nobody reads.
pub const CONSOLE_RING: usize = 4096;

/// One modelled guest.
#[derive(Clone, Debug)]
pub struct GuestModel {
    /// The address its console's `ip A.B.C.D/N` gave it (it answers ARP and ping there, on its
    /// first vif: `crate::net`).
    pub address: Option<([u8; 4], u8)>,
    pub config: GuestConfig,
    pub state: GuestState,
    /// RAM held since the last start (MiB); a redefinition takes effect at the next start.
    pub held_mib: u32,
    /// When the current state was entered (ms).
    since: u64,
    /// Reboot after the current shutdown.
    then_boot: bool,
    console: VecDeque<u8>,
    line: Vec<u8>,
    pub last_message: Option<String>,
    pub disk_reads: u64,
    pub disk_writes: u64,
}

impl GuestModel {
    pub fn new(config: GuestConfig) -> GuestModel {
        GuestModel {
            config,
            state: GuestState::Stopped,
            held_mib: 0,
            since: 0,
            then_boot: false,
            console: VecDeque::new(),
            line: Vec::new(),
            last_message: None,
            disk_reads: 0,
            disk_writes: 0,
            address: None,
        }
    }

    fn emit(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.console.len() == CONSOLE_RING {
                self.console.pop_front();
            }
            self.console.push_back(b);
        }
    }

    fn enter(&mut self, state: GuestState, now: u64) {
        self.state = state;
        self.since = now;
    }

    /// Boots a stopped guest.
    pub fn start(&mut self, now: u64, used_disk_kib: u64) {
        self.last_message = None;
        self.held_mib = self.config.memory_mib;
        self.line.clear();
        self.disk_reads += used_disk_kib.div_ceil(4);
        self.emit(b"Starting...\r\n");
        self.enter(GuestState::Booting, now);
    }

    /// Host asks the guest to halt.
    pub fn shutdown(&mut self, now: u64, message: &str) {
        self.then_boot = false;
        self.last_message = Some(String::from(message));
        self.enter(GuestState::ShuttingDown, now);
    }

    /// Host asks the guest to restart.
    pub fn reboot(&mut self, now: u64) {
        self.then_boot = true;
        self.enter(GuestState::Rebooting, now);
    }

    /// Advances the model to time `now`.
    pub fn tick(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.since);
        match self.state {
            GuestState::Booting if elapsed >= BOOT_MS => {
                let banner = format!(
                    "Starting services...\r\n\r\nsimulated guest {}: type a line; halt, reboot, disk\r\n{}> ",
                    self.config.name, self.config.name
                );
                self.emit(banner.as_bytes());
                self.enter(GuestState::Running, self.since + BOOT_MS);
            }
            GuestState::ShuttingDown | GuestState::Rebooting if elapsed >= STOP_MS => {
                let at = self.since + STOP_MS;
                if self.then_boot {
                    self.then_boot = false;
                    self.start(at, 0);
                    self.tick(now);
                } else {
                    self.enter(GuestState::Stopped, at);
                }
            }
            _ => {}
        }
    }

    /// Console input from the host.
    pub fn console_input(&mut self, bytes: &[u8], now: u64) {
        if self.state != GuestState::Running {
            return;
        }
        for &b in bytes {
            match b {
                b'\r' | b'\n' => {
                    let line = String::from_utf8_lossy(&self.line).trim().to_string();
                    self.line.clear();
                    self.emit(b"\r\n");
                    match line.as_str() {
                        "" => {}
                        "halt" => {
                            self.emit(b"halting\r\n");
                            self.shutdown(now, "halted by guest");
                            return;
                        }
                        "reboot" => {
                            self.emit(b"rebooting\r\n");
                            self.reboot(now);
                            return;
                        }
                        ip if ip.starts_with("ip ") => match parse_prefix(&ip[3..]) {
                            Some((a, len)) => {
                                self.address = Some((a, len));
                                let text = format!(
                                    "address={}.{}.{}.{}/{len}\r\n",
                                    a[0], a[1], a[2], a[3]
                                );
                                self.emit(text.as_bytes());
                            }
                            None => self.emit(b"usage: ip A.B.C.D/N\r\n"),
                        },
                        "disk" => {
                            let text = format!(
                                "reads={} writes={}\r\n",
                                self.disk_reads, self.disk_writes
                            );
                            self.emit(text.as_bytes());
                        }
                        other => {
                            let text = format!("{other}: unknown command\r\n");
                            self.emit(text.as_bytes());
                        }
                    }
                    let prompt = format!("{}> ", self.config.name);
                    self.emit(prompt.as_bytes());
                }
                0x08 | 0x7F if self.line.pop().is_some() => self.emit(b"\x08 \x08"),
                0x20..=0x7E => {
                    self.line.push(b);
                    self.emit(&[b]);
                }
                _ => {}
            }
        }
    }

    /// A break on the console.
    pub fn console_break(&mut self) {
        if self.state == GuestState::Running {
            let prompt = format!("\r\n<break>\r\n{}> ", self.config.name);
            self.emit(prompt.as_bytes());
        }
    }

    /// Takes pending console output.
    pub fn console_read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.console.len());
        for slot in buf.iter_mut().take(n) {
            *slot = self.console.pop_front().unwrap_or(0);
        }
        n
    }
}

/// `A.B.C.D/N`.
fn parse_prefix(text: &str) -> Option<([u8; 4], u8)> {
    let (addr, len) = text.trim().split_once('/')?;
    let addr: std::net::Ipv4Addr = addr.parse().ok()?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    Some((addr.octets(), len))
}
