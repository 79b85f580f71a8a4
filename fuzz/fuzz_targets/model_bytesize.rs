//! Any text as a byte size (`--storage.tsdb.retention.size`) and as a metric
//! type name: `parse_byte_size` and `MetricType::from_str` refuse it with an
//! error or accept it, and what they accept prints back to text that parses
//! to the same value.

#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use model::{parse_byte_size, MetricType};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match parse_byte_size(s) {
        Ok(n) => {
            // Sizes are summed as floats: exact up to 2^53 bytes (8 PiB).
            if n < 1 << 53 {
                let text = format!("{n}B");
                assert_eq!(parse_byte_size(&text), Ok(n), "{s:?} printed as {text:?}");
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match MetricType::from_str(s) {
        Ok(t) => {
            assert_eq!(MetricType::from_str(t.as_openmetrics_str()), Ok(t));
            let _ = (t.as_text_str(), t.to_string());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
