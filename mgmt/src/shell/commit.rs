//! Making a change live: permission check, applying it to the machine, saving it to flash; and
//! image imports, whose new virtual machine becomes part of the configuration only when the
//! import completes.

use alloc::format;

use super::{Mode, Shell};
use crate::apply::apply_change;
use crate::cli::error::CmdError;
use crate::config::Config;
use crate::export::saved_script;
use crate::platform::{ImportProgress, Platform};
use crate::store::StoreError;

impl Shell {
    /// Makes `new` the live configuration: checks permission, applies it to the machine, saves.
    pub(super) fn commit(
        &mut self,
        new: Config,
        platform: &mut dyn Platform,
    ) -> Result<(), CmdError> {
        if new == self.config {
            return Ok(());
        }
        if self.group == "read" {
            return Err(CmdError::NotPermitted);
        }
        let warnings = apply_change(&self.config, &new, platform)?;
        for warning in warnings {
            self.say(&format!("{warning}\n"));
        }
        self.config = new;
        self.save(platform);
        Ok(())
    }

    pub(super) fn save(&mut self, platform: &mut dyn Platform) {
        let (Some(store), Some(flash)) = (self.store.as_mut(), platform.flash()) else {
            return;
        };
        let script = saved_script(&self.config);
        if let Err(error) = store.compact(flash, script.as_bytes()) {
            let reason = match error {
                StoreError::RegionTooSmall => "flash region too small",
                StoreError::TooLarge => "configuration too large for the flash region",
                StoreError::Flash(_) | StoreError::NeedsCompaction => "flash write failed",
            };
            self.say(&format!("failure: configuration not saved: {reason}\n"));
        }
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
