//! The console shell: the state machine between the terminal and the interpreter. It owns the
//! configuration and its store, and moves between login, the command prompt, confirmations,
//! guest console attach and running image imports. The hypervisor (or the simulator) feeds it
//! input bytes with [`Shell::input`] (`input.rs`: the type-ahead queue) and calls
//! [`Shell::poll`] periodically.

mod attach;
mod commit;
pub mod editor;
mod escape;
mod fetch;
mod input;
mod login;
mod persist;
mod ping;
mod repeat;
mod transfer;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::apply::apply_boot;
use crate::cli::complete::{columns, complete, help};
use crate::cli::exec::Session;
use crate::cli::menu::Outcome;
use crate::config::{Config, Vm};
use crate::menus::ROOT;
use crate::platform::{GuestId, Platform, Terminal};
use crate::rib_state::RibState;
use crate::store::ConfigStore;
use editor::{Editor, Key};
use input::TypeAhead;
pub use input::TYPEAHEAD_CAPACITY;

/// How the shell starts.
#[derive(Clone, Copy, Debug)]
pub struct ShellOptions {
    /// Ask for user name and password (the serial console does; the simulator by default not).
    pub login: bool,
    /// Terminal width for wrapping `print detail`.
    pub width: usize,
}

impl Default for ShellOptions {
    fn default() -> ShellOptions {
        ShellOptions {
            login: true,
            width: 80,
        }
    }
}

#[derive(Debug)]
enum Mode {
    LoginUser,
    LoginPassword {
        user: String,
    },
    LoginDelay {
        until: u64,
    },
    Command,
    Confirm {
        shutdown: bool,
    },
    Attached {
        guest: GuestId,
        prefix: bool,
    },
    Importing {
        vm: Vm,
        config: alloc::boxed::Box<Config>,
        shown: Option<u8>,
    },
    /// `print ... interval=`: `line` runs again every `every_ms` until a key is pressed.
    Repeating {
        line: String,
        every_ms: u64,
        next_ms: u64,
        /// Terminal rows of the output shown last.
        rows: usize,
    },
    /// `/ping` runs: its lines are printed as they come (`ping.rs`).
    Pinging,
    /// `/file receive` or `send`: a ZMODEM session has the terminal (`transfer.rs`).
    Transfer(alloc::boxed::Box<transfer::Transfer>),
    /// `/tool fetch`: a TFTP transfer runs (`fetch.rs`).
    Fetching(alloc::boxed::Box<fetch::Fetch>),
    /// A reboot or shutdown was requested, or the session ended.
    Halted,
}

/// The management console.
pub struct Shell {
    config: Config,
    /// The RIB of `config`, kept in step by every commit.
    rib: RibState,
    /// When the RIB's link states were last refreshed from the platform.
    links_checked_ms: u64,
    store: Option<ConfigStore>,
    session: Session,
    editor: Editor,
    mode: Mode,
    user: String,
    group: &'static str,
    login: bool,
    failures: u32,
    /// Input not handled yet (typed while the shell was busy).
    typeahead: TypeAhead,
    /// Output not yet written to the terminal.
    out: Vec<u8>,
    after_cr: bool,
    ended: bool,
}

impl Shell {
    /// Boots the management plane: loads the saved configuration from the platform's flash
    /// (reporting a corrupt store and starting with defaults), defines and starts the guests,
    /// programs the network. Boot messages and the first prompt are written on the first
    /// [`Shell::input`] or [`Shell::poll`].
    pub fn new(platform: &mut dyn Platform, options: ShellOptions) -> Shell {
        let mut session = Session::new(&ROOT);
        session.width = options.width.max(20);
        let mut shell = Shell {
            config: Config::new(platform.port_count()),
            rib: RibState::with_limits(crate::rib_state::live_limits(platform)),
            links_checked_ms: 0,
            store: None,
            session,
            editor: Editor::new(),
            mode: Mode::Command,
            user: String::from("admin"),
            group: "full",
            login: options.login,
            failures: 0,
            typeahead: TypeAhead::default(),
            out: Vec::new(),
            after_cr: false,
            ended: false,
        };
        shell.load(platform);
        shell.build_rib(platform);
        for line in apply_boot(&shell.config, platform) {
            shell.say(&format!("metarouter: {line}\n"));
        }
        if shell.login {
            shell.show_login();
        } else {
            shell.prompt();
        }
        shell
    }

