//! Consul service discovery (`consul_sd_configs`).
