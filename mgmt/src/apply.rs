//! Makes the machine match the configuration after a change: defines, starts, stops and
//! removes guests, and hands the network configuration to the platform. Guest RAM is checked
//! before anything is touched, so a change that does not fit is refused whole; a guest the
//! machine refuses to start for a reason that will not change (this machine cannot run guests,
//! a bad or missing image) makes the change fail and be undone.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::change::ChangeSet;
use crate::cli::error::CmdError;
use crate::config::{Config, Vm};
use crate::menus::guest_config;
use crate::network_derive::network_config;
use crate::platform::{Platform, PlatformError, MIB};
use crate::rib_state::RibState;

/// What [`commit`] did.
pub struct Committed {
    /// The configuration before the change.
    pub old: Config,
    /// What changed.
    pub changes: ChangeSet,
    /// Lines to print (a guest that did not start for a passing reason).
    pub warnings: Vec<String>,
}

/// Makes `new` (the result of a command run on a copy of `live`) the live configuration: finds
/// what changed, updates the RIB and the machine, all of it or nothing. On error `live`, `rib`
/// and the machine are as they were. The cost follows what changed, not the size of the
/// configuration. `Ok(None)`: nothing changed. A change when `may_change` is false (a user of
/// group `read`) is refused.
pub fn commit(
    live: &mut Config,
    rib: &mut RibState,
    mut new: Config,
    may_change: bool,
    platform: &mut dyn Platform,
) -> Result<Option<Committed>, CmdError> {
    let changes = ChangeSet::between(live, &mut new);
    if changes.is_empty() {
        return Ok(None);
    }
    if !may_change {
        return Err(CmdError::NotPermitted);
    }
    let routing = changes.touches_routing();
    if routing {
        rib.apply(&new, &changes, &*platform)
            .map_err(|refused| CmdError::failure(refused.text()))?;
    }
    let warnings = match apply_change(live, &new, &changes, platform) {
        Ok(warnings) => warnings,
        Err(error) => {
            if routing {
                // The old items fitted before, so taking them back cannot fail.
                let _ = rib.apply(live, &changes, &*platform);
            }
            return Err(error);
        }
    };
    if changes.touches_interfaces() {
        // Guests started or stopped above: their interfaces' links changed.
        rib.refresh_links(&new, &*platform);
    }
    if changes.touches_interfaces() || routing {
        rib.sync_host_index(&new);
    }
    let old = core::mem::replace(live, new);
    Ok(Some(Committed {
        old,
        changes,
        warnings,
    }))
}

