//! A runner for Prometheus's PromQL test-script language ("promqltest").

pub mod values;
