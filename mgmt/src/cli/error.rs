//! Command errors, worded as RouterOS words them. Each names what the user got wrong; the
//! column (1-based, in the typed line) is printed where RouterOS prints it.

use alloc::format;
use alloc::string::String;

use crate::platform::PlatformError;

/// Why a command was refused. Nothing has changed when one of these is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmdError {
    /// A word that is neither a menu nor a command here.
    BadCommand { word: String, column: usize },
    /// More than one command or menu starts with this word.
    AmbiguousCommand { word: String, column: usize },
    /// Something follows that the command does not take (unknown argument, extra word).
    ExpectedEnd { column: usize },
    /// More than one argument starts with this word.
    AmbiguousArgument { word: String, column: usize },
    /// Unbalanced quotes or brackets.
    Syntax { column: usize },
    /// A `~` condition whose POSIX regular expression does not compile.
    BadRegex { reason: &'static str, column: usize },
    /// The value does not name any existing item of this argument's kind, or any choice.
    NoMatch { argument: &'static str },
    /// The value does not parse as this argument's type.
    InvalidValue { argument: &'static str },
    /// A number outside the argument's range.
    OutOfRange {
        argument: &'static str,
        min: u64,
        max: u64,
    },
    /// A name longer than names may be.
    TooLong { argument: &'static str, max: usize },
    /// The same argument given twice in one command.
    RepeatedArgument {
        argument: &'static str,
        column: usize,
    },
    /// Required arguments were not given.
    Missing { arguments: String },
    /// An item number or name that does not exist.
    NoSuchItem,
    /// The user's group may not change the configuration.
    NotPermitted,
    /// The command is well formed but the configuration does not allow it.
    Failure(String),
    /// The machine refused.
    Platform(PlatformError),
}

impl CmdError {
    /// The text printed for this error.
    pub fn message(&self) -> String {
        match self {
            CmdError::BadCommand { word, column } => {
                format!("bad command name {word} (line 1 column {column})")
            }
            CmdError::AmbiguousCommand { word, column } => {
                format!("ambiguous command name {word} (line 1 column {column})")
            }
            CmdError::ExpectedEnd { column } => {
                format!("expected end of command (line 1 column {column})")
            }
            CmdError::AmbiguousArgument { word, column } => {
                format!("ambiguous argument name {word} (line 1 column {column})")
            }
            CmdError::Syntax { column } => format!("syntax error (line 1 column {column})"),
            CmdError::BadRegex { reason, column } => {
                format!("invalid regular expression: {reason} (line 1 column {column})")
            }
            CmdError::NoMatch { argument } => {
                format!("input does not match any value of {argument}")
            }
            CmdError::InvalidValue { argument } => format!("invalid value for argument {argument}"),
            CmdError::OutOfRange { argument, min, max } => {
                format!("value of {argument} out of range ({min}..{max})")
            }
            CmdError::TooLong { argument, max } => {
                format!("value of {argument} too long (at most {max} characters)")
            }
            CmdError::RepeatedArgument { argument, column } => {
                format!("argument {argument} given more than once (line 1 column {column})")
            }
            CmdError::Missing { arguments } => {
                format!("missing value(s) of argument(s) {arguments}")
            }
            CmdError::NoSuchItem => String::from("no such item"),
            CmdError::NotPermitted => String::from("not enough permissions"),
            CmdError::Failure(text) => format!("failure: {text}"),
            CmdError::Platform(error) => format!("failure: {}", error.message()),
        }
    }

    /// A `failure: ...` error.
    pub fn failure(text: impl Into<String>) -> CmdError {
        CmdError::Failure(text.into())
    }
}

impl From<PlatformError> for CmdError {
    fn from(error: PlatformError) -> CmdError {
        CmdError::Platform(error)
    }
}
