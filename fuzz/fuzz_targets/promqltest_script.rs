//! Any text as a PromQL test script: `Script::parse` gives commands or an
//! error naming `file:line`, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match promqltest::script::Script::parse("fuzz.test", s) {
        Ok(script) => {
            let _ = format!("{script:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
