//! Task runner: `./x help`.
fn main() {}
