//! An expect-style session on a QEMU serial console.
//!
//! [`Session::start`] spawns QEMU with the console on pipes; a reader thread collects
//! everything QEMU prints. [`Session::expect`] waits until a text appears after the last match,
//! [`Session::send`] types. Every wait has a timeout, and a watchdog kills QEMU at the session's
//! deadline, so a hung machine fails the test instead of hanging it. Failures panic with the
//! whole transcript, which is what a test wants to show.

mod console;
mod relay;

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::boards::Board;
use crate::image;
use crate::qemu::QemuConfig;

/// The management prompt after boot.
pub const PROMPT: &str = "[admin@MikroTik] > ";

/// Default wait for one expected text.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default lifetime of a session before the watchdog kills QEMU.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);

#[derive(Default)]
struct Output {
    bytes: Vec<u8>,
    closed: bool,
}

type Shared = Arc<(Mutex<Output>, Condvar)>;

/// A running QEMU with its console.
pub struct Session {
    name: String,
    child: Arc<Mutex<Child>>,
    stdin: Option<ChildStdin>,
    output: Shared,
    cursor: usize,
    started: Instant,
}

impl Session {
    /// Boot `board`'s image (built once per process) with `-no-reboot`.
    pub fn boot(board: Board) -> Session {
        Self::boot_with(board, |_| {})
    }

    /// Like [`Session::boot`], letting the caller adjust the QEMU configuration.
    pub fn boot_with(board: Board, adjust: impl FnOnce(&mut QemuConfig)) -> Session {
        let image = image::build_once(board).unwrap_or_else(|e| panic!("building {board}: {e}"));
        let mut config = QemuConfig::new(board, &image.image);
        config.no_reboot = true;
        adjust(&mut config);
        let cmd = config.command().unwrap_or_else(|e| panic!("{e}"));
        Session::start(board.name(), cmd, DEFAULT_DEADLINE)
    }

    /// Spawn `cmd` (stdin/stdout become the console) and kill it after `deadline`.
    pub fn start(name: &str, mut cmd: Command, deadline: Duration) -> Session {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: cannot start {cmd:?}: {e}"));
        let stdin = child.stdin.take();
        let output: Shared = Arc::new((Mutex::new(Output::default()), Condvar::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            thread::spawn(move || pump(stream, &output));
        }
        let child = Arc::new(Mutex::new(child));
        let watchdog = Arc::downgrade(&child);
        thread::spawn(move || {
            thread::sleep(deadline);
            if let Some(child) = watchdog.upgrade() {
                let _ = child.lock().unwrap_or_else(|e| e.into_inner()).kill();
            }
        });
        Session {
            name: name.to_string(),
            child,
            stdin,
            output,
            cursor: 0,
            started: Instant::now(),
        }
    }

    /// The QEMU process's id (for reading its CPU time).
    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).id()
    }

    /// Everything the console printed so far, with `\r\n` turned into `\n`.
    pub fn transcript(&self) -> String {
        let out = self.output.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&out.bytes).replace("\r\n", "\n")
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "{}: {} (after {:.1} s)\n----- console transcript -----\n{}\n----- end of transcript -----",
            self.name,
            what,
            self.started.elapsed().as_secs_f64(),
            self.transcript()
        )
    }

    /// Type `text` on the console.
    pub fn send(&mut self, text: &str) {
        self.send_bytes(text.as_bytes());
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let ok = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(bytes).and_then(|_| stdin.flush()).is_ok(),
            None => false,
        };
        if !ok {
            self.fail(&format!(
                "cannot type {:?}: QEMU's console is closed",
                String::from_utf8_lossy(bytes)
            ));
        }
    }

    /// Type `line` and Enter (CR, as a terminal sends it).
    pub fn send_line(&mut self, line: &str) {
        self.send(line);
        self.send("\r");
    }

    /// Wait for `text` after the previous match; return what came before it (raw, with `\r`).
    pub fn try_expect(&mut self, text: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let (lock, cond) = &*self.output;
        let mut out = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(pos) = find(&out.bytes[self.cursor..], text.as_bytes()) {
                let start = self.cursor;
                self.cursor += pos + text.len();
                return Some(String::from_utf8_lossy(&out.bytes[start..start + pos]).into_owned());
            }
            let now = Instant::now();
            if out.closed || now >= deadline {
                return None;
            }
            out = cond
                .wait_timeout(out, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Like [`Session::try_expect`], failing the test (with the transcript) on timeout.
    pub fn expect(&mut self, text: &str) -> String {
        self.expect_within(text, DEFAULT_TIMEOUT)
    }

    pub fn expect_within(&mut self, text: &str, timeout: Duration) -> String {
        match self.try_expect(text, timeout) {
            Some(before) => before,
            None => self.fail(&format!("timed out after {timeout:?} waiting for {text:?}")),
        }
    }

    /// Type a command line, wait for the prompt, and return the command's output (the lines
    /// between the echoed command and the prompt), with `\n` line ends.
    pub fn command(&mut self, line: &str, prompt: &str) -> String {
        self.send_line(line);
        let raw = self.expect(prompt);
        let text = raw.replace("\r\n", "\n");
        match text.split_once('\n') {
            Some((_echo, rest)) => rest.to_string(),
            None => String::new(),
        }
    }

    /// Log in at the serial console's `Login:` as admin with an empty password (the
    /// default), and wait for the prompt.
    pub fn login(&mut self, timeout: Duration) -> String {
        let before = self.expect_within("Login: ", timeout);
        self.send_line("admin");
        self.expect("Password: ");
        self.send_line("");
        self.expect(PROMPT);
        before
    }

    /// Wait for QEMU to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self
                .child
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .try_wait();
            match status {
                Ok(Some(status)) => return status,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
                Ok(None) => self.fail(&format!(
                    "QEMU still running {timeout:?} after it should have ended"
                )),
                Err(e) => self.fail(&format!("waiting for QEMU: {e}")),
            }
        }
    }

    /// Seconds since QEMU started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Log in at the serial console's `Login:` as `user` with `password`, and wait for
    /// `prompt` (it shows the identity, e.g. `[admin@router1] > `; a suffix such as `] > `
    /// matches any identity). Returns the console output before `Login: `.
    pub fn login_as(
        &mut self,
        user: &str,
        password: &str,
        prompt: &str,
        timeout: Duration,
    ) -> String {
        let before = self.expect_within("Login: ", timeout);
        self.send_line(user);
        self.expect("Password: ");
        self.send_line(password);
        self.expect(prompt);
        before
    }

    /// Pull the plug: SIGKILL QEMU at once (nothing in the machine gets to finish what it was
    /// doing; what QEMU already wrote to its disk images stays there) and reap it. Returns
    /// when the process is gone.
    pub fn power_cut(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = child.kill() {
            drop(child);
            self.fail(&format!("cannot kill QEMU: {e}"));
        }
        if let Err(e) = child.wait() {
            drop(child);
            self.fail(&format!("waiting for the killed QEMU: {e}"));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn pump(mut stream: Box<dyn Read + Send>, output: &Shared) {
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap_or(0);
        let (lock, cond) = &**output;
        let mut out = lock.lock().unwrap_or_else(|e| e.into_inner());
        if n == 0 {
            out.closed = true;
            cond.notify_all();
            return;
        }
        out.bytes.extend_from_slice(&buf[..n]);
        cond.notify_all();
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
