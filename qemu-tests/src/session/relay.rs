//! A program on the console instead of the keyboard: [`Session::relay`] connects a program's
//! stdin and stdout to QEMU's serial console (what a terminal program does for `sz` or `rz`)
//! until it exits. What the console printed before the relay started stays in the transcript;
//! what the program exchanged with the machine is not matched against later.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::Session;

impl Session {
    /// Runs `cmd` with its stdin and stdout on the console until it exits (or `timeout`,
    /// when it is killed), and returns its exit status and what it wrote to stderr.
    pub fn relay(&mut self, mut cmd: Command, timeout: Duration) -> (ExitStatus, String) {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| self.fail(&format!("cannot start {cmd:?}: {e}")));
        let mut to_program = child.stdin.take().expect("piped stdin");
        let mut from_program = child.stdout.take().expect("piped stdout");
        let mut errors = child.stderr.take().expect("piped stderr");
        let Some(mut to_console) = self.stdin.take() else {
            self.fail("QEMU's console is closed");
        };
        // The program's output goes to the console as it comes.
        let copier = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = from_program.read(&mut buf) {
                if n == 0 || to_console.write_all(&buf[..n]).is_err() {
                    break;
                }
                let _ = to_console.flush();
            }
            to_console
        });
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = errors.read_to_string(&mut text);
            text
        });
        // The console's output goes to the program.
        let deadline = Instant::now() + timeout;
        let status = loop {
            let chunk = {
                let (lock, cond) = &*self.output;
                let out = lock.lock().unwrap_or_else(|e| e.into_inner());
                let (out, _) = cond
                    .wait_timeout_while(out, Duration::from_millis(20), |o| {
                        o.bytes.len() == self.cursor && !o.closed
                    })
                    .unwrap_or_else(|e| e.into_inner());
                let chunk = out.bytes[self.cursor..].to_vec();
                self.cursor = out.bytes.len();
                chunk
            };
            if !chunk.is_empty() {
                let _ = to_program.write_all(&chunk);
                let _ = to_program.flush();
            }
            if let Ok(Some(status)) = child.try_wait() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                break child.wait().expect("waiting for the killed program");
            }
        };
        drop(to_program);
        let to_console = copier.join().expect("the copier thread");
        self.stdin = Some(to_console);
        let stderr = stderr.join().unwrap_or_default();
        (status, stderr)
    }
}
