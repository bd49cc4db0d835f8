//! `/ping` running on the console: each poll prints the lines the platform's ping has ready
//! (a row per reply or timeout, then the summary) and the prompt returns when it ends. Ctrl-C
//! stops it (the summary is printed); other keys typed meanwhile wait in the type-ahead queue
//! and run after it, as with an image import.

use super::{Mode, Shell};
use crate::menus::ping::event_line;
use crate::platform::{PingEvent, Platform};

/// Ctrl-C.
const INTERRUPT: u8 = 0x03;

impl Shell {
    /// Prints what the ping has ready; back to the prompt when it is done.
    pub(super) fn poll_ping(&mut self, platform: &mut dyn Platform) {
        if self.typeahead.take_interrupt(INTERRUPT) {
            platform.ping_stop();
        }
        while let Some(event) = platform.ping_next_event() {
            let line = event_line(&event);
            self.say(&line);
            self.say("\n");
            if let PingEvent::Done(_) = event {
                self.say("\n");
                self.mode = Mode::Command;
                self.prompt();
                return;
            }
        }
    }
}
