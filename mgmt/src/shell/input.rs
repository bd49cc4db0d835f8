//! Console input: every byte goes through the type-ahead queue, in order, to the current mode
//! (login, command line, confirmation, attached guest console). While the shell is busy (an
//! image import, a login delay) the bytes wait in the queue and are handled as soon as it is
//! done, as a terminal's type-ahead is: a line typed or pasted during an import runs after
//! it, exactly as typed. Nothing is dropped; only after a confirmed reboot or shutdown (the
//! session is over) are further bytes discarded.
//!
//! The queue holds [`TYPEAHEAD_CAPACITY`] bytes. The caller gives [`Shell::input`] at most
//! [`Shell::input_room`] bytes and leaves the rest where it is (the hypervisor in its console
//! queue and the UART, which then hold the sender back), so a long paste is slowed down, never
//! cut.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::{Mode, Shell};
use crate::platform::{Platform, Terminal};

/// Bytes the type-ahead queue holds: a pasted configuration of a few hundred lines, or a
/// few maximal command lines, typed during an import.
pub const TYPEAHEAD_CAPACITY: usize = 64 * 1024;

/// The bytes typed but not handled yet.
#[derive(Debug, Default)]
pub(super) struct TypeAhead {
    bytes: VecDeque<u8>,
}

impl TypeAhead {
    pub(super) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Takes everything queued.
    pub(super) fn drain_all(&mut self) -> Vec<u8> {
        self.bytes.drain(..).collect()
    }

    /// Takes the first `key` (an interrupt such as Ctrl-C) out of the queue, if it is there:
    /// it acts at once, ahead of what was typed before it.
    pub(super) fn take_interrupt(&mut self, key: u8) -> bool {
        match self.bytes.iter().position(|&b| b == key) {
            Some(at) => {
                self.bytes.remove(at);
                true
            }
            None => false,
        }
    }
}

impl Shell {
    /// Console input as it arrives (any chunking; CR, LF and CRLF all end a line). Give at most
    /// [`Shell::input_room`] bytes: bytes the shell cannot handle yet (it is busy with an import
    /// or a login delay) wait in its type-ahead queue and are handled, in order, when it is done
    /// (from [`Shell::poll`]). More than the room is still kept, never dropped.
    pub fn input(
        &mut self,
        bytes: &[u8],
        platform: &mut dyn Platform,
        terminal: &mut dyn Terminal,
    ) {
        self.typeahead.bytes.extend(bytes);
        self.handle_typeahead(platform);
        self.flush(terminal);
    }

    /// How many more bytes [`Shell::input`] should be given now (type-ahead room).
    pub fn input_room(&self) -> usize {
        TYPEAHEAD_CAPACITY.saturating_sub(self.typeahead.len())
    }

    /// Bytes typed ahead that wait for the shell to finish what it is doing.
    pub fn typeahead_len(&self) -> usize {
        self.typeahead.len()
    }

    /// After an ESC that ended a repeated print: drops the rest of its escape sequence (an
    /// arrow key, say), so that it does not reach the command line. Only what is already queued
    /// and is part of a CSI or SS3 sequence goes.
    fn skip_escape_sequence(&mut self) {
        let queue = &mut self.typeahead.bytes;
        match queue.front() {
            Some(b'O') => {
                queue.pop_front();
                queue.pop_front();
            }
            Some(b'[') => {
                queue.pop_front();
                while let Some(byte) = queue.pop_front() {
                    if (0x40..=0x7E).contains(&byte) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }

    /// Hands queued bytes to the current mode until the queue is empty or the shell is busy.
    pub(super) fn handle_typeahead(&mut self, platform: &mut dyn Platform) {
        if let Mode::Transfer(_) = self.mode {
            self.transfer_input(platform);
            return;
        }
        let mut to_guest: Vec<u8> = Vec::new();
        // A running ping or fetch takes no keys but Ctrl-C (`ping.rs`, `fetch.rs`): the rest
        // wait for it.
        while !self.holds_input() && !matches!(self.mode, Mode::Pinging | Mode::Fetching(_)) {
            let Some(byte) = self.typeahead.bytes.pop_front() else {
                break;
            };
            if let Mode::Attached { guest, .. } = self.mode {
                self.attached_byte(guest, byte, &mut to_guest, platform);
                if !matches!(self.mode, Mode::Attached { .. }) && !to_guest.is_empty() {
                    platform.guest_console_write(guest, &to_guest);
                    to_guest.clear();
                }
                continue;
            }
            let fold = self.after_cr && byte == b'\n';
            self.after_cr = byte == b'\r';
            if fold {
                continue;
            }
            match &self.mode {
                Mode::LoginUser | Mode::LoginPassword { .. } => self.login_byte(byte, platform),
                Mode::Command => self.command_byte(byte, platform),
                Mode::Confirm { shutdown } => {
                    let shutdown = *shutdown;
                    self.confirm_byte(byte, shutdown, platform);
                }
                Mode::Repeating { .. } => {
                    if self.repeat_key(byte) {
                        self.skip_escape_sequence();
                    }
                }
                // Halted: a confirmed reboot or shutdown, the session is over. (The busy modes
                // end the loop and the attached mode is handled above.)
                Mode::Halted
                | Mode::LoginDelay { .. }
                | Mode::Importing { .. }
                | Mode::Pinging
                | Mode::Fetching(_)
                | Mode::Transfer(_)
                | Mode::Attached { .. } => {}
            }
        }
        if let Mode::Attached { guest, .. } = self.mode {
            if !to_guest.is_empty() {
                platform.guest_console_write(guest, &to_guest);
            }
        }
    }
}
