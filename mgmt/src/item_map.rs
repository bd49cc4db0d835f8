//! [`ItemMap`]: the list of one kind of configuration item (routes, addresses, bridges ...),
//! ordered by item id, that clones in constant time.
//!
//! Every command runs on a copy of the configuration, so that a failing command leaves the live
//! one untouched. With thousands of routes a copy of plain vectors costs more than the command
//! itself; an `ItemMap` is a B-tree of shared nodes instead (fan-out [`MAX`]): a clone shares
//! everything, and a change copies only the nodes on the path to the item (path copying), so
//! `insert`, `remove` and `update` cost O(log n) whatever else the configuration holds.
//!
//! A map also records which ids it changed since [`ItemMap::take_touched`] was last called: the
//! shell compares exactly those items of the old and new configuration to find what a command
//! did (to apply it, update the RIB and journal it), instead of comparing whole configurations.
//!
//! Items are kept in id order. Ids only grow, so this is also the order in which they were
//! added (the order `print` and `export` use where no other order is defined).

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::any::Any;
use core::marker::PhantomData;

/// Stable internal id of a configuration item (RouterOS `*N`).
pub type ItemId = u32;

/// A configuration item: kept in an [`ItemMap`], known by its id.
pub trait Item: Clone + 'static {
    fn id(&self) -> ItemId;
}

/// Most entries per node.
pub const MAX: usize = 32;
/// A node with fewer entries after a removal is merged with a neighbour when both fit in one.
const MIN: usize = MAX / 4;

/// An item as the tree keeps it. The tree itself is one piece of code for every kind of item
/// (it sees items only through this trait); [`ItemMap`] is the typed face over it, so the
/// image carries the tree once, not once per kind of item.
trait Stored: Any {
    fn clone_rc(&self) -> Rc<dyn Stored>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Item> Stored for T {
    fn clone_rc(&self) -> Rc<dyn Stored> {
        Rc::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

type Entry = (ItemId, Rc<dyn Stored>);

/// A node's new right sibling after a split, with the lowest id in it.
type Split = (ItemId, Rc<Node>);

#[derive(Clone)]
enum Node {
    /// Items sorted by id.
    Leaf(Vec<Entry>),
    /// Children with the lowest id each may hold (a lower bound), sorted.
    Inner(Vec<(ItemId, Rc<Node>)>),
}

impl Node {
    fn len(&self) -> usize {
        match self {
            Node::Leaf(items) => items.len(),
            Node::Inner(children) => children.len(),
        }
    }
}

/// Index of the child of an inner node that holds (or would hold) `id`.
fn child_for<C>(children: &[(ItemId, C)], id: ItemId) -> usize {
    children
        .partition_point(|(low, _)| *low <= id)
        .saturating_sub(1)
}

/// The untyped tree: every operation of [`ItemMap`] is done here once for all item types.
#[derive(Clone)]
struct Tree {
    root: Rc<Node>,
    len: usize,
    touched: Vec<ItemId>,
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            root: Rc::new(Node::Leaf(Vec::new())),
            len: 0,
            touched: Vec::new(),
        }
    }
}

impl Tree {
    fn get(&self, id: ItemId) -> Option<&Rc<dyn Stored>> {
        let mut node = &*self.root;
        loop {
            match node {
                Node::Leaf(items) => {
                    let at = items.binary_search_by_key(&id, |(k, _)| *k).ok()?;
                    return Some(&items[at].1);
                }
                Node::Inner(children) => node = &children.get(child_for(children, id))?.1,
            }
        }
    }

    fn insert(&mut self, id: ItemId, item: Rc<dyn Stored>) -> Option<Rc<dyn Stored>> {
        self.touched.push(id);
        let (replaced, split) = insert_into(&mut self.root, id, item);
        if let Some(right) = split {
            let left = core::mem::replace(&mut self.root, Rc::new(Node::Leaf(Vec::new())));
            let low = lowest(&left);
            self.root = Rc::new(Node::Inner(alloc::vec![(low, left), right]));
        }
        if replaced.is_none() {
            self.len += 1;
        }
        replaced
    }

    fn remove(&mut self, id: ItemId) -> Option<Rc<dyn Stored>> {
        self.get(id)?;
        self.touched.push(id);
        let removed = remove_from(&mut self.root, id);
        self.len -= 1;
        // A root with one child gives way to it.
        while let Node::Inner(children) = &*self.root {
            if children.len() != 1 {
                break;
            }
            let only = Rc::clone(&children[0].1);
            self.root = only;
        }
        removed
    }

