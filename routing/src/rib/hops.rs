//! Forwarding actions shared by FIB entries: every distinct action (an ECMP set of hops, or a
//! blackhole / unreachable / prohibit) gets one [`NextHop`] id, reference-counted by the FIB
//! entries that use it. Round-robin state lives here, per action.

use super::types::{Hop, Resource, RibError, RouteType};
use crate::fib::NextHop;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

/// What the FIB entry for a destination does.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FibAction {
    /// Forward through one of these hops (sorted, distinct, at least one).
    Unicast(Vec<Hop>),
    Special(RouteType),
}

struct Entry {
    action: FibAction,
    refs: u32,
    /// Round-robin position. Relaxed load + store: exact when one CPU decides, approximate (but
    /// harmless) when several race; needs no read-modify-write atomics.
    next: AtomicU32,
}

#[derive(Default)]
pub(crate) struct NextHopTable {
    entries: Vec<Option<Entry>>,
    /// Ids of the actions in use, sorted by action.
    index: Vec<(FibAction, u16)>,
    free: Vec<u16>,
}

impl NextHopTable {
    /// The id of `action`, with one more reference.
    pub(crate) fn intern(&mut self, action: FibAction) -> Result<NextHop, RibError> {
        let at = match self.find(&action) {
            Ok(at) => {
                let id = self.index[at].1;
                if let Some(e) = self.entries[usize::from(id)].as_mut() {
                    e.refs += 1;
                }
                return NextHop::new(id).ok_or(RibError::Full(Resource::NextHops));
            }
            Err(at) => at,
        };
        let id = match self.free.pop() {
            Some(id) => id,
            None if self.entries.len() <= usize::from(NextHop::MAX) => {
                self.entries.push(None);
                (self.entries.len() - 1) as u16
            }
            None => return Err(RibError::Full(Resource::NextHops)),
        };
        self.index.insert(at, (action.clone(), id));
        self.entries[usize::from(id)] = Some(Entry {
            action,
            refs: 1,
            next: AtomicU32::new(0),
        });
        NextHop::new(id).ok_or(RibError::Full(Resource::NextHops))
    }

    pub(crate) fn retain(&mut self, id: NextHop) {
        if let Some(e) = self.entries[usize::from(id.get())].as_mut() {
            e.refs += 1;
        }
    }

    pub(crate) fn release(&mut self, id: NextHop) {
        let slot = &mut self.entries[usize::from(id.get())];
        let Some(e) = slot.as_mut() else { return };
        e.refs -= 1;
        if e.refs == 0 {
            if let Some(e) = slot.take() {
                if let Ok(at) = self.find(&e.action) {
                    self.index.remove(at);
                }
            }
            self.free.push(id.get());
        }
    }

    pub(crate) fn action(&self, id: NextHop) -> Option<&FibAction> {
        self.entries
            .get(usize::from(id.get()))?
            .as_ref()
            .map(|e| &e.action)
    }

    /// The next round-robin position for `id`'s action.
    pub(crate) fn round_robin(&self, id: NextHop) -> u32 {
        match self
            .entries
            .get(usize::from(id.get()))
            .and_then(Option::as_ref)
        {
            Some(e) => {
                let n = e.next.load(Ordering::Relaxed);
                e.next.store(n.wrapping_add(1), Ordering::Relaxed);
                n
            }
            None => 0,
        }
    }

    fn find(&self, action: &FibAction) -> Result<usize, usize> {
        self.index.binary_search_by(|(a, _)| a.cmp(action))
    }

    /// Number of distinct actions in use.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}
