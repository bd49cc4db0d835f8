//! Running code that may take an exception, and getting the exception back as an error.
//!
//! Used by the isolation probes: an access to another partition must fault (the host reflects
//! the exception to the guest's vectors), and the guest must survive it and carry on.

use mr_proto::probe::Fault;

use crate::arch::catch;
use crate::trap;

/// Run `f`; if it takes an exception (not an interrupt), return the exception instead.
///
/// # Safety
/// If `f` faults, its frames are abandoned: it must not own anything that needs dropping, and
/// must not hold an [`crate::cell::IrqCell`] or other lock at the fault.
pub unsafe fn catch<F: FnOnce() -> u32>(f: F) -> Result<u32, Fault> {
    extern "C" fn trampoline<F: FnOnce() -> u32>(data: *mut u8) -> u32 {
        // SAFETY: `data` is the `Option<F>` below, alive for the whole call.
        let slot = unsafe { &mut *data.cast::<Option<F>>() };
        slot.take().map_or(0, |f| f())
    }
    let mut slot = Some(f);
    let _ = trap::take_fault();
    // SAFETY: the trampoline is a valid o32 function; the caller accepts abandoned frames.
    let value = unsafe { catch::call(trampoline::<F>, (&mut slot as *mut Option<F>).cast()) };
    match trap::take_fault() {
        Some(fault) => Err(fault),
        None => Ok(value),
    }
}

/// Read a word at `addr`, turning an exception into an error.
///
/// # Safety
/// If the read succeeds and `addr` is a device register, reading it may have side effects.
pub unsafe fn read_u32(addr: u32) -> Result<u32, Fault> {
    // SAFETY: the closure owns nothing; a fault abandons only its own frame.
    unsafe { catch(|| (addr as *const u32).read_volatile()) }
}

/// Write a word at `addr`, turning an exception into an error.
///
/// # Safety
/// If the write succeeds it changes memory at `addr`: it must not be memory Rust code relies on.
pub unsafe fn write_u32(addr: u32, value: u32) -> Result<(), Fault> {
    // SAFETY: as the caller guarantees; the closure owns nothing.
    unsafe {
        catch(|| {
            (addr as *mut u32).write_volatile(value);
            0
        })
    }
    .map(|_| ())
}
