//! Fuzzed `web.config.yml` text (exporter-toolkit format): loading never
//! panics, whatever the bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 16 * 1024 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = config::WebConfig::load_str(text, "web.yml");
});
