//! Fuzz target bodies.
pub mod samples;
