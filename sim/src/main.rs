//! Host simulator: the management plane on stdin/stdout with a modelled board
fn main() {}
