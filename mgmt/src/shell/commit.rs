//! Making a change live: permission check, the RIB, the machine, saving it to flash; and
//! image imports, whose new virtual machine becomes part of the configuration only when the
//! import completes.

use alloc::format;

use super::{Mode, Shell};
use crate::apply;
use crate::cli::error::CmdError;
use crate::config::Config;
use crate::platform::{ImportProgress, Platform};

impl Shell {
    /// Makes `new` (the result of a command run on a copy of the live configuration) live
    /// ([`apply::commit`]: permission, RIB, machine; all or nothing) and saves the change.
    pub(super) fn commit(
        &mut self,
        new: Config,
        platform: &mut dyn Platform,
    ) -> Result<(), CmdError> {
        let may_change = self.group != "read";
        let Some(done) = apply::commit(&mut self.config, &mut self.rib, new, may_change, platform)?
        else {
            return Ok(());
        };
        for warning in &done.warnings {
            self.say(&format!("{warning}\n"));
        }
        self.save(&done.old, &done.changes, platform);
        Ok(())
    }

    pub(super) fn poll_import(&mut self, platform: &mut dyn Platform) {
        let Mode::Importing { vm, shown, .. } = &mut self.mode else {
            return;
        };
        let slot = vm.slot;
        match platform.image_import_poll(slot) {
            ImportProgress::Working(percent) => {
                if *shown != Some(percent) {
                    *shown = Some(percent);
                    self.say(&format!("\rimported: {percent}%"));
                }
            }
            ImportProgress::Done => {
                let Mode::Importing { vm, mut config, .. } =
                    core::mem::replace(&mut self.mode, Mode::Command)
                else {
                    return;
                };
                self.say("\rimported: 100%\n");
                config.vms.push(vm);
                if let Err(error) = self.commit(*config, platform) {
                    platform.guest_undefine(slot);
                    self.say(&format!("{}\n", error.message()));
                }
                self.prompt();
            }
            ImportProgress::Failed(error) => {
                self.mode = Mode::Command;
                platform.guest_undefine(slot);
                self.say(&format!("\nfailure: {}\n", error.message()));
                self.prompt();
            }
        }
    }
}
