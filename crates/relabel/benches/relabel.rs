//! Placeholder until the relabeling benchmark lands.

fn main() {}
