//! `/file`: the platform's file store (images to import), read-only.

use alloc::vec::Vec;

use crate::cli::args::Field;
use crate::cli::menu::Table;
use crate::cli::table::{Column, Row, Style, View};
use crate::config::Config;
use crate::platform::Platform;
use crate::value::{format_bytes, format_date};

static VIEW: View = View {
    style: Style::Classic,
    slots: &[],
    columns: &[
        Column {
            prop: "name",
            header: "NAME",
            abbreviate: false,
        },
        Column {
            prop: "type",
            header: "TYPE",
            abbreviate: false,
        },
        Column {
            prop: "size",
            header: "SIZE",
            abbreviate: false,
        },
        Column {
            prop: "creation-time",
            header: "CREATION-TIME",
            abbreviate: false,
        },
    ],
    detail_default: false,
    numbers: true,
};

/// The `/file` table.
pub struct Files;

impl Table for Files {
    fn view(&self) -> &'static View {
        &VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &[]
    }

    fn can_add(&self) -> bool {
        false
    }

    fn can_set(&self) -> bool {
        false
    }

    fn can_remove(&self) -> bool {
        false
    }

    fn rows(&self, _config: &Config, platform: &dyn Platform) -> Vec<Row> {
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
