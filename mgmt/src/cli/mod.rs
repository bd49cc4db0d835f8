//! The command language: words and quoting, menus, arguments, `print` layout, `where`, help and
//! completion, and the interpreter that ties them together.

pub mod args;
pub mod batch;
pub mod compare;
pub mod complete;
pub mod error;
pub mod exec;
pub mod filter;
pub mod filter_lex;
pub mod forms;
pub mod gateway;
pub mod lex;
pub mod menu;
pub mod print;
pub mod regex;
pub mod resolve;
pub mod table;
pub mod view;
pub mod words;