    /// The live configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The live configuration in its saved form (a snapshot: `crate::saved`).
    pub fn saved_configuration(&self) -> String {
        crate::saved::snapshot(&self.config)
    }

    /// The RIB of the live configuration.
    pub fn rib(&self) -> &RibState {
        &self.rib
    }

    /// Whether the shell is working on something [`Shell::poll`] advances (login delay, image
    /// import, a file transfer on the console), so it wants polling without waiting for input.
    pub fn is_busy(&self) -> bool {
        self.holds_input() || matches!(self.mode, Mode::Transfer(_))
    }

    /// Whether the shell should be polled again at once rather than after the machine's next
    /// event: it is busy, or a `/tool fetch` runs (each poll answers the datagrams that came,
    /// so a transfer goes as fast as the loop turns). A running fetch still takes Ctrl-C.
    pub fn wants_polling(&self) -> bool {
        self.is_busy() || matches!(self.mode, Mode::Fetching(_))
    }

    /// Whether input waits in the type-ahead queue until the shell is done (login delay,
    /// image import).
    fn holds_input(&self) -> bool {
        matches!(self.mode, Mode::LoginDelay { .. } | Mode::Importing { .. })
    }

    /// Whether the session ended (`/quit` without login) or a reboot/shutdown was confirmed.
    pub fn is_halted(&self) -> bool {
        matches!(self.mode, Mode::Halted)
    }

    /// Whether `/quit` ended a session that has no login to return to.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Whether the terminal is connected to a guest console.
    pub fn is_attached(&self) -> bool {
        matches!(self.mode, Mode::Attached { .. })
    }

    /// Sets the terminal width (for `print detail`).
    pub fn set_width(&mut self, width: usize) {
        self.session.width = width.max(20);
    }

    /// Queues text, turning `\n` into CRLF.
    fn say(&mut self, text: &str) {
        for byte in text.bytes() {
            if byte == b'\n' {
                self.out.push(b'\r');
            }
            self.out.push(byte);
        }
    }

    fn flush(&mut self, terminal: &mut dyn Terminal) {
        if !self.out.is_empty() {
            terminal.write(&self.out);
            self.out.clear();
        }
    }

    fn prompt(&mut self) {
        let text = format!(
            "[{}@{}] {}> ",
            self.user,
            self.config.identity,
            self.session.prompt_path()
        );
        self.say(&text);
    }

    /// Periodic work: guest console output while attached, login delays, import progress.
    pub fn poll(&mut self, platform: &mut dyn Platform, terminal: &mut dyn Terminal) {
        match &self.mode {
            Mode::Attached { guest, .. } => {
                let guest = *guest;
                self.flush(terminal);
                self.pump_guest(guest, platform, terminal);
            }
            Mode::LoginDelay { until } if platform.now_ms() >= *until => self.show_login(),
            Mode::Importing { .. } => self.poll_import(platform),
            Mode::Repeating { .. } => self.poll_repeat(platform),
            Mode::Pinging => self.poll_ping(platform),
            Mode::Transfer(_) => self.pump_transfer(&[], platform),
            Mode::Fetching(_) => self.poll_fetch(platform),
            _ => {}
        }
        self.background(platform);
        self.handle_typeahead(platform);
        self.flush(terminal);
    }

