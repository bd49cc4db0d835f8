//! `/user`: console users. Passwords are kept as SHA-256 hashes; the saved configuration carries
//! the hash (`password-hash=`), `export` never shows it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use sha2::{Digest, Sha256};

use super::items::{ItemList, COMMENT};
use crate::cli::args::{Args, Field, Kind, Value};
use crate::cli::error::CmdError;
use crate::cli::menu::{Table, ViewCtx};
use crate::cli::table::Row;
use crate::cli::view::{Column, FlagSlot, View};
use crate::config::{Config, ItemId, User, GROUPS};
use crate::platform::Platform;
use crate::script_line::{push_disabled, push_pair};
use crate::value::quote_if_needed;

/// Hash of a password as stored.
pub fn hash_password(password: &str) -> Option<[u8; 32]> {
    if password.is_empty() {
        return None;
    }
    Some(Sha256::digest(password.as_bytes()).into())
}

/// Whether `password` is right for `user`.
pub fn password_matches(user: &User, password: &str) -> bool {
    user.password_hash == hash_password(password)
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::new();
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

static FIELDS: [Field; 6] = [
    COMMENT,
    Field::new("disabled", Kind::Bool, "Whether the user may log in"),
    Field::new(
        "group",
        Kind::Choice(GROUPS),
        "full, write or read (read may not change anything)",
    ),
    Field::new("name", Kind::Name, "User name"),
    Field::new("password", Kind::Text, "Password (empty for none)"),
    Field::new(
        "password-hash",
        Kind::Text,
        "SHA-256 of the password in hex (saved configuration)",
    ),
];

static VIEW: View = View::classic(
    &[FlagSlot::new(&[('X', "disabled")])],
    &[Column::new("name", "NAME"), Column::new("group", "GROUP")],
);

/// The `/user` table.
pub struct Users;

const USERS: ItemList<User> = ItemList {
    list: |c| &mut c.users,
    change,
};

/// Applies `add`/`set` arguments and checks the name against the other users.
fn change(config: &Config, user: &mut User, args: &Args) -> Result<(), CmdError> {
    for arg in &args.list {
        match (arg.field.name, &arg.value) {
            ("comment", Value::Text(text)) => user.comment = text.clone(),
            ("disabled", Value::Bool(b)) => user.disabled = *b,
            ("group", Value::Word(group)) => user.group = group,
            ("name", Value::Text(name)) => user.name = name.clone(),
            ("password", Value::Text(password)) => user.password_hash = hash_password(password),
            ("password-hash", Value::Text(text)) if text.is_empty() => user.password_hash = None,
            ("password-hash", Value::Text(text)) => {
                user.password_hash = Some(parse_hex32(text).ok_or(CmdError::InvalidValue {
                    argument: "password-hash",
                })?)
            }
            _ => {}
        }
    }
    if config
        .users
        .iter()
        .any(|u| u.id != user.id && crate::config::same_name(&u.name, &user.name))
    {
        return Err(CmdError::failure("user with the same name already exists"));
    }
    Ok(())
}

fn keeps_full_user(config: &Config) -> Result<(), CmdError> {
    if config
        .users
        .iter()
        .any(|u| u.group == "full" && !u.disabled)
    {
        Ok(())
    } else {
        Err(CmdError::failure(
            "at least one enabled user of group full must remain",
        ))
    }
}

impl Table for Users {
    fn view(&self) -> &'static View {
        &VIEW
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn required(&self) -> &'static [&'static str] {
        &["name", "group"]
    }

    fn rows(&self, ctx: &ViewCtx<'_>) -> Vec<Row> {
        let (config, _platform) = (ctx.config, ctx.platform);
        let row = |u: &User| {
            Row::item(u.id)
                .flag_if(u.disabled, 'X')
                .text("name", u.name.clone())
                .word("group", u.group)
                .with_comment(&u.comment)
        };
        config.users.iter().map(row).collect()
    }

    fn add(
        &self,
        config: &mut Config,
        _platform: &dyn Platform,
        args: &Args,
        _copy_from: Option<ItemId>,
    ) -> Result<ItemId, CmdError> {
        let user = User {
            id: config.new_id(),
            name: String::new(),
            group: "read",
            password_hash: None,
            disabled: false,
            comment: String::new(),
        };
        USERS.add(config, user, args)
    }

    fn set(&self, config: &mut Config, id: ItemId, args: &Args) -> Result<(), CmdError> {
        USERS.set(config, id, args)?;
        keeps_full_user(config)
    }

    fn remove(&self, config: &mut Config, id: ItemId) -> Result<(), CmdError> {
        USERS.remove(config, id)?;
        keeps_full_user(config)
    }

    fn items(&self, config: &Config) -> Vec<ItemId> {
        config.users.iter().map(|u| u.id).collect()
    }

    /// Users are never exported; the saved configuration keeps them with their password
    /// hashes.
    fn saved_item(&self, config: &Config, id: ItemId) -> Vec<String> {
        let Some(u) = config.users.get(id) else {
            return Vec::new();
        };
        let mut line = format!("add name={}", quote_if_needed(&u.name));
        push_pair(&mut line, "group", &u.group);
        if let Some(hash) = u.password_hash {
            push_pair(&mut line, "password-hash", &hex(&hash));
        }
        push_disabled(&mut line, u.disabled);
        push_pair(&mut line, "comment", &quote_if_needed(&u.comment));
        alloc::vec![line]
    }
}
