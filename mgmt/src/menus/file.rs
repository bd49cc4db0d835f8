//! `/file`: the platform's file store (images to import), read-only.

use alloc::vec::Vec;

use crate::cli::menu::{Access, Table, ViewCtx};
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
                let mut row = Row::item(0x4000_0000 | i as u32)
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
