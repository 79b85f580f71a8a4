//! The reference `promtool check config` judges rule validation: every rule
//! here is refused by both, and promtool's message contains ours word for
//! word. The reference is Prometheus 2.x, whose label names are the legacy
//! ones, so pharos validates with the legacy scheme here.

use std::process::Command;

use relabel::{NameValidationScheme, RelabelConfig};

const BAD_RULES: &[&str] = &[
    "{action: hashmod, target_label: t}",
    "{action: hashmod, modulus: 2}",
    "{source_labels: [a]}",
    "{action: lowercase, source_labels: [a]}",
    "{action: KeepEqual, source_labels: [a]}",
    "{target_label: 1abc}",
    "{target_label: 'a.b'}",
    r#"{target_label: "q\"x"}"#,
    "{target_label: '-${1}'}",
    "{target_label: '${'}",
    "{action: keepequal, source_labels: [a], target_label: 'a-b'}",
    "{action: hashmod, modulus: 3, target_label: 'x y'}",
    "{action: uppercase, target_label: t, replacement: x}",
    "{action: labelmap, regex: 'm_(.+)', replacement: '-$1'}",
    "{action: labelmap, replacement: ''}",
    "{action: keepequal, source_labels: [a], target_label: b, regex: '(.*)'}",
    "{action: dropequal, source_labels: [a], target_label: b, separator: ','}",
    "{action: labeldrop, regex: x, source_labels: []}",
    "{action: labelkeep, regex: x, target_label: t}",
    "{action: labeldrop, regex: x, replacement: y}",
    "{action: frobnicate}",
    "{action: }",
];

/// Our message for a rule: from parsing or from validation.
fn our_message(rule: &str) -> String {
    match serde_yaml_ng::from_str::<RelabelConfig>(rule) {
        Err(e) => {
            // serde_yaml_ng prefixes the field and appends the position.
            let msg = e.to_string();
            let msg = msg
                .split_once(": ")
                .map_or(msg.as_str(), |(_, m)| m)
                .to_owned();
            msg.split(" at line ").next().unwrap_or_default().to_owned()
        }
        Ok(mut r) => match r.validate(NameValidationScheme::Legacy) {
            Ok(()) => panic!("pharos accepts {rule}"),
            Err(e) => e.to_string(),
        },
    }
}

#[test]
fn validation_messages_match_promtool() {
    let Some(promtool) = testkit::reference("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, rule) in BAD_RULES.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.yml"));
        let config = format!(
            "scrape_configs:\n  - job_name: j\n    static_configs: [{{targets: ['127.0.0.1:9']}}]\n    metric_relabel_configs: [{rule}]\n"
        );
        std::fs::write(&path, config).expect("write config");
        let out = Command::new(&promtool)
            .args(["check", "config", "--syntax-only"])
            .arg(&path)
            .output()
            .expect("run promtool");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "promtool accepts {rule}");
        let ours = our_message(rule);
        assert!(
            text.contains(&ours),
            "{rule}\n   ours: {ours}\npromtool: {text}"
        );
    }
}

#[test]
fn good_rules_pass_promtool_too() {
    let Some(promtool) = testkit::reference("promtool") else {
        return;
    };
    let rules = [
        "{target_label: '${1}'}",
        "{target_label: 'x_$1_y', regex: '(.*)'}",
        "{action: labelmap, regex: 'm_(.+)', replacement: 'k_${1}_v'}",
        "{action: keepequal, source_labels: [a], target_label: b}",
        "{action: LabelDrop, regex: 'a|b'}",
        "{action: Lowercase, source_labels: [a], target_label: t}",
        "{action: hashmod, source_labels: [a], modulus: 8, target_label: s}",
        "{separator: , replacement: , regex: , target_label: t}",
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("good.yml");
    let config = format!(
        "scrape_configs:\n  - job_name: j\n    static_configs: [{{targets: ['127.0.0.1:9']}}]\n    metric_relabel_configs: [{}]\n",
        rules.join(", ")
    );
    std::fs::write(&path, config).expect("write config");
    let out = Command::new(&promtool)
        .args(["check", "config", "--syntax-only"])
        .arg(&path)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for rule in rules {
        let mut r: RelabelConfig = serde_yaml_ng::from_str(rule).expect(rule);
        r.validate(NameValidationScheme::Legacy).expect(rule);
    }
}

/// Patterns at the edges of Go's regexp syntax. `true` where our message is
/// Go's word for word (the checks pharos mirrors); elsewhere only accepting
/// or refusing must agree. `(?<name>…)` is left out: Prometheus 3.x's Go
/// accepts it, the 2.x reference does not.
const PATTERNS: &[(&str, bool)] = &[
    ("a{1001}", true),
    ("a{1000}", true),
    ("(?x)a", true),
    (r"\u0041", true),
    ("a**", true),
    (r"\C", true),
    ("[z-a]", false),
    ("(?P<n>a)(?P<n>b)", true),
    (r"\8", true),
    ("x{2}{3}", true),
    (r"\pX", false),
    (r"\e", true),
    ("a{,3}", true),
    (r"\z\A", true),
    (r"\Z", true),
    ("[[:foo:]]", true),
    ("(?m)^a$|(?U)a+", true),
    (r"a\E", true),
    ("(?P<1a>x)", true),
    ("(?P<é>x)", true),
    (r"\1", true),
    (r"\01\0\101", true),
    ("(*)", true),
    ("+a", true),
    ("(?P<n>?i)", true),
    ("()|(?:)", true),
    ("[^]", false),
    ("a{2,1}", true),
    (r"\b{start}", true),
    (r"[\d-z]", false),
    (r"\<\>\_\#", true),
    ("[[]&&~~]", true),
    // Go quotes the wrapped pattern, `^(?:…)$` in 2.x and `^(?s:…)$` in 3.x.
    (r"\Q", false),
    ("[a", false),
    (r"\Qa)\E", true),
    ("a)|(b", true),
    ("(a", false),
    ("a*?b+?c??d{2}?", true),
    ("(?i-m:x)", true),
];

#[test]
fn regex_syntax_matches_promtool() {
    let Some(promtool) = testkit::reference("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, (pattern, same_words)) in PATTERNS.iter().enumerate() {
        let path = dir.path().join(format!("re{i}.yml"));
        let quoted = pattern.replace('\'', "''");
        let config = format!(
            "scrape_configs:\n  - job_name: j\n    static_configs: [{{targets: ['127.0.0.1:9']}}]\n    metric_relabel_configs: [{{source_labels: [a], regex: '{quoted}', action: keep}}]\n"
        );
        std::fs::write(&path, config).expect("write config");
        let out = Command::new(&promtool)
            .args(["check", "config", "--syntax-only"])
            .arg(&path)
            .output()
            .expect("run promtool");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let ours = relabel::Regex::new(pattern);
        assert_eq!(
            ours.is_ok(),
            out.status.success(),
            "{pattern}: ours {ours:?}, promtool: {text}"
        );
        if let (Err(e), true) = (&ours, same_words) {
            assert!(
                text.contains(&e.to_string()),
                "{pattern}\n   ours: {e}\npromtool: {text}"
            );
        }
    }
}
