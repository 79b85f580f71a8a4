//! Any text as a Prometheus duration: `parse_duration` refuses it with an
//! error or gives a duration that `format_duration` prints as text parsing
//! to the same duration.

#![no_main]

use libfuzzer_sys::fuzz_target;
use model::{format_duration, parse_duration};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let d = match parse_duration(s) {
        Ok(d) => d,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let text = format_duration(d);
    let again = parse_duration(&text)
        .unwrap_or_else(|e| panic!("{text:?}, printed from {s:?}, does not parse: {e}"));
    assert_eq!(
        again, d,
        "{s:?} printed as {text:?} parses to another duration"
    );
});
