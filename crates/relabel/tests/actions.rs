//! Every action on small label sets, one case per line: the rules in YAML,
//! the input pairs, and the expected set (`None` when dropped). Expected
//! results follow Prometheus's documented `relabel_config` semantics; hash
//! values were computed independently (MD5, last 8 bytes big-endian, mod n).

use model::Labels;
use relabel::{process, NameValidationScheme, RelabelConfig, Relabeler};

fn rules(yaml: &str, scheme: NameValidationScheme) -> Vec<RelabelConfig> {
    let mut rules: Vec<RelabelConfig> =
        serde_yaml_ng::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    for r in &mut rules {
        r.validate(scheme).unwrap_or_else(|e| panic!("{yaml}: {e}"));
    }
    rules
}

fn check_with(
    scheme: NameValidationScheme,
    yaml: &str,
    input: &[(&str, &str)],
    want: Option<&str>,
) {
    let rules = rules(yaml, scheme);
    let input = Labels::from_pairs(input);
    let got = process(&input, &rules);
    assert_eq!(
        got.as_ref().map(ToString::to_string).as_deref(),
        want,
        "rules {yaml} on {input}"
    );
    // A reused relabeler gives the same answer, also on its second run.
    let mut r = Relabeler::new();
    for _ in 0..2 {
        let again = r.process(&input, &rules);
        assert_eq!(
            again.as_ref().map(ToString::to_string).as_deref(),
            want,
            "reused: {yaml}"
        );
    }
}

fn check(yaml: &str, input: &[(&str, &str)], want: Option<&str>) {
    check_with(NameValidationScheme::Utf8, yaml, input, want);
}