    /// The item `id`, unshared (copied if another map holds it too), for changing in place.
    fn get_mut(&mut self, id: ItemId) -> Option<&mut dyn Stored> {
        self.get(id)?;
        self.touched.push(id);
        let mut node = Rc::make_mut(&mut self.root);
        loop {
            match node {
                Node::Leaf(items) => {
                    let at = items.binary_search_by_key(&id, |(k, _)| *k).ok()?;
                    let item = &mut items[at].1;
                    if Rc::get_mut(item).is_none() {
                        *item = item.clone_rc();
                    }
                    return Rc::get_mut(item);
                }
                Node::Inner(children) => {
                    let at = child_for(children, id);
                    node = Rc::make_mut(&mut children[at].1);
                }
            }
        }
    }

    fn take_touched(&mut self) -> Vec<ItemId> {
        let mut touched = core::mem::take(&mut self.touched);
        // The heapsort the RIB uses (one sort routine in the image).
        routing::index_sort::sort_indexes(&mut touched, &|a, b| a.cmp(&b));
        touched.dedup();
        touched
    }
}

/// The items of one kind, by id. See the module docs.
pub struct ItemMap<T> {
    tree: Tree,
    kind: PhantomData<T>,
}

impl<T> Clone for ItemMap<T> {
    fn clone(&self) -> Self {
        ItemMap {
            tree: self.tree.clone(),
            kind: PhantomData,
        }
    }
}

impl<T> Default for ItemMap<T> {
    fn default() -> Self {
        ItemMap {
            tree: Tree::default(),
            kind: PhantomData,
        }
    }
}

impl<T: Item + PartialEq> PartialEq for ItemMap<T> {
    /// Same items (the touched lists are not compared).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl<T: Item + Eq> Eq for ItemMap<T> {}

impl<T: Item + core::fmt::Debug> core::fmt::Debug for ItemMap<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The `T` an entry of an `ItemMap<T>` holds (every entry of a map is of its type).
fn typed<T: Item>(item: &dyn Stored) -> &T {
    item.as_any()
        .downcast_ref()
        .expect("an ItemMap holds items of its own type only")
}

impl<T: Item> ItemMap<T> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.tree.len
    }

    pub fn is_empty(&self) -> bool {
        self.tree.len == 0
    }

    /// The item with id `id`.
    pub fn get(&self, id: ItemId) -> Option<&T> {
        self.tree.get(id).map(|item| typed(&**item))
    }

    pub fn contains(&self, id: ItemId) -> bool {
        self.tree.get(id).is_some()
    }

    /// Items in id order.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            stack: alloc::vec![(&*self.tree.root, 0)],
            kind: PhantomData,
        }
    }

    /// The item with the lowest id.
    pub fn first(&self) -> Option<&T> {
        self.iter().next()
    }

    /// The first item that satisfies `pred`.
    pub fn find(&self, pred: impl FnMut(&&T) -> bool) -> Option<&T> {
        self.iter().find(pred)
    }

    /// Adds `item`, or replaces the item with its id. Returns the item it replaced.
    pub fn insert(&mut self, item: T) -> Option<T> {
        let id = item.id();
        let replaced = self.tree.insert(id, Rc::new(item));
        replaced.map(|old| typed::<T>(&*old).clone())
    }

    /// Adds `item` (its id must be new; an item with the same id is replaced).
    pub fn push(&mut self, item: T) {
        self.insert(item);
    }

    /// Removes item `id`, returning it.
    pub fn remove(&mut self, id: ItemId) -> Option<T> {
        self.tree.remove(id).map(|old| typed::<T>(&*old).clone())
    }

    /// Changes item `id` in place with `change`. Returns `None` if there is no such item.
    pub fn update<R>(&mut self, id: ItemId, change: impl FnOnce(&mut T) -> R) -> Option<R> {
        let item = self.tree.get_mut(id)?;
        let item: &mut T = item
            .as_any_mut()
            .downcast_mut()
            .expect("an ItemMap holds items of its own type only");
        Some(change(item))
    }

    /// Keeps the items for which `keep` is true (looks at every item; copies only the paths
    /// to the ones it removes).
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let gone: Vec<ItemId> = self.iter().filter(|i| !keep(i)).map(|i| i.id()).collect();
        for id in gone {
            self.tree.remove(id);
        }
    }

    /// Changes, with `change`, every item for which `wants` is true (looks at every item;
    /// copies only the paths to the ones it changes).
    pub fn update_where(
        &mut self,
        mut wants: impl FnMut(&T) -> bool,
        mut change: impl FnMut(&mut T),
    ) {
        let ids: Vec<ItemId> = self.iter().filter(|i| wants(i)).map(|i| i.id()).collect();
        for id in ids {
            self.update(id, &mut change);
        }
    }

    /// The ids changed (added, replaced, updated, removed) since the last call, in order, each
    /// once; clears the record.
    pub fn take_touched(&mut self) -> Vec<ItemId> {
        self.tree.take_touched()
    }

    /// Whether anything was changed since the last [`ItemMap::take_touched`].
    pub fn is_touched(&self) -> bool {
        !self.tree.touched.is_empty()
    }

    /// Whether `self` and `other` hold the very same item `id` (shared, so certainly unchanged;
    /// cheaper than comparing values), or both lack it.
    pub fn same_item(&self, other: &Self, id: ItemId) -> bool {
        match (self.tree.get(id), other.tree.get(id)) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl<T: Item> FromIterator<T> for ItemMap<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut map = ItemMap::new();
        for item in items {
            map.insert(item);
        }
        map.tree.touched.clear();
        map
    }
}

