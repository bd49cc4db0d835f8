//! `/metarouter`: the virtual machines, with `console`, `start`, `shut-down`, `reboot` and
//! `import-image`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::items::{ItemList, COMMENT};
use crate::cli::args::{Args, Field, Kind, RefKind, Value};
use crate::cli::batch::act_each;
use crate::cli::error::CmdError;
use crate::cli::menu::{Command, Exec, Invocation, Items, Outcome, Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{same_name, Config, ItemId, Vm};
use crate::platform::{GuestState, Platform, MAX_GUESTS};
use crate::script_line::{push_comment, push_disabled, push_pair};
use crate::value::quote_if_needed;

const MEMORY: Kind = Kind::Int {
    min: 16,
    max: 256,
    unit: "MiB",
};
const DISK: Kind = Kind::IntOr {
    min: 0,
    max: 4_294_967_295,
    unit: "kiB",
    word: "unlimited",
};

static FIELDS: [Field; 6] = [
    COMMENT,
    Field::new(
        "disabled",
        Kind::Bool,
        "Whether the virtual machine is stopped and kept stopped",
    ),
    Field::new(
        "disk-size",
        DISK,
        "Disk size in kiB (unlimited or 0 for no limit)",
    ),
    Field::new(
        "image-file",
        Kind::Text,
        "File the image was imported from (saved configuration; empty for the built-in guest)",
    ),
    Field::new(
        "memory-size",
        MEMORY,
        "RAM of the virtual machine in MiB (16..256)",
    ),
    Field::new("name", Kind::Name, "Name of the virtual machine"),
];

static VIEW: View = View::classic(
    &[FlagSlot::new(&[('X', "disabled")])],
    &[
        Column::new("name", "NAME"),
        Column::new("memory-size", "MEMORY-SIZE"),
        Column::new("disk-size", "DISK-SIZE"),
        Column::new("used-disk", "USED-DISK"),
        Column::new("state", "STATE"),
    ],
);

/// The `/metarouter` table.
pub struct Metarouter;

/// The first free default name `mrN`.
pub fn default_name(config: &Config) -> String {
    (1..)
        .map(|n| format!("mr{n}"))
        .find(|name| !config.vms.iter().any(|vm| same_name(&vm.name, name)))
        .unwrap_or_default()
}

fn disk_text(disk: Option<u32>) -> String {
    match disk {
        None => String::from("unlimited"),
        Some(kib) => format!("{kib}kiB"),
    }
}

fn disk_value(value: &Value) -> Option<u32> {
    match value {
        Value::Int(0) | Value::Word(_) => None,
        Value::Int(n) => Some(*n as u32),
        _ => None,
    }
}

fn check_name(config: &Config, name: &str, except: Option<ItemId>) -> Result<(), CmdError> {
    if config
        .vms
        .iter()
        .any(|vm| same_name(&vm.name, name) && Some(vm.id) != except)
    {
        return Err(CmdError::failure("item with such name already exists"));
    }
    Ok(())
}

/// Builds a new virtual machine from `add`/`import-image` arguments (not yet in `config`). Its
/// guest's MAC derives from the box's identity, made now if the box has none yet.
pub fn new_vm(config: &mut Config, platform: &dyn Platform, args: &Args) -> Result<Vm, CmdError> {
    let name = args
        .text("name")
        .map(String::from)
        .unwrap_or_else(|| default_name(config));
    check_name(config, &name, None)?;
    crate::identity::ensure_seed(config, platform);
    let slot = config.free_slot().ok_or_else(|| {
        CmdError::failure(format!("too many virtual machines (at most {MAX_GUESTS})"))
    })?;
    Ok(Vm {
        id: config.new_id(),
        slot,
        name,
        memory_mib: args.int("memory-size").unwrap_or(16) as u32,
        disk_kib: args.get("disk-size").and_then(disk_value),
        disabled: args.bool("disabled").unwrap_or(false),
        comment: args.text("comment").map(String::from).unwrap_or_default(),
        image: args
            .text("image-file")
            .filter(|f| !f.is_empty())
            .map(String::from),
    })
}

const VMS: ItemList<Vm> = ItemList {
    list: |c| &mut c.vms,
    change,
};

/// Applies `set` arguments (`add` builds the machine with [`new_vm`]); a new name must be free.
fn change(config: &Config, vm: &mut Vm, args: &Args) -> Result<(), CmdError> {
    if let Some(name) = args.text("name") {
        check_name(config, name, Some(vm.id))?;
    }
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("name", Value::Text(name)) => vm.name = name.clone(),
            ("memory-size", Value::Int(mib)) => vm.memory_mib = *mib as u32,
            ("disk-size", value) => vm.disk_kib = disk_value(value),
            ("disabled", Value::Bool(b)) => vm.disabled = *b,
            ("comment", Value::Text(text)) => vm.comment = text.clone(),
            ("image-file", Value::Text(file)) => {
                vm.image = Some(file.clone()).filter(|f| !f.is_empty());
            }
            _ => {}
        }
    }
    Ok(())
}

