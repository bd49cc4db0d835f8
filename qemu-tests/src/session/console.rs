//! What most tests do on the box's console beyond one command: a command that must succeed,
//! a line typed on a guest's console, waiting for a guest to run.

use std::time::{Duration, Instant};

use super::{Session, PROMPT};

impl Session {
    /// Run `line` at the prompt; it must not fail (no `failure`, `bad command`, `expected`
    /// in its output). What it printed.
    pub fn checked(&mut self, line: &str) -> String {
        let out = self.command(line, PROMPT);
        assert!(
            !out.contains("failure") && !out.contains("bad command") && !out.contains("expected"),
            "{line}: {out}\n{}",
            self.transcript()
        );
        out
    }

    /// Attach to guest `vm`'s console, type `line`, wait up to `timeout` for `until`, detach;
    /// what came before `until`.
    pub fn on_console(&mut self, vm: &str, line: &str, until: &str, timeout: Duration) -> String {
        self.send_line(&format!("/metarouter console {vm}"));
        self.expect("[Ctrl-A is the prefix key]");
        self.send_line(line);
        let out = self.expect_within(until, timeout);
        self.send("\x01q");
        self.expect("Welcome back!");
        self.expect(PROMPT);
        out
    }

    /// Wait up to 30 s for guest `name` to be `running` in `/metarouter print`.
    pub fn wait_running(&mut self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self
            .command("/metarouter print", PROMPT)
            .lines()
            .any(|l| l.contains(name) && l.trim_end().ends_with("running"))
        {
            assert!(
                Instant::now() < deadline,
                "{name} not running\n{}",
                self.transcript()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}
