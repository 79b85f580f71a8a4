//! Any text as a series selector: `parse_metric_selector` refuses it with an
//! error or gives matchers, and those matchers, written back with quoted
//! names and values, parse to the same matchers.

#![no_main]

use libfuzzer_sys::fuzz_target;
use model::labels::write_go_quoted;
use model::parse_metric_selector;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let ms = match parse_metric_selector(s) {
        Ok(ms) => ms,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let mut text = String::from("{");
    for (i, m) in ms.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        write_go_quoted(&mut text, &m.name).expect("BUG: writing to a String");
        text.push_str(m.match_type.as_str());
        write_go_quoted(&mut text, &m.value).expect("BUG: writing to a String");
        let _ = (m.matches(""), m.matches(&m.value), m.to_string());
    }
    text.push('}');
    let again = parse_metric_selector(&text)
        .unwrap_or_else(|e| panic!("{text:?}, written from {s:?}, does not parse: {e}"));
    assert_eq!(again, ms, "{text:?} written from {s:?} parses differently");
});
