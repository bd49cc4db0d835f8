//! `/tool fetch mode=tftp address=A src-path=P [dst-path=P] [port=N] [upload=yes|no]`: copies a
//! file between the box's file store and a TFTP server. The command checks the arguments and
//! hands the shell what to do; the transfer runs from the shell's polling
//! (`crate::shell::fetch`), with status lines as RouterOS prints them.
//!
//! As RouterOS: `mode` defaults to `http`, `port` to the mode's (69 for TFTP), `dst-path` to
//! the file name of `src-path`; `upload=yes` sends the store's file `src-path` to the server
//! as `dst-path`. Only TFTP is built: another mode is refused with a clear error.

use alloc::format;
use alloc::string::String;
use core::net::IpAddr;

use crate::cli::args::{Field, Kind};
use crate::cli::error::CmdError;
use crate::cli::menu::{Command, Exec, Invocation, Items, Outcome};

/// The modes RouterOS knows (only `tftp` is built).
const MODES: &[&str] = &["ftp", "http", "https", "sftp", "tftp"];

static FIELDS: [Field; 6] = [
    Field::new(
        "address",
        Kind::Text,
        "IP address of the server (IPv4 or IPv6)",
    ),
    Field::new(
        "dst-path",
        Kind::Text,
        "Where the file goes (default: the file name of src-path)",
    ),
    Field::new(
        "mode",
        Kind::Choice(MODES),
        "Protocol: tftp (the only one built here; RouterOS's default is http)",
    ),
    Field::new(
        "port",
        Kind::Int {
            min: 1,
            max: 65535,
            unit: "",
        },
        "Server port (default 69 for tftp)",
    ),
    Field::new(
        "src-path",
        Kind::Text,
        "The file to copy (on the server, or in /file with upload=yes)",
    ),
    Field::new(
        "upload",
        Kind::Bool,
        "yes: send src-path from /file to the server as dst-path",
    ),
];

/// `/tool fetch`.
pub const FETCH: Command = Command {
    args: &FIELDS,
    required: &["address", "src-path"],
    ..Command::new(
        "fetch",
        "Copy a file from or to a TFTP server",
        Items::None,
        fetch,
    )
};

/// A transfer for the shell to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchRequest {
    pub server: IpAddr,
    pub port: u16,
    /// `true`: from the store to the server.
    pub upload: bool,
    /// Download: the server's file; upload: the store's.
    pub src: String,
    /// Download: the store's file; upload: the server's.
    pub dst: String,
    /// Upload: the file's size.
    pub size: u64,
}

/// The last part of a path (`a/b/c.tgz` -> `c.tgz`).
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn fetch(exec: &mut Exec<'_>, inv: &Invocation) -> Result<(), CmdError> {
    let mode = inv.args.word("mode").unwrap_or("http");
    if mode != "tftp" {
        return Err(CmdError::failure(format!(
            "mode={mode} is not supported on this machine, use mode=tftp"
        )));
    }
    let server: IpAddr = inv
        .args
        .text("address")
        .and_then(|text| text.trim().parse().ok())
        .ok_or(CmdError::InvalidValue {
            argument: "address",
        })?;
    let src = inv.args.text("src-path").unwrap_or("");
    if src.is_empty() || src.contains('\0') {
        return Err(CmdError::InvalidValue {
            argument: "src-path",
        });
    }
    let dst = match inv.args.text("dst-path") {
        Some(dst) if !dst.is_empty() => dst,
        Some(_) => {
            return Err(CmdError::InvalidValue {
                argument: "dst-path",
            })
        }
        None => file_name(src),
    };
    let upload = inv.args.bool("upload").unwrap_or(false);
    let port = inv
        .args
        .int("port")
        .map_or(tftp::DEFAULT_PORT, |p| p as u16);
    let size = if upload {
        let files = exec.platform.file_count();
        (0..files)
            .filter_map(|i| exec.platform.file(i))
            .find(|f| f.name == src)
            .ok_or(CmdError::failure("no such file"))?
            .size
    } else {
        0
    };
    exec.outcome = Outcome::Fetch(FetchRequest {
        server,
        port,
        upload,
        src: String::from(src),
        dst: String::from(dst),
        size,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(file_name("netguest.tgz"), "netguest.tgz");
        assert_eq!(file_name("images/mips/netguest.tgz"), "netguest.tgz");
    }
}
