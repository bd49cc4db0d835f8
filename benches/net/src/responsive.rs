//! Whether the console and a guest stay responsive while the box forwards at its limit: the
//! echo of each character typed on the console (the time from sending it to seeing it come
//! back), and the host's `/ping` of a guest over its vif, first on an idle box, then while a
//! flood at the highest rate under 1% loss crosses it ([`crate::rate::trial`] in a loop on
//! another thread).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use qemu_tests::session::{Session, PROMPT};

/// What a user feels at the console.
pub struct Feel {
    /// Echo times of the typed characters, sorted (milliseconds).
    pub echo_ms: Vec<f64>,
    /// The summary line of `/ping` to the guest.
    pub ping: String,
}

impl Feel {
    pub fn line(&self) -> String {
        let median = self.echo_ms[self.echo_ms.len() / 2];
        let max = self.echo_ms.last().copied().unwrap_or(0.0);
        format!(
            "echo median {median:.1} ms, max {max:.1} ms ({} characters); guest ping: {}",
            self.echo_ms.len(),
            self.ping.trim()
        )
    }
}

/// Type a command character by character (timing each echo), run it, then ping `guest`.
pub fn feel(s: &mut Session, guest: &str) -> Feel {
    let mut echo_ms = Vec::new();
    for c in "/system identity print".chars() {
        let start = Instant::now();
        s.send(&c.to_string());
        s.expect_within(&c.to_string(), Duration::from_secs(10));
        echo_ms.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    s.send("\r");
    s.expect_within(PROMPT, Duration::from_secs(10));
    let out = s.command(&format!("/ping {guest} count=10 interval=200ms"), PROMPT);
    let ping = out
        .lines()
        .find(|l| l.contains("sent="))
        .map_or_else(|| format!("no summary in: {}", out.trim()), str::to_string);
    echo_ms.sort_by(f64::total_cmp);
    Feel { echo_ms, ping }
}

/// [`feel`] while `flood` runs again and again on another thread.
pub fn under_load(s: &mut Session, guest: &str, flood: impl Fn() + Sync) -> Feel {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                flood();
            }
        });
        // Let the flood start.
        std::thread::sleep(Duration::from_millis(300));
        let feel = feel(s, guest);
        done.store(true, Ordering::Relaxed);
        feel
    })
}
