//! Keeping the configuration on flash: loading it at boot (the snapshot, then the journal
//! records after it), saving each change as one journal record, and writing a new snapshot
//! (compaction) when the journal is full, when it has grown past the snapshot while the
//! console is idle, or when appending is not safe (see `crate::store` and `crate::saved`).

use alloc::format;

use super::{Mode, Shell};
use crate::change::ChangeSet;
use crate::cli::exec::Session;
use crate::config::{Config, ItemMap};
use crate::menus::ROOT;
use crate::platform::Platform;
use crate::rib_state::{rib_error_text, RibState};
use crate::saved::{self, Directive};
use crate::store::{ConfigStore, Loaded, StoreError};

/// A journal smaller than this is never compacted while idle.
const COMPACT_MIN: u32 = 64 * 1024;
/// How often the RIB's link states are refreshed from the platform.
const LINK_CHECK_MS: u64 = 250;

impl Shell {
    /// Reads the saved configuration from the platform's flash and replays it.
    pub(super) fn load(&mut self, platform: &mut dyn Platform) {
        let Some(flash) = platform.flash() else {
            self.say("configuration: no flash, changes will not be saved\n");
            return;
        };
        let (store, loaded) = ConfigStore::load(flash);
        self.store = Some(store);
        match loaded {
            Loaded::Empty => {}
            Loaded::Config {
                snapshot,
                journal,
                damaged_other,
                torn_tail,
                damaged_journal,
                moved,
                ..
            } => {
                if damaged_other {
                    self.say("configuration: ignored a damaged copy (interrupted save), using the last good one\n");
                }
                if snapshot.starts_with(saved::SNAPSHOT_HEADER) {
                    // A snapshot lists every user, the default one included.
                    self.config.users = ItemMap::new();
                }
                self.replay(&snapshot, platform);
                for record in &journal {
                    self.replay(record, platform);
                }
                if torn_tail {
                    self.say("configuration: the last change before power was lost was not saved\n");
                }
                if damaged_journal {
                    self.say("configuration: saved changes are damaged, later changes were lost\n");
                }
                if moved {
                    self.say("configuration: loaded from the flash's earlier layout, saved in the new one at the next change\n");
                }
            }
            Loaded::Corrupt => {
                self.say("configuration: saved configuration is corrupt, starting with the default configuration\n")
            }
            Loaded::Unreadable(_) => {
                self.say("configuration: flash cannot be read, starting with the default configuration\n")
            }
        }
        self.config.clear_touched();
    }

    /// Builds the RIB of the loaded configuration.
    pub(super) fn build_rib(&mut self, platform: &dyn Platform) {
        match RibState::build(&self.config, platform) {
            Ok(rib) => self.rib = rib,
            Err(error) => self.say(&format!(
                "configuration: routes not loaded: {}\n",
                rib_error_text(error)
            )),
        }
    }

    /// Runs a saved script (snapshot or journal record) on the current configuration, with no
    /// effect on the machine (the shell applies the loaded configuration once, at the end).
    fn replay(&mut self, text: &str, platform: &mut dyn Platform) {
        let mut session = Session::new(&ROOT);
        // Nothing is printed while replaying: no RIB is needed.
        let rib = RibState::empty();
        // References to interfaces that are gone are kept by name (`crate::references`).
        self.config.restoring = true;
        let mut next_id = None;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let command = match Directive::parse(line) {
                Directive::NextId(id) => {
                    next_id = Some(id);
                    continue;
                }
                Directive::Forget(id) => {
                    self.config.forget_item(id);
                    continue;
                }
                Directive::Gone(id, name) => {
                    self.config.remember_gone(id, name);
                    continue;
                }
                Directive::Restore(id, command) => {
                    self.config.forget_item(id);
                    self.config.forced_id = Some(id);
                    command
                }
                Directive::Command(command) => command,
            };
            let result = session.run(command, &self.config, &rib, platform);
            self.config.forced_id = None;
            match result {
                Ok(mut result) => {
                    if result.config.forced_id.take().is_some() {
                        self.say(&format!(
                            "configuration line {}: the line made no item\n",
                            number + 1
                        ));
                    }
                    self.config = result.config;
                }
                Err(error) => self.say(&format!(
                    "configuration line {}: {}\n",
                    number + 1,
                    error.message()
                )),
            }
        }
        if let Some(id) = next_id {
            // Ids taken while replaying (gone interfaces remembered by name) stay taken.
            let next = self.config.next_id().max(id);
            self.config.set_next_id(next);
        }
        self.config.restoring = false;
    }

    /// Saves the change from `old` to the live configuration: one journal record, or a new
    /// snapshot when the journal cannot take it.
    pub(super) fn save(&mut self, old: &Config, changes: &ChangeSet, platform: &mut dyn Platform) {
        let (Some(store), Some(flash)) = (self.store.as_mut(), platform.flash()) else {
            return;
        };
        let result = if store.sealed() {
            Err(StoreError::NeedsCompaction)
        } else {
            let record = saved::record(old, &self.config, changes);
            store.append(flash, record.as_bytes())
        };
        let result = match result {
            Err(StoreError::NeedsCompaction) => {
                store.compact(flash, saved::snapshot(&self.config).as_bytes())
            }
            other => other,
        };
        if let Err(error) = result {
            self.report_save_failure(error);
        }
    }

    /// Writes the whole configuration as a new snapshot now (the journal starts empty).
    pub fn compact_configuration(&mut self, platform: &mut dyn Platform) {
        let (Some(store), Some(flash)) = (self.store.as_mut(), platform.flash()) else {
            return;
        };
        if let Err(error) = store.compact(flash, saved::snapshot(&self.config).as_bytes()) {
            self.report_save_failure(error);
        }
    }

    fn report_save_failure(&mut self, error: StoreError) {
        let reason = match error {
            StoreError::RegionTooSmall => "flash region too small",
            StoreError::TooLarge => "configuration too large for the flash region",
            StoreError::Flash(_) | StoreError::NeedsCompaction => "flash write failed",
        };
        self.say(&format!("failure: configuration not saved: {reason}\n"));
    }

    /// Work done while the console has nothing better to do: link states into the RIB, and a
    /// journal grown past its snapshot folded into a new one.
    pub(super) fn background(&mut self, platform: &mut dyn Platform) {
        let now = platform.now_ms();
        if now.wrapping_sub(self.links_checked_ms) >= LINK_CHECK_MS {
            self.links_checked_ms = now;
            self.rib.refresh_links(&self.config, &*platform);
        }
        let idle = matches!(self.mode, Mode::Command) && self.typeahead.len() == 0;
        let grown = self.store.as_ref().is_some_and(|s| {
            let (snapshot, journal) = s.sizes();
            journal > COMPACT_MIN.max(snapshot) || s.wants_compaction()
        });
        if idle && grown {
            self.compact_configuration(platform);
        }
    }
}
