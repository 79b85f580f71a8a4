//! Any bytes through the OpenMetrics parser: no panic, created-timestamp
//! look-ahead included, and what parses re-encodes to something that parses.

#![no_main]

use expfmt::{Entry, OpenMetricsParser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut p = OpenMetricsParser::new(data);
    while let Some(entry) = p.next() {
        let Ok(entry) = entry else { break };
        if let Entry::Series(s) = entry {
            let _ = (s.raw(), s.name(), s.value(), s.timestamp());
            for l in s.labels() {
                let _ = (l.name.len(), l.value.len());
            }
            if let Some(e) = s.exemplar() {
                let _ = (e.labels().count(), e.value(), e.timestamp());
            }
            let _ = p.created_timestamp(&s);
        }
    }
    if let Ok(families) = expfmt::decode_openmetrics(data) {
        let mut out = Vec::new();
        expfmt::encode_openmetrics(&mut out, &families);
        let again = expfmt::decode_openmetrics(&out).expect("re-encoded OpenMetrics must parse");
        assert_eq!(families.len(), again.len());
    }
    let _ = expfmt::collect_openmetrics(data);
});
