//! What a menu declares about its `print` layout: the style, the flag slots and the columns of
//! the table form ([`super::table`] renders rows with it).

/// Output style of a menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Classic,
    Modern,
}

/// One position in the flags column and the flags that can appear there.
pub struct FlagSlot {
    pub flags: &'static [(char, &'static str)],
    /// Only shown when some row has one of these flags.
    pub optional: bool,
}

impl FlagSlot {
    /// A slot that is always shown.
    pub const fn new(flags: &'static [(char, &'static str)]) -> FlagSlot {
        FlagSlot {
            flags,
            optional: false,
        }
    }

    /// A slot shown only when some row has one of its flags.
    pub const fn optional(flags: &'static [(char, &'static str)]) -> FlagSlot {
        FlagSlot {
            flags,
            optional: true,
        }
    }
}

/// A column of the table form.
pub struct Column {
    /// Property shown.
    pub prop: &'static str,
    /// Header (upper case).
    pub header: &'static str,
    /// The header shrinks to the width of the values (modern style).
    pub abbreviate: bool,
}

impl Column {
    /// A column with its full header.
    pub const fn new(prop: &'static str, header: &'static str) -> Column {
        Column {
            prop,
            header,
            abbreviate: false,
        }
    }

    /// A column whose header shrinks to the width of the values (modern style).
    pub const fn abbreviated(prop: &'static str, header: &'static str) -> Column {
        Column {
            prop,
            header,
            abbreviate: true,
        }
    }
}

/// How a menu prints.
pub struct View {
    pub style: Style,
    pub slots: &'static [FlagSlot],
    pub columns: &'static [Column],
    /// `print` shows the detail form (menus with too many properties for a table).
    pub detail_default: bool,
    /// Show the `#` column.
    pub numbers: bool,
}

impl View {
    /// The classic style in table form, items numbered.
    pub const fn classic(slots: &'static [FlagSlot], columns: &'static [Column]) -> View {
        View::numbered(Style::Classic, slots, columns)
    }

    /// The newer style (route menus) in table form, items numbered.
    pub const fn modern(slots: &'static [FlagSlot], columns: &'static [Column]) -> View {
        View::numbered(Style::Modern, slots, columns)
    }

    const fn numbered(
        style: Style,
        slots: &'static [FlagSlot],
        columns: &'static [Column],
    ) -> View {
        View {
            style,
            slots,
            columns,
            detail_default: false,
            numbers: true,
        }
    }
}
