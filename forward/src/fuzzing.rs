//! The body of the `forward` fuzz target (filled below).
