//! The contracts between data and its users.
