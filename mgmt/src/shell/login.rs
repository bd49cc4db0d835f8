//! Login on the serial console: `<identity> Login:` / `Password:` (not echoed), checked against
//! `/user`. Each wrong attempt waits longer before the next prompt (1 s, 2 s, 4 s, ... up to 32 s)
//! and input typed meanwhile waits for the next prompt (it is the next attempt).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::editor::Key;
use super::{Mode, Shell};
use crate::menus::user::password_matches;
use crate::platform::Platform;

/// Delay after the `n`th consecutive failure, in ms.
pub fn failure_delay_ms(failures: u32) -> u64 {
    1000u64 << failures.saturating_sub(1).min(5)
}

impl Shell {
    pub(super) fn show_login(&mut self) {
        self.editor.clear();
        self.editor.echo = true;
        self.editor.remember = false;
        let text = format!("{} Login: ", self.config.identity);
        self.say(&text);
        self.mode = Mode::LoginUser;
    }

    pub(super) fn login_byte(&mut self, byte: u8, platform: &mut dyn Platform) {
        let mut echo = Vec::new();
        let key = self.editor.feed(byte, &mut echo);
        self.out.extend_from_slice(&echo);
        let line = match key {
            Key::Submit(line) => line,
            Key::Cancel | Key::TooLong(_) => {
                self.say("\n");
                self.show_login();
                return;
            }
            _ => return,
        };
        self.say("\n");
        match core::mem::replace(&mut self.mode, Mode::LoginUser) {
            Mode::LoginUser => {
                self.mode = Mode::LoginPassword { user: line };
                self.editor.echo = false;
                self.say("Password: ");
            }
            Mode::LoginPassword { user } => self.check_login(user, &line, platform),
            other => self.mode = other,
        }
    }

    fn check_login(&mut self, name: String, password: &str, platform: &mut dyn Platform) {
        self.editor.echo = true;
        self.editor.remember = true;
        let user = self
            .config
            .users
            .iter()
            .find(|u| u.name == name && !u.disabled);
        match user {
            Some(user) if password_matches(user, password) => {
                self.failures = 0;
                self.group = user.group;
                self.user = name;
                let info = platform.system_info();
                self.say(&format!("\n  {} {}\n\n", info.board_name, info.version));
                self.mode = super::Mode::Command;
                self.prompt();
            }
            _ => {
                self.failures = self.failures.saturating_add(1);
                self.say("Login failed, incorrect username or password\n");
                self.mode = Mode::LoginDelay {
                    until: platform.now_ms() + failure_delay_ms(self.failures),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn delays_grow_and_cap() {
        let delays: alloc::vec::Vec<u64> = (1..=8).map(super::failure_delay_ms).collect();
        assert_eq!(delays, [1000, 2000, 4000, 8000, 16000, 32000, 32000, 32000]);
    }
}
