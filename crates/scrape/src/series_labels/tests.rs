use expfmt::{Entry, TextParser};
use model::{Labels, MetricType};
use relabel::RelabelConfig;

use super::*;

/// The final labels of the one series in `line` for `target`.
fn label(
    line: &str,
    target: &Labels,
    honor: bool,
    mrc: &[RelabelConfig],
    limits: LabelLimits,
) -> Result<String, String> {
    let body = format!("{line}\n");
    let series = TextParser::new(body.as_bytes())
        .find_map(|e| match e {
            Ok(Entry::Series(s)) => Some(s),
            _ => None,
        })
        .expect("one series");
    let mut l = SeriesLabeler::default();
    let rules = LabelRules {
        honor_labels: honor,
        metric_relabel: mrc.to_vec(),
        limits,
        validation: NameValidationScheme::Utf8,
    };
    match l.label(&series, MetricType::Histogram, target, &rules) {
        Ok(Labeled::Keep(labels)) => Ok(labels.to_string()),
        Ok(Labeled::Dropped) => Ok("dropped".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

fn target() -> Labels {
    Labels::from_pairs(&[
        ("job", "j"),
        ("instance", "i:1"),
        ("exported_instance", "taken"),
    ])
}

#[test]
fn honor_labels_false_renames_conflicts() {
    let t = target();
    let none = LabelLimits::default();
    assert_eq!(
        label(r#"m{job="x",instance="y",a="1"} 1"#, &t, false, &[], none).unwrap(),
        r#"{__name__="m", a="1", exported_exported_instance="y", exported_instance="taken", exported_job="x", instance="i:1", job="j"}"#
    );
    // An empty exposed value is no conflict.
    assert_eq!(
        label(r#"m{job=""} 1"#, &t, false, &[], none).unwrap(),
        r#"{__name__="m", exported_instance="taken", instance="i:1", job="j"}"#
    );
}

#[test]
fn honor_labels_true_keeps_exposed() {
    let t = target();
    let none = LabelLimits::default();
    assert_eq!(
        label(r#"m{job="x"} 1"#, &t, true, &[], none).unwrap(),
        r#"{__name__="m", exported_instance="taken", instance="i:1", job="x"}"#
    );
    // An exposed empty value shadows the target label: the series has none.
    assert_eq!(
        label(r#"m{job=""} 1"#, &t, true, &[], none).unwrap(),
        r#"{__name__="m", exported_instance="taken", instance="i:1"}"#
    );
}

#[test]
fn metric_relabeling_and_bucket_normalisation() {
    let mrc: Vec<RelabelConfig> = serde_yaml_ng::from_str(
        "- {source_labels: [__name__], regex: drop_me, action: drop}\n- {action: labeldrop, regex: instance}\n",
    )
    .unwrap();
    let t = Labels::from_pairs(&[("job", "j"), ("instance", "i")]);
    let none = LabelLimits::default();
    assert_eq!(
        label("drop_me 1", &t, false, &mrc, none).unwrap(),
        "dropped"
    );
    assert_eq!(
        label(r#"h_bucket{le="1"} 1"#, &t, false, &mrc, none).unwrap(),
        r#"{__name__="h_bucket", job="j", le="1.0"}"#
    );
    let no_name: Vec<RelabelConfig> =
        serde_yaml_ng::from_str("- {action: labeldrop, regex: __name__}\n").unwrap();
    assert_eq!(
        label("m 1", &t, false, &no_name, none).unwrap_err(),
        "missing metric name (__name__ label)"
    );
}

#[test]
fn limits_with_prometheus_messages() {
    let t = Labels::from_pairs(&[("job", "j")]);
    let lim = |labels, name_length, value_length| LabelLimits {
        labels,
        name_length,
        value_length,
    };
    assert_eq!(
        label(r#"m{a="1",b="2"} 1"#, &t, false, &[], lim(3, 0, 0)).unwrap_err(),
        "label_limit exceeded (metric: m, number of labels: 4, limit: 3)"
    );
    assert_eq!(
        label(r#"m{abcdefghi="1"} 1"#, &t, false, &[], lim(0, 8, 0)).unwrap_err(),
        "label_name_length_limit exceeded (metric: m, label name: abcdefghi, length: 9, limit: 8)"
    );
    assert_eq!(
        label(r#"m{a="123456"} 1"#, &t, false, &[], lim(0, 0, 5)).unwrap_err(),
        r#"label_value_length_limit exceeded (metric: m, label name: a, value: "123456", length: 6, limit: 5)"#
    );
    assert!(label(r#"m{a="12345"} 1"#, &t, false, &[], lim(3, 8, 5)).is_ok());
}

#[test]
fn repeated_label_names_are_invalid() {
    let t = Labels::empty();
    assert_eq!(
        label(
            r#"m{a="1",a="2"} 1"#,
            &t,
            false,
            &[],
            LabelLimits::default()
        )
        .unwrap_err(),
        r#"invalid metric name or label names: {__name__="m", a="1", a="2"}"#
    );
}

#[test]
fn legacy_validation_refuses_utf8_names() {
    let body = "{\"my.metric\", \"a.b\"=\"1\"} 1\nok_metric{a=\"1\"} 1\n";
    let mut l = SeriesLabeler::default();
    let t = Labels::from_pairs(&[("job", "j")]);
    for legacy in [false, true] {
        let rules = LabelRules {
            validation: if legacy {
                NameValidationScheme::Legacy
            } else {
                NameValidationScheme::Utf8
            },
            ..LabelRules::default()
        };
        let got: Vec<String> = TextParser::new(body.as_bytes())
            .filter_map(|e| match e {
                Ok(Entry::Series(s)) => Some(match l.label(&s, MetricType::Unknown, &t, &rules) {
                    Ok(Labeled::Keep(x)) => x.to_string(),
                    Ok(Labeled::Dropped) => "dropped".to_owned(),
                    Err(e) => e.to_string(),
                }),
                _ => None,
            })
            .collect();
        let first = if legacy {
            r#"invalid metric name or label names: {__name__="my.metric", a.b="1", job="j"}"#
        } else {
            r#"{__name__="my.metric", a.b="1", job="j"}"#
        };
        assert_eq!(got, [first, r#"{__name__="ok_metric", a="1", job="j"}"#]);
    }
}
