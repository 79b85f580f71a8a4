//! A fuzzed pattern and fuzzed values: `Matcher::new` refuses a pattern only
//! if the `regex` crate refuses `^(?s:<pattern>)$`, and for an accepted one
//! every match (fast paths included: literals, sets, prefixes, `.*`, `.+`)
//! agrees with that regex, for `=~` and `!~`.
//!
//! Input: the pattern, then values, separated by NUL bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use model::{MatchType, Matcher};
use regex::Regex;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = s.split('\0');
    let pattern = parts.next().unwrap_or_default();
    // Keep pathological patterns from spending the time budget compiling.
    if pattern.len() > 256 {
        return;
    }
    let reference = Regex::new(&format!("^(?s:{pattern})$"));
    let m = Matcher::new(MatchType::Regex, "l", pattern);
    let not = Matcher::new(MatchType::NotRegex, "l", pattern);
    let (re, m, not) = match (reference, m, not) {
        (Ok(re), Ok(m), Ok(not)) => (re, m, not),
        (Err(_), Err(e), Err(_)) => {
            let _ = e.to_string();
            return;
        }
        (re, m, _) => panic!(
            "{pattern:?}: regex says {:?}, Matcher says {:?}",
            re.err(),
            m.err().map(|e| e.to_string())
        ),
    };
    for v in parts.chain(["", pattern]) {
        let want = re.is_match(v);
        assert_eq!(m.matches(v), want, "{pattern:?} =~ {v:?}");
        assert_eq!(not.matches(v), !want, "{pattern:?} !~ {v:?}");
    }
    assert_eq!(m.matches_empty(), re.is_match(""));
    if let Some(set) = m.set_matches() {
        for v in set {
            assert!(
                re.is_match(v),
                "{pattern:?}: set value {v:?} does not match"
            );
        }
    }
    // Every value the regex accepts starts with the claimed literal prefix.
    if let Some(p) = m.literal_prefix() {
        for v in s.split('\0').skip(1).chain([pattern, ""]) {
            assert!(
                !re.is_match(v) || v.starts_with(p),
                "{pattern:?}: literal prefix {p:?}, but {v:?} matches"
            );
        }
    }
});
