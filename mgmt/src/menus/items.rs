//! What the menus over lists of configuration items share: the `comment` argument, finding an
//! item by id, and `add`, `set` and `remove` done the same way everywhere. A menu gives the list
//! its items live in and its `change`: the function that applies `add`/`set` arguments to an
//! item and checks the result against the rest of the configuration.

use crate::cli::args::{Args, Field, Kind};
use crate::cli::error::CmdError;
use crate::config::{
    Address, Bridge, BridgePort, Config, Item, ItemId, ItemMap, RoutingRule, RoutingTable,
    StaticArp, StaticRoute, User, Vlan, Vm, VmIface,
};

/// `comment=`, which every item has.
pub const COMMENT: Field = Field::new("comment", Kind::Text, "Short description of the item");

macro_rules! items_with_id {
    ($($item:ty),*) => {
        $(impl Item for $item {
            fn id(&self) -> ItemId {
                self.id
            }
        })*
    };
}

items_with_id!(
    Bridge,
    BridgePort,
    StaticArp,
    Vlan,
    Vm,
    VmIface,
    StaticRoute,
    RoutingTable,
    RoutingRule,
    User
);

impl<A: Clone + 'static> Item for Address<A> {
    fn id(&self) -> ItemId {
        self.id
    }
}

/// A menu's items: the list of the configuration that holds them, and how `add`/`set`
/// arguments change one.
pub struct ItemList<T> {
    pub list: fn(&mut Config) -> &mut ItemMap<T>,
    /// Applies the arguments to an item and checks it against the configuration (which still
    /// holds the item as it was, if it is there at all).
    pub change: fn(&Config, &mut T, &Args) -> Result<(), CmdError>,
}

impl<T: Item> ItemList<T> {
    /// `add`: `item` (a new item with its defaults) gets the arguments and joins the list if
    /// they are accepted.
    pub fn add(&self, config: &mut Config, mut item: T, args: &Args) -> Result<ItemId, CmdError> {
        (self.change)(config, &mut item, args)?;
        let id = item.id();
        (self.list)(config).insert(item);
        Ok(id)
    }

    /// `set`: a copy of item `id` gets the arguments, and replaces the item if they are accepted.
    pub fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        let mut item = (self.list)(config)
            .get(id)
            .cloned()
            .ok_or(CmdError::NoSuchItem)?;
        (self.change)(config, &mut item, args)?;
        (self.list)(config).insert(item);
        Ok(())
    }

    /// `remove` of item `id`.
    pub fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        (self.list)(config)
            .remove(id)
            .map(|_| ())
            .ok_or(CmdError::NoSuchItem)
    }
}
