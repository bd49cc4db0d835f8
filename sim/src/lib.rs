//! Host simulator of the management plane: the same `mgmt` shell on a modelled board
//! ([`board`], [`guest`], the host IP network [`net`]), driven from stdin/stdout by the `sim` binary or from tests
//! ([`driver`], [`script`]), plus the fuzz body ([`fuzz`]).

pub mod board;
pub mod driver;
pub mod fuzz;
pub mod guest;
pub mod net;
pub mod script;
pub mod tftp_server;
pub mod transfer;
