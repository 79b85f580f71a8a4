//! Fuzzed `prometheus.yml` text: loading never panics, and a config that
//! loads writes back (`to_yaml`, as `/api/v1/status/config` will show it)
//! to YAML that loads again.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Large inputs only slow the YAML parser down; they find nothing new.
    if data.len() > 16 * 1024 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = config::load_str(text, "fuzz.yml") else {
        return;
    };
    let yaml = match config.to_yaml() {
        Ok(y) => y,
        Err(e) => panic!("a loaded config does not write back: {e}"),
    };
    if let Err(e) = config::load_str(&yaml, "written.yml") {
        // Secrets are written as `<secret>`, which loads again; anything
        // else that fails is a writer/reader mismatch.
        panic!("written config does not load: {e}\n{yaml}");
    }
});