/// The state word of a virtual machine.
pub fn state_of(vm: &Vm, platform: &dyn Platform) -> GuestState {
    if vm.disabled {
        return GuestState::Disabled;
    }
    platform
        .guest_status(vm.slot)
        .map_or(GuestState::Stopped, |s| s.state)
}

impl Table for Metarouter {
    fn view(&self) -> &'static View {
        &VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, platform) = (ctx.config, ctx.platform);
        config
            .vms
            .iter()
            .map(|vm| {
                let status = platform.guest_status(vm.slot);
                let (used, reads, writes) = status.as_ref().map_or((0, 0, 0), |s| {
                    (s.used_disk_kib, s.disk_reads, s.disk_writes)
                });
                let mut row = Row::item(vm.id)
                    .flag_if(vm.disabled, 'X')
                    .text("name", vm.name.clone())
                    .word("memory-size", format!("{}MiB", vm.memory_mib))
                    .word("disk-size", disk_text(vm.disk_kib))
                    .word("used-disk", format!("{used}kiB"))
                    .num("disk-reads", format!("{reads}"))
                    .num("disk-writes", format!("{writes}"))
                    .word("state", state_of(vm, platform).as_str());
                if let Some(message) = status.and_then(|s| s.last_message) {
                    row = row.text("last-message", message);
                }
                row.with_comment(&vm.comment)
            })
            .collect()
    }

    fn add(
        &self,
        config: &mut Config,
        platform: &dyn Platform,
        args: &Args,
        _copy_from: Option<ItemId>,
    ) -> Result<ItemId, CmdError> {
        let vm = new_vm(config, platform, args)?;
        let id = vm.id;
        config.vms.push(vm);
        Ok(id)
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        VMS.set(config, id, args)
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        VMS.remove(config, id)?;
        let gone: Vec<ItemId> = config
            .vm_ifaces
            .iter()
            .filter(|i| i.vm == id)
            .map(|i| i.id)
            .collect();
        for iface in gone {
            super::mr_interface::remove_iface(config, iface);
        }
        Ok(())
    }

    /// The RouterOS form: the image is not part of it (see `saved_item`).
    fn items(&self, config: &Config) -> Vec<ItemId> {
        config.vms.iter().map(|vm| vm.id).collect()
    }

    fn export_item(&self, config: &Config, id: ItemId) -> Option<String> {
        let vm = config.vms.get(id)?;
        let mut line = String::from("add");
        push_comment(&mut line, &vm.comment);
        push_disabled(&mut line, vm.disabled);
        if let Some(kib) = vm.disk_kib {
            push_pair(&mut line, "disk-size", &kib);
        }
        if vm.memory_mib != 16 {
            let _ = write!(line, " memory-size={}MiB", vm.memory_mib);
        }
        push_pair(&mut line, "name", &quote_if_needed(&vm.name));
        Some(line)
    }

    /// The export line, and the file the image was imported from (never exported).
    fn saved_item(&self, config: &Config, id: ItemId) -> Vec<String> {
        let mut lines: Vec<String> = self.export_item(config, id).into_iter().collect();
        if let Some(file) = config.vms.get(id).and_then(|vm| vm.image.as_ref()) {
            let mut line = format!("set *{id:X}");
            push_pair(&mut line, "image-file", &quote_if_needed(file));
            lines.push(line);
        }
        lines
    }
}

fn vm_of(exec: &Exec<'_>, id: ItemId) -> Result<Vm, CmdError> {
    exec.config.vm(id).cloned().ok_or(CmdError::NoSuchItem)
}

fn console(exec: &mut Exec<'_>, inv: &Invocation) -> Result<(), CmdError> {
    let vm = vm_of(exec, inv.items[0])?;
    if exec.platform.guest_status(vm.slot).is_none() {
        return Err(CmdError::failure("virtual machine is not defined"));
    }
    exec.out.push_str("[Ctrl-A is the prefix key]\n");
    exec.outcome = Outcome::Attach(vm.slot);
    Ok(())
}