    fn command_byte(&mut self, byte: u8, platform: &mut dyn Platform) {
        let mut echo = Vec::new();
        let key = self.editor.feed(byte, &mut echo);
        self.out.extend_from_slice(&echo);
        match key {
            Key::None => {}
            Key::Submit(line) => {
                self.say("\n");
                self.run_line(&line, platform);
            }
            Key::Complete => {
                let before = self.editor.before_cursor();
                let done = complete(
                    self.session.root,
                    &self.session.cwd,
                    &before,
                    &self.config,
                    &*platform,
                );
                let mut echo = Vec::new();
                for _ in 0..done.erase {
                    self.editor.feed(0x7F, &mut echo);
                }
                self.editor.insert(&done.insert, &mut echo);
                self.out.extend_from_slice(&echo);
                if !done.list.is_empty() {
                    self.say("\n");
                    self.say(&columns(&done.list, self.session.width));
                    self.reprompt();
                }
            }
            Key::Help => {
                let before = self.editor.before_cursor();
                let text = help(
                    self.session.root,
                    &self.session.cwd,
                    &before,
                    &self.config,
                    &*platform,
                );
                self.say("\n");
                self.say(&text);
                self.reprompt();
            }
            Key::Cancel => {
                self.say("\n");
                self.prompt();
            }
            Key::EndOfInput => {
                self.say("\n");
                self.quit();
            }
            Key::TooLong(length) => {
                self.say(&format!(
                    "\nfailure: line too long ({length} characters, at most {}), not executed\n",
                    editor::MAX_LINE
                ));
                self.prompt();
            }
        }
    }

    /// The prompt again with the line being edited.
    fn reprompt(&mut self) {
        self.prompt();
        let mut echo = Vec::new();
        self.editor.redraw(&mut echo);
        self.out.extend_from_slice(&echo);
    }

    fn run_line(&mut self, line: &str, platform: &mut dyn Platform) {
        let result = self.session.run(line, &self.config, &self.rib, platform);
        let result = match result {
            Ok(result) => result,
            Err(error) => {
                self.say(&format!("{}\n", error.message()));
                self.prompt();
                return;
            }
        };
        self.say(&result.out);
        if let Outcome::Import { vm } = result.outcome {
            self.mode = Mode::Importing {
                vm,
                config: alloc::boxed::Box::new(result.config),
                shown: None,
            };
            return;
        }
        if let Err(error) = self.commit(result.config, platform) {
            self.say(&format!("{}\n", error.message()));
            self.prompt();
            return;
        }
        match result.outcome {
            Outcome::Prompt | Outcome::Import { .. } => self.prompt(),
            Outcome::Attach(guest) => {
                self.mode = Mode::Attached {
                    guest,
                    prefix: false,
                }
            }
            Outcome::ConfirmReboot => {
                self.say("Reboot, yes? [y/N]: ");
                self.mode = Mode::Confirm { shutdown: false };
            }
            Outcome::ConfirmShutdown => {
                self.say("Shutdown, yes? [y/N]: ");
                self.mode = Mode::Confirm { shutdown: true };
            }
            Outcome::Quit => self.quit(),
            Outcome::Repeat { every_ms } => {
                self.start_repeat(line, every_ms, &result.out, platform)
            }
            Outcome::Ping => {
                self.mode = Mode::Pinging;
                self.poll_ping(platform);
            }
            Outcome::Transfer(request) => self.start_transfer(request, platform),
            Outcome::Fetch(request) => self.start_fetch(request, platform),
        }
    }

    fn confirm_byte(&mut self, byte: u8, shutdown: bool, platform: &mut dyn Platform) {
        if byte == b'y' || byte == b'Y' {
            self.say("y\n");
            if shutdown {
                platform.request_shutdown();
            } else {
                platform.request_reboot();
            }
            self.mode = Mode::Halted;
            return;
        }
        if (0x20..0x7F).contains(&byte) {
            self.out.push(byte);
        }
        self.say("\naction cancelled\n");
        self.mode = Mode::Command;
        self.prompt();
    }

    fn quit(&mut self) {
        self.session.cwd.clear();
        if self.login {
            self.say("\n");
            self.show_login();
        } else {
            self.ended = true;
            self.mode = Mode::Halted;
        }
    }
}
