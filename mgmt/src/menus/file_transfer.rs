//! `/file receive` and `/file send`: files over the serial console with ZMODEM. The commands
//! only hand the shell what to do; the transfer runs on the console (`shell/transfer.rs`).

use alloc::string::String;

use crate::cli::error::CmdError;
use crate::cli::menu::{Exec, Invocation, Outcome};

/// A transfer the shell runs on the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferRequest {
    /// Receive files (`sz FILE...` on the other side).
    Receive,
    /// Send the file (`rz` on the other side).
    Send {
        name: String,
        size: u64,
        /// Seconds since 1970 (0: unknown).
        created: u64,
    },
}

/// `receive`: the console waits for a ZMODEM sender.
pub(super) fn receive(exec: &mut Exec<'_>, _inv: &Invocation) -> Result<(), CmdError> {
    exec.outcome = Outcome::Transfer(TransferRequest::Receive);
    Ok(())
}

/// `send`: the file goes to a ZMODEM receiver on the console.
pub(super) fn send(exec: &mut Exec<'_>, inv: &Invocation) -> Result<(), CmdError> {
    let id = *inv.items.first().ok_or(CmdError::NoSuchItem)?;
    let index = usize::try_from(id & !super::file::FILE_ID).map_err(|_| CmdError::NoSuchItem)?;
    let file = exec.platform.file(index).ok_or(CmdError::NoSuchItem)?;
    exec.outcome = Outcome::Transfer(TransferRequest::Send {
        name: file.name,
        size: file.size,
        created: file.created.unwrap_or(0),
    });
    Ok(())
}