impl<'a, T: Item> IntoIterator for &'a ItemMap<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

fn lowest(node: &Node) -> ItemId {
    match node {
        Node::Leaf(items) => items.first().map_or(0, |(k, _)| *k),
        Node::Inner(children) => children.first().map_or(0, |(k, _)| *k),
    }
}

/// Inserts into the subtree at `node` (copying it if shared). Returns the replaced item and,
/// if the node split, the new right sibling with its lowest id.
fn insert_into(
    node: &mut Rc<Node>,
    id: ItemId,
    item: Rc<dyn Stored>,
) -> (Option<Rc<dyn Stored>>, Option<Split>) {
    match Rc::make_mut(node) {
        Node::Leaf(items) => match items.binary_search_by_key(&id, |(k, _)| *k) {
            Ok(at) => (Some(core::mem::replace(&mut items[at].1, item)), None),
            Err(at) => {
                items.insert(at, (id, item));
                let appended = at + 1 == items.len();
                (
                    None,
                    split(items, appended).map(|(low, right)| (low, Rc::new(Node::Leaf(right)))),
                )
            }
        },
        Node::Inner(children) => {
            let at = child_for(children, id);
            if id < children[at].0 {
                children[at].0 = id;
            }
            let (replaced, split_child) = insert_into(&mut children[at].1, id, item);
            let mut appended = false;
            if let Some(right) = split_child {
                children.insert(at + 1, right);
                appended = at + 2 == children.len();
            }
            let split_self =
                split(children, appended).map(|(low, right)| (low, Rc::new(Node::Inner(right))));
            (replaced, split_self)
        }
    }
}

/// Splits an overfull node's entries: appends (ids only grow) leave full nodes behind them;
/// other inserts split in the middle. Returns the right part with its lowest id.
fn split<V>(entries: &mut Vec<(ItemId, V)>, appended: bool) -> Option<(ItemId, Vec<(ItemId, V)>)> {
    if entries.len() <= MAX {
        return None;
    }
    let keep = if appended { MAX } else { entries.len() / 2 };
    let right = entries.split_off(keep);
    Some((right[0].0, right))
}

/// Removes `id` (present) from the subtree at `node`; merges an underfull child with a
/// neighbour when both fit in one node.
fn remove_from(node: &mut Rc<Node>, id: ItemId) -> Option<Rc<dyn Stored>> {
    match Rc::make_mut(node) {
        Node::Leaf(items) => {
            let at = items.binary_search_by_key(&id, |(k, _)| *k).ok()?;
            Some(items.remove(at).1)
        }
        Node::Inner(children) => {
            let at = child_for(children, id);
            let removed = remove_from(&mut children[at].1, id);
            let len = children[at].1.len();
            if len == 0 {
                children.remove(at);
            } else if len < MIN {
                merge_with_neighbour(children, at);
            }
            removed
        }
    }
}

fn merge_with_neighbour(children: &mut Vec<(ItemId, Rc<Node>)>, at: usize) {
    let (left, right) = if at + 1 < children.len() {
        (at, at + 1)
    } else if at > 0 {
        (at - 1, at)
    } else {
        return;
    };
    if children[left].1.len() + children[right].1.len() > MAX {
        return;
    }
    let (_, taken) = children.remove(right);
    let taken = Rc::try_unwrap(taken).unwrap_or_else(|rc| (*rc).clone());
    match (Rc::make_mut(&mut children[left].1), taken) {
        (Node::Leaf(a), Node::Leaf(b)) => a.extend(b),
        (Node::Inner(a), Node::Inner(b)) => a.extend(b),
        // Siblings are always at the same height.
        _ => {}
    }
}

/// In-order iterator over an [`ItemMap`].
pub struct Iter<'a, T> {
    stack: Vec<(&'a Node, usize)>,
    kind: PhantomData<T>,
}

