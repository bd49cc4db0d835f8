//! The shape of the menu tree: menus, the item tables and single-item menus behind them, and
//! menu-specific commands. The generic commands (`add`, `set`, `remove`, `print`, `enable`,
//! `disable`, `export`) come from the menu's kind; `crate::menus` defines the actual tree.

use alloc::string::String;
use alloc::vec::Vec;

use super::args::{Args, Field};
use super::error::CmdError;
use super::table::Row;
use super::view::View;
use crate::config::{Config, ItemId};
use crate::platform::{GuestId, Platform};
use crate::rib_state::RibState;

/// What `print` and item lookups read: the configuration, the machine and the RIB of the
/// live configuration.
#[derive(Clone, Copy)]
pub struct ViewCtx<'a> {
    pub config: &'a Config,
    pub platform: &'a dyn Platform,
    pub rib: &'a RibState,
}

/// Which of `add`, `set` and `remove` a table has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// All three.
    ReadWrite,
    /// Only `set` (items that exist without being added, like the physical ports).
    SetOnly,
    /// None: the table shows what is there.
    ReadOnly,
}

/// A table of items (`/metarouter`, `/ip address`, ...).
pub trait Table: Sync {
    /// How `print` lays the items out.
    fn view(&self) -> &'static View;
    /// Arguments of `add` and `set`.
    fn fields(&self) -> &'static [Field] {
        &[]
    }
    /// Arguments `add` cannot do without.
    fn required(&self) -> &'static [&'static str] {
        &[]
    }
    /// Every item, in print order, with every property (for detail and `where`).
    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row>;
    /// Which of `add`, `set` and `remove` exist here.
    fn access(&self) -> Access {
        Access::ReadWrite
    }
    /// Adds an item (optionally starting from a copy of `copy_from`).
    fn add(
        &self,
        _config: &mut Config,
        _platform: &dyn Platform,
        _args: &Args,
        _copy_from: Option<ItemId>,
    ) -> Result<ItemId, CmdError> {
        Err(CmdError::failure("items cannot be added here"))
    }
    /// Changes an item.
    fn set(&self, _config: &mut Config, _id: ItemId, _args: &Args) -> Result<(), CmdError> {
        Err(CmdError::failure("items cannot be changed here"))
    }
    /// Removes an item.
    fn remove(&self, _config: &mut Config, _id: ItemId) -> Result<(), CmdError> {
        Err(CmdError::failure("items cannot be removed here"))
    }
    /// The ids of this menu's items, in export order.
    fn items(&self, _config: &Config) -> Vec<ItemId> {
        Vec::new()
    }
    /// The command that recreates item `id` as `export` writes it (its `add` line), or `None`
    /// if it is not an item of this menu.
    fn export_item(&self, _config: &Config, _id: ItemId) -> Option<String> {
        None
    }
    /// The commands that recreate this menu's items (without the menu line).
    fn export(&self, config: &Config) -> Vec<String> {
        self.items(config)
            .into_iter()
            .filter_map(|id| self.export_item(config, id))
            .collect()
    }
    /// The lines that recreate item `id` in the saved configuration: the first creates it
    /// (its export line unless the menu saves more), later ones may `set` it by `*ID`.
    fn saved_item(&self, config: &Config, id: ItemId) -> Vec<String> {
        self.export_item(config, id).into_iter().collect()
    }
    /// `print stats`: the layout and rows of the items' traffic counters, for menus that have
    /// them.
    fn stats(&self, _ctx: &ViewCtx<'_>) -> Option<(&'static View, Vec<Row>)> {
        None
    }
}

/// A menu with one set of properties (`/system identity`).
pub trait Single: Sync {
    /// Arguments of `set`.
    fn fields(&self) -> &'static [Field] {
        &[]
    }
    /// Properties as printed, in order.
    fn values(&self, config: &Config, platform: &dyn Platform) -> Vec<(&'static str, String)>;
    fn set(&self, _config: &mut Config, _args: &Args) -> Result<(), CmdError> {
        Err(CmdError::failure("nothing can be changed here"))
    }
    fn export(&self, _config: &Config) -> Vec<String> {
        Vec::new()
    }
}

