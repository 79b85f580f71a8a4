//! Fuzzed relabel rules applied to fuzzed labels: nothing panics, results
//! are well-formed label sets, a reused `Relabeler` agrees with a fresh one,
//! and rules written back to YAML parse to rules that behave the same.
//!
//! Input: a YAML list of rules, then NUL-separated label names and values
//! (`rules\0name\0value\0name\0value…`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use model::Labels;
use relabel::{NameValidationScheme, RelabelConfig, Relabeler};

fuzz_target!(|data: &[u8]| {
    // Keep regex compilation and YAML parsing within the time budget.
    if data.len() > 4096 {
        return;
    }
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = s.split('\0');
    let yaml = parts.next().unwrap_or_default();
    let mut rules = match serde_yaml_ng::from_str::<Vec<RelabelConfig>>(yaml) {
        Ok(rules) => rules,
        Err(e) => {
            // Internal inconsistencies surface as errors saying "BUG".
            assert!(!e.to_string().contains("BUG"), "{e}");
            return;
        }
    };
    let mut pairs = Vec::new();
    while let (Some(n), Some(v)) = (parts.next(), parts.next()) {
        pairs.push((n, v));
    }
    let labels = Labels::from_pairs(&pairs);

    for scheme in [NameValidationScheme::Legacy, NameValidationScheme::Utf8] {
        for r in &mut rules {
            r.name_validation_scheme = None;
            if let Err(e) = r.validate(scheme) {
                let _ = e.to_string();
            }
        }
        // Unvalidated rules (modulus 0, empty targets) must not panic either.
        let fresh = relabel::process(&labels, &rules);
        let mut reused = Relabeler::new();
        let _ = reused.process(&Labels::from_pairs(&[("x", "y")]), &rules);
        assert_eq!(reused.process(&labels, &rules), fresh);
        if let Some(out) = &fresh {
            let mut prev: Option<&str> = None;
            for l in out.iter() {
                assert!(!l.value.is_empty(), "empty value for {:?}", l.name);
                assert!(prev.is_none_or(|p| p < l.name), "unsorted at {:?}", l.name);
                prev = Some(l.name);
            }
        }
        let written = serde_yaml_ng::to_string(&rules).expect("rules serialize");
        let mut back: Vec<RelabelConfig> = serde_yaml_ng::from_str(&written)
            .unwrap_or_else(|e| panic!("written rules do not parse: {e}\n{written}"));
        for (b, r) in back.iter_mut().zip(&rules) {
            b.name_validation_scheme = r.name_validation_scheme;
        }
        assert_eq!(relabel::process(&labels, &back), fresh, "{written}");
    }
});
