//! `/file receive [protocol=zmodem|ymodem]` and `/file send FILE [protocol=...]`: files over
//! the serial console with ZMODEM (the default) or YMODEM. The commands only hand the shell
//! what to do; the transfer runs on the console (`shell/transfer.rs`).

use alloc::string::String;

use crate::cli::args::{Field, Kind};
use crate::cli::error::CmdError;
use crate::cli::menu::{Exec, Invocation, Outcome};

/// The transfer protocols, as the `protocol` argument names them.
const PROTOCOLS: &[&str] = &["ymodem", "zmodem"];

/// The arguments of `receive` and `send`.
pub(super) static ARGS: [Field; 1] = [Field::new(
    "protocol",
    Kind::Choice(PROTOCOLS),
    "zmodem (sz/rz on the other side; the default) or ymodem (sb/rb)",
)];

/// The protocol a transfer speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Zmodem,
    Ymodem,
}

impl Protocol {
    fn of(inv: &Invocation) -> Protocol {
        match inv.args.word("protocol") {
            Some("ymodem") => Protocol::Ymodem,
            _ => Protocol::Zmodem,
        }
    }
}

/// A transfer the shell runs on the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferRequest {
    /// Receive files (`sz FILE...` or `sb FILE...` on the other side).
    Receive { protocol: Protocol },
    /// Send the file (`rz` or `rb` on the other side).
    Send {
        protocol: Protocol,
        name: String,
        size: u64,
        /// Seconds since 1970 (0: unknown).
        created: u64,
    },
}

/// `receive`: the console waits for a sender.
pub(super) fn receive(exec: &mut Exec<'_>, inv: &Invocation) -> Result<(), CmdError> {
    exec.outcome = Outcome::Transfer(TransferRequest::Receive {
        protocol: Protocol::of(inv),
    });
    Ok(())
}

/// `send`: the file goes to a receiver on the console.
pub(super) fn send(exec: &mut Exec<'_>, inv: &Invocation) -> Result<(), CmdError> {
    let id = *inv.items.first().ok_or(CmdError::NoSuchItem)?;
    let index = usize::try_from(id & !super::file::FILE_ID).map_err(|_| CmdError::NoSuchItem)?;
    let file = exec.platform.file(index).ok_or(CmdError::NoSuchItem)?;
    exec.outcome = Outcome::Transfer(TransferRequest::Send {
        protocol: Protocol::of(inv),
        name: file.name,
        size: file.size,
        created: file.created.unwrap_or(0),
    });
    Ok(())
}
