//! Makes the machine match the configuration after a change: defines, starts, stops and
//! removes guests, and hands the network configuration to the platform. Guest RAM is checked
//! before anything is touched, so a change that does not fit is refused whole.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::cli::error::CmdError;
use crate::config::{Config, Vm};
use crate::menus::guest_config;
use crate::network_derive::network_config;
use crate::platform::{Platform, MIB};

/// Applies the difference between `old` and `new` to the platform. On error nothing was done
/// that is not undone, and the caller keeps `old`. On success the caller takes `new`; the
/// returned lines are warnings to print (a guest the machine failed to start).
pub fn apply_change(
    old: &Config,
    new: &Config,
    platform: &mut dyn Platform,
) -> Result<Vec<String>, CmdError> {
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
    let network = network_config(new, &*platform);
    let old_network = network_config(old, &*platform);
    if network != old_network {
        // The routing part must build into a RIB (limits, families) before anything changes.
        crate::rib_view::build_rib(&network, crate::rib_view::limits_for(&network), &|_| true)
            .map_err(|error| CmdError::failure(crate::rib_view::rib_error_text(error)))?;
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
        if before.is_none_or(|b| guest_config(b) != guest_config(vm)) {
            if let Err(error) = platform.guest_define(vm.slot, &guest_config(vm)) {
                undo(old, &redefined, platform);
                return Err(error.into());
            }
            redefined.push(vm);
        }
    }
    for vm in &removed {
        platform.guest_undefine(vm.slot);
    }
    // The RAM was checked above; a start fails only if the machine misbehaves.
    let mut warnings = Vec::new();
    for vm in &starting {
        if let Err(error) = platform.guest_start(vm.slot) {
            warnings.push(format!(
                "failure: {} did not start: {}",
                vm.name,
                error.message()
            ));
        }
    }
    for vm in &new.vms {
        let was_enabled = old.vm(vm.id).is_some_and(|o| !o.disabled);
        if vm.disabled && was_enabled && holds_memory(vm, &*platform) {
            let _ = platform.guest_shutdown(vm.slot);
        }
    }
    if network != old_network {
        platform.apply_network(&network);
    }
    Ok(warnings)
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
                let _ = platform.guest_define(before.slot, &guest_config(before));
            }
            None => platform.guest_undefine(vm.slot),
        }
    }
}

/// Defines and starts every guest of a freshly loaded configuration and programs the network.
/// Guests that do not fit in RAM stay stopped; their names are returned.
pub fn apply_boot(config: &Config, platform: &mut dyn Platform) -> Vec<alloc::string::String> {
    let mut not_started = Vec::new();
    for vm in &config.vms {
        if platform.guest_define(vm.slot, &guest_config(vm)).is_err() {
            not_started.push(vm.name.clone());
            continue;
        }
        if !vm.disabled {
            let fits = u64::from(vm.memory_mib) * MIB <= platform.guest_memory().free;
            if !fits || platform.guest_start(vm.slot).is_err() {
                not_started.push(vm.name.clone());
            }
        }
    }
    platform.apply_network(&network_config(config, &*platform));
    not_started
}
