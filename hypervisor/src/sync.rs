//! Synchronisation for a single-core kernel whose interrupt handlers share state with the main
//! loop: [`IrqMutex`] masks interrupts while held, so a handler can never spin on a lock the
//! code it interrupted holds.

use crate::arch;

/// A mutex that disables interrupts for as long as it is held.
pub struct IrqMutex<T> {
    inner: spin::Mutex<T>,
}

impl<T> IrqMutex<T> {
    pub const fn new(value: T) -> Self {
        Self {
            inner: spin::Mutex::new(value),
        }
    }

    /// Run `f` with the value, interrupts masked.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let was = arch::interrupts_disable();
        let r = f(&mut self.inner.lock());
        arch::interrupts_restore(was);
        r
    }
}