#[test]
fn replace() {
    check(
        "[{source_labels: [a], target_label: b}]",
        &[("a", "x")],
        Some(r#"{a="x", b="x"}"#),
    );
    check(
        r"[{source_labels: [host], regex: '(.+):(\d+)', target_label: port, replacement: '${2}'}]",
        &[("host", "db:5432")],
        Some(r#"{host="db:5432", port="5432"}"#),
    );
    check(
        "[{source_labels: [ns, pod], separator: /, target_label: instance}]",
        &[("ns", "prod"), ("pod", "web-0")],
        Some(r#"{instance="prod/web-0", ns="prod", pod="web-0"}"#),
    );
    check(
        "[{source_labels: [ns, missing, pod], target_label: t}]",
        &[("ns", "a"), ("pod", "b")],
        Some(r#"{ns="a", pod="b", t="a;;b"}"#),
    );
    // A later rule sees what an earlier one wrote.
    check("[{source_labels: [a], target_label: b, replacement: 'v-$1'}, {source_labels: [b], target_label: c}]",
        &[("a", "1")], Some(r#"{a="1", b="v-1", c="v-1"}"#));
    // No match: nothing changes, not even with a static replacement.
    check(
        "[{source_labels: [a], regex: 'y.*', target_label: b, replacement: set}]",
        &[("a", "x")],
        Some(r#"{a="x"}"#),
    );
    // The regex is anchored at both ends.
    check(
        "[{source_labels: [a], regex: 'b', target_label: t, replacement: hit}]",
        &[("a", "abc")],
        Some(r#"{a="abc"}"#),
    );
    // An empty expansion deletes the target label.
    check(
        "[{source_labels: [a], regex: '(z)?foo', target_label: a}]",
        &[("a", "foo"), ("k", "v")],
        Some(r#"{k="v"}"#),
    );
    check(
        "[{source_labels: [a], target_label: a, replacement: ''}]",
        &[("a", "foo")],
        Some("{}"),
    );
    // Static labels: no source, the implicit regex matches the empty value.
    check(
        "[{target_label: env, replacement: prod}]",
        &[("a", "1")],
        Some(r#"{a="1", env="prod"}"#),
    );
    // A missing source label is the empty string; `.+` does not match it.
    check(
        "[{source_labels: [nope], regex: '.+', target_label: t, replacement: x}]",
        &[("a", "1")],
        Some(r#"{a="1"}"#),
    );
    // `.` matches a newline.
    check(
        "[{source_labels: [a], regex: 'one.two', target_label: t, replacement: 'ok$1'}]",
        &[("a", "one\ntwo")],
        Some(r#"{a="one\ntwo", t="ok"}"#),
    );
    // Renaming the metric.
    check("[{source_labels: [__name__], regex: 'old_(.*)', target_label: __name__, replacement: 'new_$1'}]",
        &[("__name__", "old_requests_total")], Some(r#"{__name__="new_requests_total"}"#));
}

#[test]
fn replace_templates_follow_go() {
    let input = &[("a", "val")];
    // `$1x` names a group "1x", which does not exist: the label is deleted.
    check(
        "[{source_labels: [a], target_label: a, replacement: '$1x'}]",
        input,
        Some("{}"),
    );
    check(
        "[{source_labels: [a], target_label: a, replacement: '${1}x'}]",
        input,
        Some(r#"{a="valx"}"#),
    );
    check(
        "[{source_labels: [a], target_label: a, replacement: '$$1'}]",
        input,
        Some(r#"{a="$1"}"#),
    );
    check(
        "[{source_labels: [a], target_label: a, replacement: 'x$'}]",
        input,
        Some(r#"{a="x$"}"#),
    );
    check(
        "[{source_labels: [a], target_label: a, replacement: '$01'}]",
        input,
        Some("{}"),
    );
    check(
        "[{source_labels: [a], target_label: t, replacement: '$0-$1'}]",
        input,
        Some(r#"{a="val", t="val-val"}"#),
    );
    check("[{source_labels: [a], regex: '(?P<first>v)(?P<rest>.*)', target_label: t, replacement: '$rest.${first}'}]",
        input, Some(r#"{a="val", t="al.v"}"#));
    check(
        "[{source_labels: [a], regex: '(?<x>v)al', target_label: 'l_$x', replacement: y}]",
        input,
        Some(r#"{a="val", l_v="y"}"#),
    );
}

#[test]
fn replace_target_templates() {
    let input = &[("spec", "zone=eu-1")];
    check(
        "[{source_labels: [spec], regex: '(.+)=(.+)', target_label: '${1}', replacement: '${2}'}]",
        input,
        Some(r#"{spec="zone=eu-1", zone="eu-1"}"#),
    );
    // A target that expands to nothing is no label name: the rule does nothing.
    check(
        "[{source_labels: [spec], regex: '(.+)=(.+)', target_label: '${3}', replacement: '${2}'}]",
        input,
        Some(r#"{spec="zone=eu-1"}"#),
    );
    // `${0}` on an empty value is empty: nothing; an empty replacement deletes.
    check(
        "[{target_label: '${0}', replacement: gone}, {target_label: a, replacement: '${0}'}]",
        &[("a", "1")],
        Some("{}"),
    );
    // Under UTF-8 any non-empty expansion is a label name; under the legacy
    // scheme one starting with a digit is not, and the rule does nothing.
    let yaml =
        "[{source_labels: [spec], regex: '.*-(.+)', target_label: '${1}', replacement: hit}]";
    check_with(
        NameValidationScheme::Utf8,
        yaml,
        input,
        Some(r#"{1="hit", spec="zone=eu-1"}"#),
    );
    check_with(
        NameValidationScheme::Legacy,
        yaml,
        input,
        Some(r#"{spec="zone=eu-1"}"#),
    );
    check_with(
        NameValidationScheme::Utf8,
        "[{source_labels: [spec], target_label: 'a.b', replacement: x}]",
        input,
        Some(r#"{a.b="x", spec="zone=eu-1"}"#),
    );
}

#[test]
fn regexes_use_go_syntax() {
    // Perl classes are ASCII-only in Go.
    check(
        r"[{source_labels: [a], regex: '\w+', target_label: t, replacement: word}]",
        &[("a", "é")],
        Some(r#"{a="é"}"#),
    );
    check(
        r"[{source_labels: [a], regex: '\d+', target_label: t, replacement: num}]",
        &[("a", "42")],
        Some(r#"{a="42", t="num"}"#),
    );
    // `{` that starts no repetition is a literal.
    check(
        "[{source_labels: [a], regex: 'x{y}', action: keep}]",
        &[("a", "x{y}")],
        Some(r#"{a="x{y}"}"#),
    );
    check(
        r"[{source_labels: [a], regex: '\Q1.0\E', action: drop}]",
        &[("a", "1x0")],
        Some(r#"{a="1x0"}"#),
    );
    check(
        "[{source_labels: [a], regex: '(?i)ab', action: keep}]",
        &[("a", "AB")],
        Some(r#"{a="AB"}"#),
    );
}

#[test]
fn keep_and_drop() {
    let input = &[("job", "node"), ("env", "dev")];
    check(
        "[{source_labels: [job], regex: 'no.*', action: keep}]",
        input,
        Some(r#"{env="dev", job="node"}"#),
    );
    check(
        "[{source_labels: [job], regex: 'api', action: keep}]",
        input,
        None,
    );
    check(
        "[{source_labels: [job], regex: 'no.*', action: drop}]",
        input,
        None,
    );
    check(
        "[{source_labels: [job], regex: 'o', action: drop}]",
        input,
        Some(r#"{env="dev", job="node"}"#),
    );
    check(
        "[{source_labels: [job, env], regex: 'node;dev', action: keep}]",
        input,
        Some(r#"{env="dev", job="node"}"#),
    );
    check(
        "[{source_labels: [job, env], separator: '', regex: 'nodedev', action: drop}]",
        input,
        None,
    );
    // A missing label is "": `.+` refuses it, `.*` accepts it, `''` matches it.
    check(
        "[{source_labels: [nope], regex: '.+', action: keep}]",
        input,
        None,
    );
    check(
        "[{source_labels: [nope], regex: '.*', action: keep}]",
        input,
        Some(r#"{env="dev", job="node"}"#),
    );
    check(
        "[{source_labels: [nope], regex: '', action: drop}]",
        input,
        None,
    );
    // Without source labels the value is "", which the implicit `(.*)` matches.
    check("[{action: drop}]", input, None);
    check(
        "[{action: keep}]",
        input,
        Some(r#"{env="dev", job="node"}"#),
    );
    // Once dropped, later rules do not matter.
    check(
        "[{source_labels: [job], regex: node, action: drop}, {action: keep}]",
        input,
        None,
    );
}

#[test]
fn keepequal_and_dropequal() {
    let input = &[("port", "80"), ("want", "80"), ("other", "81")];
    check(
        "[{source_labels: [port], target_label: want, action: keepequal}]",
        input,
        Some(r#"{other="81", port="80", want="80"}"#),
    );
    check(
        "[{source_labels: [port], target_label: other, action: keepequal}]",
        input,
        None,
    );
    check(
        "[{source_labels: [port], target_label: want, action: dropequal}]",
        input,
        None,
    );
    check(
        "[{source_labels: [port], target_label: other, action: dropequal}]",
        input,
        Some(r#"{other="81", port="80", want="80"}"#),
    );
    // Joined with the default separator before comparing; absent equals "".
    check(
        "[{source_labels: [port, want], target_label: pair, action: keepequal}]",
        &[("port", "1"), ("want", "2"), ("pair", "1;2")],
        Some(r#"{pair="1;2", port="1", want="2"}"#),
    );
    check(
        "[{source_labels: [nope], target_label: gone, action: keepequal}]",
        input,
        Some(r#"{other="81", port="80", want="80"}"#),
    );
}

#[test]
fn hashmod() {
    check(
        "[{source_labels: [__address__], modulus: 4, target_label: shard, action: hashmod}]",
        &[("__address__", "10.0.0.1:9100")],
        Some(r#"{__address__="10.0.0.1:9100", shard="1"}"#),
    );
    check(
        "[{source_labels: [job, env], modulus: 7, target_label: s, action: hashmod}]",
        &[("job", "web"), ("env", "prod")],
        Some(r#"{env="prod", job="web", s="3"}"#),
    );
    check(
        "[{source_labels: [nope], modulus: 10, target_label: s, action: hashmod}]",
        &[],
        Some(r#"{s="8"}"#),
    );
    check(
        "[{source_labels: [a], modulus: 1000, target_label: s, action: hashmod}]",
        &[("a", "αβγ")],
        Some(r#"{a="αβγ", s="908"}"#),
    );
    check(
        "[{source_labels: [a], modulus: 1000, target_label: s, action: hashmod}]",
        &[("a", "x\ny")],
        Some(r#"{a="x\ny", s="480"}"#),
    );
    check(
        "[{source_labels: [a], modulus: 1, target_label: a, action: hashmod}]",
        &[("a", "q")],
        Some(r#"{a="0"}"#),
    );
}

#[test]
fn labelmap() {
    let input = &[
        ("__meta_pod_label_app", "web"),
        ("__meta_pod_label_tier", "fe"),
        ("job", "k"),
    ];
    check(
        "[{regex: '__meta_pod_label_(.+)', action: labelmap}]",
        input,
        Some(
            r#"{__meta_pod_label_app="web", __meta_pod_label_tier="fe", app="web", job="k", tier="fe"}"#,
        ),
    );
    check(
        "[{regex: '__meta_pod_label_(.+)', replacement: 'k8s_${1}', action: labelmap}]",
        input,
        Some(
            r#"{__meta_pod_label_app="web", __meta_pod_label_tier="fe", job="k", k8s_app="web", k8s_tier="fe"}"#,
        ),
    );
    // A mapped name overwrites an existing label.
    check(
        "[{regex: 'src_(.+)', action: labelmap}]",
        &[("src_job", "new"), ("job", "old")],
        Some(r#"{job="new", src_job="new"}"#),
    );
    // Two labels mapping to one name: the one visited last wins, base
    // labels in name order first.
    check(
        "[{regex: '[ab]_(x)', action: labelmap}]",
        &[("a_x", "1"), ("b_x", "2")],
        Some(r#"{a_x="1", b_x="2", x="2"}"#),
    );
    // ... and labels changed by earlier rules are visited after the others.
    check("[{source_labels: [a_x], target_label: a_x, replacement: 'n$1'}, {regex: '[ab]_(x)', action: labelmap}]",
        &[("a_x", "1"), ("b_x", "2")], Some(r#"{a_x="n1", b_x="2", x="n1"}"#));
    // Labels written by the same rule are not visited again.
    check(
        "[{regex: '(.*)', replacement: 'p_$1', action: labelmap}]",
        &[("a", "1")],
        Some(r#"{a="1", p_a="1"}"#),
    );
    // Names are matched whole.
    check(
        "[{regex: 'pod', replacement: x, action: labelmap}]",
        &[("pods", "1")],
        Some(r#"{pods="1"}"#),
    );
}

#[test]
fn labeldrop_and_labelkeep() {
    let input = &[("__name__", "up"), ("a1", "x"), ("a2", "y"), ("b", "z")];
    check(
        "[{regex: 'a.', action: labeldrop}]",
        input,
        Some(r#"{__name__="up", b="z"}"#),
    );
    check(
        "[{regex: 'a.|__name__', action: labelkeep}]",
        input,
        Some(r#"{__name__="up", a1="x", a2="y"}"#),
    );
    check(
        "[{regex: 'a', action: labeldrop}]",
        input,
        Some(r#"{__name__="up", a1="x", a2="y", b="z"}"#),
    );
    check("[{regex: 'nothing', action: labelkeep}]", input, Some("{}"));
    // Labels written earlier in the chain are filtered too.
    check(
        "[{target_label: tmp, replacement: t}, {regex: 'tmp|b', action: labeldrop}]",
        input,
        Some(r#"{__name__="up", a1="x", a2="y"}"#),
    );
    check(
        "[{target_label: tmp, replacement: t}, {regex: 'tmp', action: labelkeep}]",
        input,
        Some(r#"{tmp="t"}"#),
    );
    // A dropped label can be written again.
    check(
        "[{regex: 'b', action: labeldrop}, {target_label: b, replacement: back}]",
        &[("b", "z")],
        Some(r#"{b="back"}"#),
    );
}

#[test]
fn lowercase_and_uppercase() {
    check("[{source_labels: [a], target_label: lo, action: lowercase}, {source_labels: [a], target_label: up, action: uppercase}]",
        &[("a", "MiXeD-9")], Some(r#"{a="MiXeD-9", lo="mixed-9", up="MIXED-9"}"#));
    check(
        "[{source_labels: [a, b], target_label: t, action: uppercase}]",
        &[("a", "x"), ("b", "y")],
        Some(r#"{a="x", b="y", t="X;Y"}"#),
    );
    // Go maps one character to one character: no `SS` for `ß`, `i` for `İ`.
    check(
        "[{source_labels: [a], target_label: t, action: uppercase}]",
        &[("a", "straße")],
        Some(r#"{a="straße", t="STRAßE"}"#),
    );
    check(
        "[{source_labels: [a], target_label: t, action: lowercase}]",
        &[("a", "İΣ")],
        Some(r#"{a="İΣ", t="iσ"}"#),
    );
    // An empty result deletes the target.
    check(
        "[{source_labels: [nope], target_label: a, action: lowercase}]",
        &[("a", "x")],
        Some("{}"),
    );
}

#[test]
fn process_builder_leaves_result_in_builder() {
    let rules = rules(
        "[{source_labels: [a], target_label: b}, {regex: a, action: labeldrop}]",
        NameValidationScheme::Utf8,
    );
    let mut b = model::LabelsBuilder::new();
    b.set("a", "1").set("c", "3");
    assert!(relabel::process_builder(&mut b, &rules));
    assert_eq!(b.build().to_string(), r#"{b="1", c="3"}"#);
    let drop = self::rules("[{action: drop}]", NameValidationScheme::Utf8);
    assert!(!relabel::process_builder(&mut b, &drop));
    assert_eq!(b.build().to_string(), r#"{b="1", c="3"}"#);
}
