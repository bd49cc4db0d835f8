//! `/file`: the platform's file store (images to import): `print`, `remove`, which
//! deletes files from the store for good, and `receive` / `send` over the serial console
//! with ZMODEM or YMODEM (`file_transfer.rs`).

use alloc::string::String;
use alloc::vec::Vec;

use crate::cli::batch::act_each;
use crate::cli::error::CmdError;
use crate::cli::menu::{Access, Command, Exec, Invocation, Items, Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, View};
use crate::value::{format_bytes, format_date};

static VIEW: View = View::classic(
    &[],
    &[
        Column::new("name", "NAME"),
        Column::new("type", "TYPE"),
        Column::new("size", "SIZE"),
        Column::new("creation-time", "CREATION-TIME"),
    ],
);

/// Item ids of files: the flag above the file's index in the platform's list.
pub(super) const FILE_ID: u32 = 0x4000_0000;

/// `/file`'s own commands (the table itself is read-only).
pub static COMMANDS: [Command; 3] = [
    Command::new("remove", "Remove files", Items::Many, remove),
    Command {
        args: &super::file_transfer::ARGS,
        ..Command::new(
            "receive",
            "Receive files over the console (ZMODEM or YMODEM: sz or sb on the other side)",
            Items::None,
            super::file_transfer::receive,
        )
    },
    Command {
        args: &super::file_transfer::ARGS,
        ..Command::new(
            "send",
            "Send a file over the console (ZMODEM or YMODEM: rz or rb on the other side)",
            Items::One,
            super::file_transfer::send,
        )
    },
];

/// `remove`: the files named go from the store; with several, each failure is reported by
/// name and the others still go.
fn remove(exec: &mut Exec<'_>, inv: &Invocation) -> Result<(), CmdError> {
    let names = inv
        .items
        .iter()
        .map(|&id| {
            let index = usize::try_from(id & !FILE_ID).map_err(|_| CmdError::NoSuchItem)?;
            let file = exec.platform.file(index).ok_or(CmdError::NoSuchItem)?;
            Ok(file.name)
        })
        .collect::<Result<Vec<String>, CmdError>>()?;
    let mut out = String::new();
    let platform = &mut *exec.platform;
    let result = act_each(
        &names,
        &|name: &String| name.clone(),
        &mut |name: &String| Ok(platform.file_remove(name)?),
        &mut out,
    );
    exec.out.push_str(&out);
    result
}

/// The `/file` table.
pub struct Files;

impl Table for Files {
    fn view(&self) -> &'static View {
        &VIEW
    }

    fn access(&self) -> Access {
        Access::ReadOnly
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (_config, platform) = (ctx.config, ctx.platform);
        (0..platform.file_count())
            .filter_map(|i| platform.file(i).map(|f| (i, f)))
            .map(|(i, file)| {
                let mut row = Row::item(FILE_ID | i as u32)
                    .text("name", file.name)
                    .text("type", file.kind)
                    .num("size", format_bytes(file.size));
                if let Some(created) = file.created {
                    row = row.word("creation-time", format_date(created));
                }
                row
            })
            .collect()
    }
}