/// Applies the difference between `old` and `new` (the items `changes` names) to the platform.
/// On error nothing was done that is not undone, and the caller keeps `old`. On success the
/// caller takes `new`; the returned lines are warnings to print (a guest that did not start for
/// a passing reason). A change that touches neither guests nor the network (a route, say) does
/// no work here.
pub fn apply_change(
    old: &Config,
    new: &Config,
    changes: &ChangeSet,
    platform: &mut dyn Platform,
) -> Result<Vec<String>, CmdError> {
    // MACs derive from the identity's seed, guest definitions from interfaces.
    let guests = !changes.vms.is_empty() || !changes.vm_ifaces.is_empty() || changes.identity;
    let network = (changes.touches_network() || changes.identity)
        .then(|| network_config(new, &*platform))
        .filter(|network| *network != network_config(old, &*platform));
    if !guests {
        if let Some(network) = network {
            platform.apply_network(&network);
        }
        return Ok(Vec::new());
    }
    let removed: Vec<&Vm> = old
        .vms
        .iter()
        .filter(|vm| new.vm(vm.id).is_none())
        .collect();
    let starting: Vec<&Vm> = new
        .vms
        .iter()
        .filter(|vm| !vm.disabled && old.vm(vm.id).is_none_or(|o| o.disabled))
        .collect();
    if !starting.is_empty() {
        let freed: u64 = removed
            .iter()
            .filter(|vm| holds_memory(vm, &*platform))
            .map(|vm| u64::from(vm.memory_mib))
            .sum();
        let need: u64 = starting.iter().map(|vm| u64::from(vm.memory_mib)).sum();
        let free = platform.guest_memory().free / MIB + freed;
        if need > free {
            let names: Vec<&str> = starting.iter().map(|vm| vm.name.as_str()).collect();
            return Err(CmdError::failure(format!(
                "not enough memory for {}: needs {need}MiB, {free}MiB free for guests",
                names.join(",")
            )));
        }
    }
    for vm in &starting {
        if old.vm(vm.id).is_some() && holds_memory(vm, &*platform) {
            return Err(CmdError::failure(format!(
                "{} is still shutting down",
                vm.name
            )));
        }
    }
    // Definitions can fail; undo them all if one does.
    let mut redefined: Vec<&Vm> = Vec::new();
    for vm in &new.vms {
        let before = old.vm(vm.id);
        if before.is_none_or(|b| guest_config(old, b) != guest_config(new, vm)) {
            if let Err(error) = platform.guest_define(vm.slot, &guest_config(new, vm)) {
                undo(old, &redefined, platform);
                return Err(error.into());
            }
            redefined.push(vm);
        }
    }
    // The RAM was checked above. A start the machine refuses for good fails the change.
    let mut warnings = Vec::new();
    let mut started: Vec<&Vm> = Vec::new();
    for vm in &starting {
        match platform.guest_start(vm.slot) {
            Ok(()) => started.push(vm),
            Err(error) if refuses_for_good(error) => {
                for vm in &started {
                    let _ = platform.guest_shutdown(vm.slot);
                }
                undo(old, &redefined, platform);
                return Err(CmdError::failure(format!(
                    "cannot start {}: {}",
                    vm.name,
                    error.message()
                )));
            }
            Err(error) => warnings.push(format!("{} did not start: {}", vm.name, error.message())),
        }
    }
    for vm in &removed {
        platform.guest_undefine(vm.slot);
    }
    for vm in &new.vms {
        let was_enabled = old.vm(vm.id).is_some_and(|o| !o.disabled);
        if vm.disabled && was_enabled && holds_memory(vm, &*platform) {
            let _ = platform.guest_shutdown(vm.slot);
        }
    }
    if let Some(network) = network {
        platform.apply_network(&network);
    }
    Ok(warnings)
}

/// Whether a failed start will fail again however often it is tried: the machine cannot run
/// guests, or the image is bad or gone.
fn refuses_for_good(error: PlatformError) -> bool {
    matches!(
        error,
        PlatformError::Unsupported | PlatformError::BadImage | PlatformError::NoSuchFile
    )
}

/// Whether the guest of `vm` holds RAM now (whatever its configuration says).
fn holds_memory(vm: &Vm, platform: &dyn Platform) -> bool {
    platform
        .guest_status(vm.slot)
        .is_some_and(|s| s.state.holds_memory())
}

/// Puts back the definitions of `redefined` as `old` has them.
fn undo(old: &Config, redefined: &[&Vm], platform: &mut dyn Platform) {
    for vm in redefined {
        match old.vm(vm.id) {
            Some(before) => {
                let _ = platform.guest_define(before.slot, &guest_config(old, before));
            }
            None => platform.guest_undefine(vm.slot),
        }
    }
}

/// Defines and starts every guest of a freshly loaded configuration and programs the network.
/// A guest that cannot start stays configured and stopped; the returned lines say which and
/// why (`mr1 was not started: not enough memory`).
pub fn apply_boot(config: &Config, platform: &mut dyn Platform) -> Vec<String> {
    let mut not_started = Vec::new();
    for vm in &config.vms {
        let why = |error: PlatformError| {
            let reason = match error {
                PlatformError::OutOfMemory => "not enough memory",
                other => other.message(),
            };
            format!("{} was not started: {reason}", vm.name)
        };
        if let Err(error) = platform.guest_define(vm.slot, &guest_config(config, vm)) {
            not_started.push(why(error));
            continue;
        }
        if !vm.disabled {
            let fits = u64::from(vm.memory_mib) * MIB <= platform.guest_memory().free;
            let started = if fits {
                platform.guest_start(vm.slot)
            } else {
                Err(PlatformError::OutOfMemory)
            };
            if let Err(error) = started {
                not_started.push(why(error));
            }
        }
    }
    platform.apply_network(&network_config(config, &*platform));
    not_started
}