/// What a menu holds.
#[derive(Clone, Copy)]
pub enum MenuKind {
    /// Only submenus and commands.
    Plain,
    Table(&'static dyn Table),
    Single(&'static dyn Single),
}

/// How many items a menu-specific command takes before its named arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Items {
    None,
    One,
    Many,
}

/// What the shell does after a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Back to the prompt.
    Prompt,
    /// Connect the terminal to a guest console.
    Attach(GuestId),
    /// Ask `Reboot, yes? [y/N]:`, then reboot.
    ConfirmReboot,
    /// Ask `Shutdown, yes? [y/N]:`, then power off.
    ConfirmShutdown,
    /// An image import is under way into a new virtual machine (added when it completes).
    Import { vm: crate::config::Vm },
    /// End the session.
    Quit,
    /// `print interval=`: run the line again every `every_ms` until a key is pressed.
    Repeat { every_ms: u64 },
    /// `/ping` started: print what the platform's ping reports until it ends or Ctrl-C.
    Ping,
    /// `/file receive` or `send`: a ZMODEM session on the console.
    Transfer(crate::menus::file_transfer::TransferRequest),
    /// `/tool fetch`: a TFTP transfer runs from the shell's polling until it ends or Ctrl-C.
    Fetch(crate::menus::fetch::FetchRequest),
}

/// What a menu-specific command gets.
pub struct Exec<'a> {
    /// A copy of the configuration; changes become live only if the command succeeds.
    pub config: Config,
    pub platform: &'a mut dyn Platform,
    /// The RIB of the live configuration (what the route menus print).
    pub rib: &'a RibState,
    /// Text to print (`\n` line ends).
    pub out: String,
    pub outcome: Outcome,
}

impl Exec<'_> {
    /// What `print` and item lookups read, for the working copy.
    pub fn view(&self) -> ViewCtx<'_> {
        ViewCtx {
            config: &self.config,
            platform: &*self.platform,
            rib: self.rib,
        }
    }
}

/// A command given with its items and arguments.
pub struct Invocation {
    pub items: Vec<ItemId>,
    pub args: Args,
}

/// A menu-specific command.
pub struct Command {
    pub name: &'static str,
    pub help: &'static str,
    pub items: Items,
    pub args: &'static [Field],
    pub required: &'static [&'static str],
    /// The argument a bare word gives (`/ping 10.0.1.2` is `address=10.0.1.2`), for commands
    /// that take no items.
    pub positional: Option<&'static str>,
    pub run: fn(&mut Exec<'_>, &Invocation) -> Result<(), CmdError>,
}

impl Command {
    /// A command without named arguments.
    pub const fn new(
        name: &'static str,
        help: &'static str,
        items: Items,
        run: fn(&mut Exec<'_>, &Invocation) -> Result<(), CmdError>,
    ) -> Command {
        Command {
            name,
            help,
            items,
            args: &[],
            required: &[],
            positional: None,
            run,
        }
    }
}

/// A node of the menu tree.
pub struct Menu {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: MenuKind,
    pub commands: &'static [Command],
    pub children: &'static [&'static Menu],
}

impl Menu {
    /// A menu of submenus and commands only.
    pub const fn plain(
        name: &'static str,
        help: &'static str,
        commands: &'static [Command],
        children: &'static [&'static Menu],
    ) -> Menu {
        Menu {
            name,
            help,
            kind: MenuKind::Plain,
            commands,
            children,
        }
    }

    /// A menu over a table of items, with the generic commands only.
    pub const fn table(
        name: &'static str,
        help: &'static str,
        table: &'static dyn Table,
        children: &'static [&'static Menu],
    ) -> Menu {
        Menu {
            name,
            help,
            kind: MenuKind::Table(table),
            commands: &[],
            children,
        }
    }

    /// A menu with one set of properties.
    pub const fn single(
        name: &'static str,
        help: &'static str,
        single: &'static dyn Single,
    ) -> Menu {
        Menu {
            name,
            help,
            kind: MenuKind::Single(single),
            commands: &[],
            children: &[],
        }
    }
}

/// The generic commands a menu kind provides, with their help.
pub fn generic_commands(kind: MenuKind) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    match kind {
        MenuKind::Plain => {}
        MenuKind::Table(table) => {
            let has_disabled = table.fields().iter().any(|f| f.name == "disabled");
            let access = table.access();
            if access == Access::ReadWrite {
                out.push(("add", "Create a new item"));
            }
            if has_disabled && access != Access::ReadOnly {
                out.push(("disable", "Disable items"));
                out.push(("enable", "Enable items"));
            }
            out.push(("export", "Print or save an export script"));
            out.push(("find", "Find items by value"));
            out.push(("print", "Print values of item properties"));
            if access == Access::ReadWrite {
                out.push(("remove", "Remove items"));
            }
            if access != Access::ReadOnly && !table.fields().is_empty() {
                out.push(("set", "Change item properties"));
            }
        }
        MenuKind::Single(single) => {
            out.push(("export", "Print or save an export script"));
            out.push(("print", "Print values of properties"));
            if !single.fields().is_empty() {
                out.push(("set", "Change properties"));
            }
        }
    }
    out
}