impl<'a, T: Item> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        loop {
            let (node, at) = self.stack.last_mut()?;
            match node {
                Node::Leaf(items) => {
                    if let Some((_, item)) = items.get(*at) {
                        *at += 1;
                        return Some(typed(&**item));
                    }
                }
                Node::Inner(children) => {
                    if let Some((_, child)) = children.get(*at) {
                        *at += 1;
                        let child: &'a Node = child;
                        self.stack.push((child, 0));
                        continue;
                    }
                }
            }
            self.stack.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::string::String;

    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Thing {
        id: ItemId,
        text: String,
    }

    impl Item for Thing {
        fn id(&self) -> ItemId {
            self.id
        }
    }

    fn thing(id: ItemId, text: &str) -> Thing {
        Thing {
            id,
            text: String::from(text),
        }
    }

    fn depth(node: &Node) -> usize {
        match node {
            Node::Leaf(_) => 1,
            Node::Inner(children) => 1 + depth(&children[0].1),
        }
    }

    fn check_against(map: &ItemMap<Thing>, model: &BTreeMap<ItemId, String>) {
        assert_eq!(map.len(), model.len());
        let got: Vec<(ItemId, &str)> = map.iter().map(|t| (t.id, t.text.as_str())).collect();
        let want: Vec<(ItemId, &str)> = model.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(got, want);
        for (k, v) in model {
            assert_eq!(map.get(*k).map(|t| t.text.as_str()), Some(v.as_str()));
        }
    }

    /// A small deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn random_changes_match_a_btreemap_and_old_copies_stay_as_they_were() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut map = ItemMap::new();
        let mut model = BTreeMap::new();
        let mut snapshots: Vec<(ItemMap<Thing>, BTreeMap<ItemId, String>)> = Vec::new();
        for step in 0..20_000u32 {
            let id = (rng.next() % 3000) as ItemId;
            match rng.next() % 10 {
                0..=4 => {
                    let text = alloc::format!("v{step}");
                    assert_eq!(
                        map.insert(thing(id, &text)).map(|t| t.text),
                        model.insert(id, text)
                    );
                }
                5..=7 => assert_eq!(map.remove(id).map(|t| t.text), model.remove(&id)),
                _ => {
                    let text = alloc::format!("u{step}");
                    let done = map.update(id, |t| t.text = text.clone());
                    assert_eq!(done.is_some(), model.contains_key(&id));
                    if let Some(v) = model.get_mut(&id) {
                        *v = text;
                    }
                }
            }
            if step % 1000 == 0 {
                check_against(&map, &model);
                snapshots.push((map.clone(), model.clone()));
            }
        }
        check_against(&map, &model);
        for (copy, model) in &snapshots {
            check_against(copy, model);
        }
    }

    #[test]
    fn appends_fill_nodes_and_the_tree_stays_shallow() {
        let mut map = ItemMap::new();
        for id in 1..=100_000 {
            map.push(thing(id, ""));
        }
        // Full nodes of 32: 32^3 < 100,000 <= 32^4.
        assert_eq!(depth(&map.tree.root), 4);
        for id in 1..=99_000 {
            map.remove(id);
        }
        assert_eq!(map.len(), 1000);
        assert!(
            depth(&map.tree.root) <= 3,
            "depth {}",
            depth(&map.tree.root)
        );
        assert_eq!(map.iter().next().map(|t| t.id), Some(99_001));
    }

    #[test]
    fn a_change_copies_only_its_path() {
        let mut map = ItemMap::new();
        for id in 1..=10_000 {
            map.push(thing(id, "x"));
        }
        let before = map.clone();
        map.update(5000, |t| t.text = String::from("y"));
        assert!(!map.same_item(&before, 5000));
        // Every other item is still shared with the old copy.
        assert!((1..=10_000)
            .filter(|&id| id != 5000)
            .all(|id| map.same_item(&before, id)));
        assert_eq!(before.get(5000).unwrap().text, "x");
    }

    #[test]
    fn touched_ids_are_reported_once_and_cleared() {
        let mut map: ItemMap<Thing> = (1..=5).map(|id| thing(id, "a")).collect();
        assert!(!map.is_touched());
        map.update(3, |t| t.text = String::from("b"));
        map.insert(thing(9, "c"));
        map.remove(1);
        map.update(3, |t| t.text = String::from("d"));
        assert_eq!(map.take_touched(), alloc::vec![1, 3, 9]);
        assert!(map.take_touched().is_empty());
        // Changing what is not there touches nothing.
        assert!(map.update(42, |_| ()).is_none());
        assert!(map.remove(42).is_none());
        assert!(!map.is_touched());
    }
}
