//! Rules paired with what Prometheus says about them, under both name
//! validation schemes: `Ok` or the exact message.

use relabel::{NameValidationScheme, RelabelConfig};

use NameValidationScheme::{Legacy, Utf8};

/// Parses and validates one rule; the parse or validation message on failure.
fn verdict(scheme: NameValidationScheme, yaml: &str) -> Result<(), String> {
    let mut rule: RelabelConfig = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
    rule.validate(scheme).map_err(|e| e.to_string())
}

fn check(scheme: NameValidationScheme, yaml: &str, want: Result<(), &str>) {
    let got = verdict(scheme, yaml);
    match want {
        Ok(()) => assert_eq!(got, Ok(()), "{scheme:?} {yaml}"),
        Err(msg) => {
            let got = got.expect_err(yaml);
            // serde_yaml_ng adds the field and position to parse errors.
            assert!(
                got == msg || got.contains(msg),
                "{scheme:?} {yaml}\n got: {got}\nwant: {msg}"
            );
        }
    }
}

#[test]
fn required_fields() {
    check(
        Utf8,
        "{action: hashmod, target_label: t}",
        Err("relabel configuration for hashmod requires non-zero modulus"),
    );
    check(
        Utf8,
        "{action: hashmod, modulus: 2}",
        Err("relabel configuration for hashmod action requires 'target_label' value"),
    );
    check(
        Utf8,
        "{source_labels: [a]}",
        Err("relabel configuration for replace action requires 'target_label' value"),
    );
    check(
        Utf8,
        "{action: lowercase}",
        Err("relabel configuration for lowercase action requires 'target_label' value"),
    );
    check(
        Utf8,
        "{action: Uppercase}",
        Err("relabel configuration for uppercase action requires 'target_label' value"),
    );
    check(
        Utf8,
        "{action: keepequal, source_labels: [a]}",
        Err("relabel configuration for keepequal action requires 'target_label' value"),
    );
    check(
        Utf8,
        "{action: dropequal, source_labels: [a]}",
        Err("relabel configuration for dropequal action requires 'target_label' value"),
    );
    check(Utf8, "{action: keep}", Ok(()));
    check(Utf8, "{action: drop, regex: x}", Ok(()));
    check(Utf8, "{action: labelmap, regex: 'a(.*)'}", Ok(()));
}

