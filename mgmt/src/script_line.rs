//! One line of an exported script (`export`, the saved configuration): ` name=value` pairs as
//! every menu's `add` lines write them. The menus use it, and `crate::export` puts their lines
//! together; it depends on neither.

use alloc::string::String;
use core::fmt::{self, Write};

use crate::value::quote_if_needed;

/// Appends ` name=value` to an export line: one formatting routine for every menu's `add`
/// lines (a `format!` per property costs code at every call site).
pub fn push_pair(line: &mut String, name: &str, value: &dyn fmt::Display) {
    line.push(' ');
    line.push_str(name);
    line.push('=');
    let _ = write!(line, "{value}");
}

/// Appends ` comment=...` for an item with a comment.
pub fn push_comment(line: &mut String, comment: &str) {
    if !comment.is_empty() {
        push_pair(line, "comment", &quote_if_needed(comment));
    }
}

/// Appends ` disabled=yes` for a disabled item.
pub fn push_disabled(line: &mut String, disabled: bool) {
    if disabled {
        line.push_str(" disabled=yes");
    }
}
