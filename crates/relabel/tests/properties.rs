//! Invariants of relabeling over random label sets and random rule chains.

use std::collections::BTreeMap;

use model::Labels;
use proptest::prelude::*;
use relabel::{process, NameValidationScheme, RelabelConfig, Relabeler};

fn labels_strategy() -> impl Strategy<Value = Labels> {
    proptest::collection::btree_map("[a-c_]{1,3}", "[a-c;é\n]{0,3}", 0..6).prop_map(|m| {
        let pairs: Vec<(String, String)> = m.into_iter().collect();
        Labels::from_pairs(&pairs)
    })
}

const REGEXES: &[&str] = &[
    "(.*)",
    "a.*",
    "(a|b)(.*)",
    ".+",
    "",
    "c",
    r"(\w)_?(.*)",
    "(?i)A.*",
];

fn rule(yaml: &str) -> RelabelConfig {
    let mut r: RelabelConfig =
        serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    r.validate(NameValidationScheme::Utf8)
        .unwrap_or_else(|e| panic!("{yaml}: {e}"));
    r
}

/// One rule of any action, from a few choices per field.
fn rule_strategy() -> impl Strategy<Value = RelabelConfig> {
    let name = "[a-c_]{1,3}";
    (
        0..11usize,
        proptest::collection::vec(name, 0..3),
        name,
        proptest::sample::select(REGEXES),
        proptest::sample::select(&["$1", "${2}x", "v", "", "$1$1", "p_$1"][..]),
        1..5u64,
    )
        .prop_map(|(kind, sources, target, regex, replacement, modulus)| {
            let src = format!("[{}]", sources.join(", "));
            let yaml = match kind {
                0 => format!("{{source_labels: {src}, regex: '{regex}', target_label: {target}, replacement: '{replacement}'}}"),
                1 => format!("{{source_labels: {src}, regex: '{regex}', action: keep}}"),
                2 => format!("{{source_labels: {src}, regex: '{regex}', action: drop}}"),
                3 => format!("{{source_labels: {src}, target_label: {target}, action: keepequal}}"),
                4 => format!("{{source_labels: {src}, target_label: {target}, action: dropequal}}"),
                5 => format!("{{source_labels: {src}, target_label: {target}, modulus: {modulus}, action: hashmod}}"),
                6 => format!("{{regex: '{regex}', replacement: 'm_$1', action: labelmap}}"),
                7 => format!("{{regex: '{regex}', action: labeldrop}}"),
                8 => format!("{{regex: '{regex}', action: labelkeep}}"),
                9 => format!("{{source_labels: {src}, target_label: {target}, action: lowercase}}"),
                _ => format!("{{source_labels: {src}, target_label: {target}, action: uppercase}}"),
            };
            rule(&yaml)
        })
}

fn pairs(l: &Labels) -> Vec<(String, String)> {
    l.iter()
        .map(|l| (l.name.to_owned(), l.value.to_owned()))
        .collect()
}

proptest! {
    #[test]
    fn keep_then_drop_with_one_regex_drops_all(
        l in labels_strategy(),
        src in proptest::collection::vec("[a-c_]{1,3}", 0..3),
        regex in proptest::sample::select(REGEXES),
    ) {
        let src = src.join(", ");
        let keep = rule(&format!("{{source_labels: [{src}], regex: '{regex}', action: keep}}"));
        let drop = rule(&format!("{{source_labels: [{src}], regex: '{regex}', action: drop}}"));
        prop_assert!(process(&l, &[keep.clone(), drop.clone()]).is_none());
        // Exactly one of them alone keeps the set.
        prop_assert_ne!(process(&l, &[keep]).is_some(), process(&l, &[drop]).is_some());
    }

    #[test]
    fn identity_rules(l in labels_strategy()) {
        let map = rule("{regex: '(.*)', replacement: '$1', action: labelmap}");
        prop_assert_eq!(process(&l, &[map]), Some(l.clone()));
        let keep_all = rule("{regex: '.*', action: labelkeep}");
        prop_assert_eq!(process(&l, &[keep_all]), Some(l.clone()));
        let drop_all = rule("{regex: '.*', action: labeldrop}");
        prop_assert_eq!(process(&l, &[drop_all]), Some(Labels::empty()));
        prop_assert_eq!(process(&l, &[]), Some(l.clone()));
    }

    #[test]
    fn replace_copies_and_hashmod_stays_below_modulus(l in labels_strategy(), m in 1..50u64) {
        for name in l.iter().map(|x| x.name.to_owned()) {
            let copy = rule(&format!("{{source_labels: [{name}], target_label: copy_of}}"));
            let out = process(&l, &[copy]).unwrap();
            prop_assert_eq!(out.get("copy_of"), l.get(&name));
            let hash = rule(&format!("{{source_labels: [{name}], modulus: {m}, target_label: h, action: hashmod}}"));
            let out = process(&l, &[hash]).unwrap();
            let h: u64 = out.get("h").unwrap().parse().unwrap();
            prop_assert!(h < m);
        }
    }

    #[test]
    fn results_are_well_formed_and_reuse_changes_nothing(
        inputs in proptest::collection::vec(labels_strategy(), 1..4),
        rules in proptest::collection::vec(rule_strategy(), 0..6),
    ) {
        let mut reused = Relabeler::new();
        for l in &inputs {
            let fresh = process(l, &rules);
            prop_assert_eq!(&reused.process(l, &rules), &fresh);
            if let Some(out) = fresh {
                let p = pairs(&out);
                prop_assert!(p.windows(2).all(|w| w[0].0 < w[1].0), "unsorted {:?}", p);
                prop_assert!(p.iter().all(|(_, v)| !v.is_empty()));
                // The same as a set built afresh from the pairs.
                let rebuilt: BTreeMap<_, _> = p.iter().cloned().collect();
                prop_assert_eq!(rebuilt.len(), p.len());
            }
        }
    }

    #[test]
    fn rules_written_back_behave_the_same(
        l in labels_strategy(),
        rules in proptest::collection::vec(rule_strategy(), 0..6),
    ) {
        let yaml = serde_yaml_ng::to_string(&rules).unwrap();
        let back: Vec<RelabelConfig> = serde_yaml_ng::from_str(&yaml).unwrap();
        prop_assert_eq!(process(&l, &back), process(&l, &rules));
    }
}
