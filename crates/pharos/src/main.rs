//! The `pharos` binary: parses flags and hands off to the subcommands.

fn main() {}