#[test]
fn target_label_names() {
    check(
        Legacy,
        "{target_label: 1abc}",
        Err(r#""1abc" is invalid 'target_label' for replace action"#),
    );
    check(Utf8, "{target_label: 1abc}", Ok(()));
    check(
        Legacy,
        "{target_label: 'a.b'}",
        Err(r#""a.b" is invalid 'target_label' for replace action"#),
    );
    check(Utf8, "{target_label: 'a.b'}", Ok(()));
    check(
        Legacy,
        r#"{target_label: "q\"x\n"}"#,
        Err(r#""q\"x\n" is invalid 'target_label' for replace action"#),
    );
    // Templates: under legacy the references stand for name characters.
    check(Legacy, "{target_label: '${1}'}", Ok(()));
    check(Legacy, "{target_label: 'x_$1_y'}", Ok(()));
    check(
        Legacy,
        "{target_label: '-${1}'}",
        Err(r#""-${1}" is invalid 'target_label' for replace action"#),
    );
    check(
        Legacy,
        "{target_label: '${'}",
        Err(r#""${" is invalid 'target_label' for replace action"#),
    );
    check(Utf8, "{target_label: '-${1}'}", Ok(()));
    check(
        Legacy,
        "{action: lowercase, target_label: '${3}'}",
        Err(r#""${3}" is invalid 'target_label' for lowercase action"#),
    );
    check(Utf8, "{action: lowercase, target_label: '${3}'}", Ok(()));
    check(
        Legacy,
        "{action: keepequal, source_labels: [a], target_label: 'a-b'}",
        Err(r#""a-b" is invalid 'target_label' for keepequal action"#),
    );
    check(
        Legacy,
        "{action: hashmod, modulus: 3, target_label: 'x y'}",
        Err(r#""x y" is invalid 'target_label' for hashmod action"#),
    );
    check(
        Utf8,
        "{action: hashmod, modulus: 3, target_label: 'x y'}",
        Ok(()),
    );
}

#[test]
fn replacement_rules() {
    check(
        Utf8,
        "{action: uppercase, target_label: t, replacement: x}",
        Err("'replacement' can not be set for uppercase action"),
    );
    check(
        Utf8,
        "{action: dropequal, target_label: t, replacement: x}",
        Err("'replacement' can not be set for dropequal action"),
    );
    check(
        Utf8,
        "{action: lowercase, target_label: t, replacement: $1}",
        Ok(()),
    );
    check(
        Legacy,
        "{action: labelmap, regex: 'm_(.+)', replacement: '-$1'}",
        Err(r#""-$1" is invalid 'replacement' for labelmap action"#),
    );
    check(
        Utf8,
        "{action: labelmap, regex: 'm_(.+)', replacement: '-$1'}",
        Ok(()),
    );
    check(
        Utf8,
        "{action: labelmap, replacement: ''}",
        Err(r#""" is invalid 'replacement' for labelmap action"#),
    );
    check(
        Legacy,
        "{action: labelmap, regex: 'm_(.+)', replacement: 'k_${1}_v'}",
        Ok(()),
    );
}

#[test]
fn fields_an_action_does_not_use() {
    let eq_msg =
        "keepequal action requires only 'source_labels' and `target_label`, and no other fields";
    check(
        Utf8,
        "{action: keepequal, source_labels: [a], target_label: b}",
        Ok(()),
    );
    // Prometheus tells an explicit `(.*)` from the default one.
    check(
        Utf8,
        "{action: keepequal, source_labels: [a], target_label: b, regex: '(.*)'}",
        Err(eq_msg),
    );
    check(
        Utf8,
        "{action: keepequal, source_labels: [a], target_label: b, separator: ','}",
        Err(eq_msg),
    );
    check(
        Utf8,
        "{action: keepequal, source_labels: [a], target_label: b, modulus: 2}",
        Err(eq_msg),
    );
    check(Utf8, "{action: DropEqual, source_labels: [a], target_label: b, separator: ''}",
        Err("dropequal action requires only 'source_labels' and `target_label`, and no other fields"));
    let drop_msg = "labeldrop action requires only 'regex', and no other fields";
    check(Utf8, "{action: labeldrop, regex: x}", Ok(()));
    check(
        Utf8,
        "{action: labeldrop, regex: x, source_labels: []}",
        Err(drop_msg),
    );
    check(
        Utf8,
        "{action: labeldrop, regex: x, target_label: t}",
        Err(drop_msg),
    );
    check(
        Utf8,
        "{action: labeldrop, regex: x, replacement: y}",
        Err(drop_msg),
    );
    check(
        Utf8,
        "{action: labelkeep, regex: x, modulus: 1}",
        Err("labelkeep action requires only 'regex', and no other fields"),
    );
}

#[test]
fn parse_errors() {
    check(
        Utf8,
        "{action: frobnicate}",
        Err(r#"unknown relabel action "frobnicate""#),
    );
    check(Utf8, "{action: ''}", Err(r#"unknown relabel action """#));
    check(Utf8, "{action: }", Err("relabel action cannot be empty"));
    check(
        Utf8,
        "{target_label: t, regexp: x}",
        Err("unknown field `regexp`"),
    );
    check(
        Utf8,
        "{target_label: t, regex: '[a-'}",
        Err("error parsing regexp: "),
    );
    check(
        Utf8,
        "{target_label: t, regex: 'a{1001}'}",
        Err("error parsing regexp: invalid repeat count"),
    );
    check(Utf8, "{target_label: t, modulus: -1}", Err("modulus"));
}

#[test]
fn validation_records_the_scheme() {
    let mut rule: RelabelConfig = serde_yaml_ng::from_str("{target_label: t}").unwrap();
    rule.validate(Legacy).unwrap();
    assert_eq!(rule.scheme(), Legacy);
    // A scheme set on the rule itself wins over the enclosing config's.
    let mut rule: RelabelConfig = serde_yaml_ng::from_str("{target_label: 'a.b'}").unwrap();
    rule.name_validation_scheme = Some(Utf8);
    assert_eq!(rule.validate(Legacy), Ok(()));
}

#[test]
fn yaml_round_trip_keeps_explicit_values() {
    // What is written back parses to the same rule, with explicit empty
    // strings kept apart from the defaults.
    for yaml in [
        "source_labels: [a, b]\nseparator: ''\nregex: ''\ntarget_label: t\nreplacement: ''\n",
        "source_labels: [a]\ntarget_label: t\naction: keepequal\n",
        "regex: '(.*)'\ntarget_label: t\n",
        "regex: '\\d+'\naction: labeldrop\n",
        "source_labels: [a]\nmodulus: 8\ntarget_label: t\naction: hashmod\n",
    ] {
        let rule: RelabelConfig = serde_yaml_ng::from_str(yaml).unwrap();
        let out = serde_yaml_ng::to_string(&rule).unwrap();
        let back: RelabelConfig = serde_yaml_ng::from_str(&out).unwrap();
        assert_eq!(back, rule, "{yaml} -> {out}");
    }
    let rule: RelabelConfig =
        serde_yaml_ng::from_str("separator: ''\nregex: ''\ntarget_label: t\nreplacement: ''")
            .unwrap();
    let out = serde_yaml_ng::to_string(&rule).unwrap();
    assert_eq!(
        out,
        "separator: ''\nregex: ''\ntarget_label: t\nreplacement: ''\naction: replace\n"
    );
}
