//! FIB benchmark: ours against crates.io peers, side by side
fn main() {}
