//! `/metarouter console`: the terminal talks to a guest console. Input goes to the guest as raw
//! bytes except the Ctrl-A prefix: then Q returns to the host (`Welcome back!`), B sends a break,
//! A (or a second Ctrl-A) sends a literal Ctrl-A, R is accepted and does nothing (the serial rate
//! is fixed). Guest output is copied to the terminal as it is and never reaches the interpreter.

use alloc::vec::Vec;

use super::{Mode, Shell};
use crate::platform::{GuestId, Platform, Terminal};

const CTRL_A: u8 = 0x01;
/// Most guest output copied per poll.
const POLL_LIMIT: usize = 4096;

impl Shell {
    pub(super) fn attached_byte(
        &mut self,
        guest: GuestId,
        byte: u8,
        to_guest: &mut Vec<u8>,
        platform: &mut dyn Platform,
    ) {
        let Mode::Attached { prefix, .. } = &mut self.mode else {
            return;
        };
        if !*prefix {
            if byte == CTRL_A {
                *prefix = true;
                self.say("\n[Q - quit connection] [B - send break] [A - send Ctrl-A prefix] [R - autoconfigure rate]\n");
            } else {
                to_guest.push(byte);
            }
            return;
        }
        *prefix = false;
        match byte {
            b'q' | b'Q' => {
                if !to_guest.is_empty() {
                    platform.guest_console_write(guest, to_guest);
                    to_guest.clear();
                }
                self.say("Q\nWelcome back!\n");
                self.mode = Mode::Command;
                self.prompt();
            }
            b'b' | b'B' => {
                if !to_guest.is_empty() {
                    platform.guest_console_write(guest, to_guest);
                    to_guest.clear();
                }
                platform.guest_console_break(guest);
                self.say("B\n");
            }
            b'a' | b'A' | CTRL_A => {
                self.say("A\n");
                to_guest.push(CTRL_A);
            }
            b'r' | b'R' => self.say("R\n"),
            _ => {}
        }
    }

    /// Copies pending guest console output to the terminal.
    pub(super) fn pump_guest(
        &mut self,
        guest: GuestId,
        platform: &mut dyn Platform,
        terminal: &mut dyn Terminal,
    ) {
        let mut buf = [0u8; 256];
        let mut copied = 0;
        while copied < POLL_LIMIT {
            let n = platform.guest_console_read(guest, &mut buf);
            if n == 0 {
                break;
            }
            terminal.write(&buf[..n.min(buf.len())]);
            copied += n;
        }
    }
}
