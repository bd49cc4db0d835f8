//! Guest-global state shared between the main loop and interrupt handlers.
//!
//! The guest has one CPU; an [`IrqCell`] gives exclusive access by disabling interrupts for the
//! duration of a closure. Re-entering the same cell (from the closure itself, or from a fault
//! handler while it is held) is a bug and panics instead of aliasing.

use core::cell::{Cell, UnsafeCell};

use crate::arch::irq;

/// A value accessed with interrupts disabled.
pub struct IrqCell<T> {
    value: UnsafeCell<T>,
    busy: Cell<bool>,
}

// SAFETY: the guest is single-CPU; every access goes through `with`, which disables interrupts
// (the only other "thread") and refuses re-entry, so there is never more than one reference.
unsafe impl<T: Send> Sync for IrqCell<T> {}

impl<T> IrqCell<T> {
    /// A cell holding `value`.
    pub const fn new(value: T) -> Self {
        Self {
            value: UnsafeCell::new(value),
            busy: Cell::new(false),
        }
    }

    /// Run `f` with exclusive access.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        irq::without(|| {
            assert!(!self.busy.replace(true), "IrqCell re-entered");
            // SAFETY: interrupts are off and `busy` was clear: no other reference exists.
            let r = f(unsafe { &mut *self.value.get() });
            self.busy.set(false);
            r
        })
    }
}