/// Refuses to start `vm` if its RAM is not free (before anything is changed).
pub fn check_memory(platform: &dyn Platform, vms: &[&Vm]) -> Result<(), CmdError> {
    let need: u64 = vms.iter().map(|vm| u64::from(vm.memory_mib)).sum();
    let free = platform.guest_memory().free / crate::platform::MIB;
    if need > free {
        let names: Vec<&str> = vms.iter().map(|vm| vm.name.as_str()).collect();
        return Err(CmdError::failure(format!(
            "not enough memory for {}: needs {need}MiB, {free}MiB free for guests",
            names.join(",")
        )));
    }
    Ok(())
}

/// The virtual machines a command names.
fn vms_of(exec: &Exec<'_>, inv: &Invocation) -> Result<Vec<Vm>, CmdError> {
    inv.items.iter().map(|&id| vm_of(exec, id)).collect()
}

/// Runs `act` for each named virtual machine: with several, each one that fails is reported by
/// name and the others are still acted on (see [`crate::cli::batch`]).
fn each_vm(
    exec: &mut Exec<'_>,
    inv: &Invocation,
    act: fn(&mut dyn Platform, &Vm) -> Result<(), CmdError>,
) -> Result<(), CmdError> {
    let vms = vms_of(exec, inv)?;
    let mut out = String::new();
    let platform = &mut *exec.platform;
    let result = act_each(
        &vms,
        &|vm: &Vm| vm.name.clone(),
        &mut |vm: &Vm| act(&mut *platform, vm),
        &mut out,
    );
    exec.out.push_str(&out);
    result
}

/// Starts a stopped machine if its RAM is free; a running one is left alone.
fn start_one(platform: &mut dyn Platform, vm: &Vm) -> Result<(), CmdError> {
    match state_of(vm, platform) {
        GuestState::Disabled => Err(CmdError::failure("virtual machine is disabled")),
        GuestState::Stopped => {
            check_memory(platform, &[vm])?;
            platform.guest_start(vm.slot)?;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn start(exec: &mut Exec<'_>, inv: &Invocation) -> Result<(), CmdError> {
    each_vm(exec, inv, start_one)
}

fn shut_down(exec: &mut Exec<'_>, inv: &Invocation) -> Result<(), CmdError> {
    each_vm(exec, inv, |platform, vm| {
        if state_of(vm, platform).holds_memory() {
            platform.guest_shutdown(vm.slot)?;
        }
        Ok(())
    })
}

fn reboot(exec: &mut Exec<'_>, inv: &Invocation) -> Result<(), CmdError> {
    each_vm(exec, inv, |platform, vm| match state_of(vm, platform) {
        GuestState::Disabled | GuestState::Stopped => start_one(platform, vm),
        _ => Ok(platform.guest_reboot(vm.slot)?),
    })
}

static IMPORT_ARGS: [Field; 4] = [
    Field::new(
        "disk-size",
        DISK,
        "Disk size of the new virtual machine in kiB",
    ),
    Field::new(
        "file-name",
        Kind::Ref(RefKind::File),
        "Image file (gzip'd tar with ./kernel)",
    ),
    Field::new(
        "memory-size",
        MEMORY,
        "RAM of the new virtual machine in MiB",
    ),
    Field::new("name", Kind::Name, "Name of the new virtual machine"),
];

fn import_image(exec: &mut Exec<'_>, inv: &Invocation) -> Result<(), CmdError> {
    let mut vm = new_vm(&mut exec.config, &*exec.platform, &inv.args)?;
    check_memory(&*exec.platform, &[&vm])?;
    let file = inv.args.text("file-name").unwrap_or_default();
    vm.image = Some(String::from(file));
    exec.platform
        .guest_define(vm.slot, &super::guest_config(&exec.config, &vm))?;
    if let Err(error) = exec.platform.image_import_start(vm.slot, file) {
        exec.platform.guest_undefine(vm.slot);
        return Err(error.into());
    }
    exec.outcome = Outcome::Import { vm };
    Ok(())
}

/// Commands of `/metarouter`.
pub static COMMANDS: [Command; 5] = [
    Command::new(
        "console",
        "Connect to the virtual machine's console",
        Items::One,
        console,
    ),
    Command {
        args: &IMPORT_ARGS,
        required: &["file-name"],
        ..Command::new(
            "import-image",
            "Import an image into a new virtual machine",
            Items::None,
            import_image,
        )
    },
    Command::new("reboot", "Reboot virtual machines", Items::Many, reboot),
    Command::new(
        "shut-down",
        "Shut virtual machines down",
        Items::Many,
        shut_down,
    ),
    Command::new("start", "Boot virtual machines", Items::Many, start),
];
