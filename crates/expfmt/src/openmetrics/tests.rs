//! Table tests of the OpenMetrics parser, many taken from the cases
//! Prometheus's own parser is tested with.

use super::created::strip_family_suffix;
use super::*;

fn render_one(e: Result<Entry<'_>, ParseError>) -> String {
    match e {
        Ok(Entry::Help { name, help }) => format!("HELP {name} {help:?}"),
        Ok(Entry::Type { name, metric_type }) => format!("TYPE {name} {metric_type}"),
        Ok(Entry::Unit { name, unit }) => format!("UNIT {name} {unit}"),
        Ok(Entry::Comment(c)) => format!("COMMENT {:?}", String::from_utf8_lossy(c)),
        Ok(Entry::Eof) => "EOF".into(),
        Ok(Entry::Series(s)) => {
            let labels: Vec<String> = s
                .labels()
                .map(|l| format!("{}={:?}", l.name, l.value))
                .collect();
            let mut line = format!(
                "{} | {} [{}] {} {:?}",
                s.raw(),
                s.name(),
                labels.join(" "),
                s.value(),
                s.timestamp()
            );
            if let Some(e) = s.exemplar() {
                let labels: Vec<String> = e
                    .labels()
                    .map(|l| format!("{}={:?}", l.name, l.value))
                    .collect();
                line += &format!(
                    " # [{}] {} {:?}",
                    labels.join(" "),
                    e.value(),
                    e.timestamp()
                );
            }
            line
        }
        Err(e) => format!("ERR {e}"),
    }
}

fn render(input: &[u8]) -> Vec<String> {
    OpenMetricsParser::new(input).map(render_one).collect()
}

fn check(input: &str, want: &[&str]) {
    assert_eq!(render(input.as_bytes()), want, "input {input:?}");
}

#[test]
fn a_full_body() {
    check(
        "# HELP foo Counter with \\\"escapes\\\" \\\\ \\n.\n\
         # TYPE foo counter\n\
         # UNIT foo_seconds seconds\n\
         foo_total 17.0 1520879607.789 # {id=\"counter-test\"} 5\n\
         foo_created 1520872607.123\n\
         foo_total{a=\"b\"} 17.0 # {id=\"x\",\"dotted.name\"=\"y\"} 5 123.5\n\
         # TYPE \"go.gc\" unknown\n\
         {\"go.gc_seconds\",le=\"+Inf\"} -Inf\n\
         # HELP empty \n\
         # UNIT empty \n\
         # EOF\n",
        &[
            r#"HELP foo "Counter with \"escapes\" \\ \n.""#,
            "TYPE foo counter",
            "UNIT foo_seconds seconds",
            r#"foo_total | foo_total [] 17 Some(1520879607789) # [id="counter-test"] 5 None"#,
            "foo_created | foo_created [] 1520872607.123 None",
            r#"foo_total{a="b"} | foo_total [a="b"] 17 None # [id="x" dotted.name="y"] 5 Some(123500)"#,
            "TYPE go.gc unknown",
            r#"{"go.gc_seconds",le="+Inf"} | go.gc_seconds [le="+Inf"] -inf None"#,
            r#"HELP empty """#,
            "UNIT empty ",
            "EOF",
        ],
    );
    check("# EOF", &["EOF"]);
}

#[test]
fn created_series_skipped_and_found_by_look_ahead() {
    let body = b"# TYPE foo counter\n\
        foo_total{a=\"1\"} 17.0\n\
        foo_created{a=\"1\"} 1520872607.123\n\
        # TYPE h histogram\n\
        h_bucket{le=\"1\"} 1\n\
        h_bucket{le=\"+Inf\"} 2\n\
        h_count 2\n\
        h_created 1520430001\n\
        # TYPE fizz_created gauge\n\
        fizz_created 17.0\n\
        # EOF\n";
    let mut p = OpenMetricsParser::new(body).skip_created_series(true);
    let mut seen = Vec::new();
    while let Some(e) = p.next() {
        if let Entry::Series(s) = e.unwrap() {
            seen.push((s.name().to_owned(), p.created_timestamp(&s)));
        }
    }
    assert_eq!(
        seen,
        vec![
            ("foo_total".to_owned(), Some(1520872607123)),
            ("h_bucket".to_owned(), Some(1520430001000)),
            ("h_bucket".to_owned(), Some(1520430001000)),
            ("h_count".to_owned(), Some(1520430001000)),
            ("fizz_created".to_owned(), None),
        ]
    );
    // Passed through by default.
    assert_eq!(OpenMetricsParser::new(body).count(), 11);
}

#[test]
fn created_look_ahead_per_series_with_cache() {
    let body = b"# TYPE h histogram\n\
        h_bucket{a=\"1\",le=\"1\"} 1\n\
        h_bucket{a=\"1\",le=\"+Inf\"} 1\n\
        h_created{a=\"1\"} 10\n\
        h_bucket{a=\"2\",le=\"1\"} 1\n\
        h_bucket{a=\"2\",le=\"+Inf\"} 1\n\
        h_created{a=\"2\"} 20.5\n\
        h_bucket{a=\"3\",le=\"+Inf\"} 1\n\
        h_created{a=\"4\"} 30\n\
        # TYPE g gauge\n\
        g_created 1\n\
        # EOF\n";
    let mut p = OpenMetricsParser::new(body).skip_created_series(true);
    let mut seen = Vec::new();
    while let Some(e) = p.next() {
        if let Entry::Series(s) = e.unwrap() {
            seen.push(p.created_timestamp(&s));
        }
    }
    assert_eq!(
        seen,
        vec![
            Some(10_000),
            Some(10_000),
            Some(20_500),
            Some(20_500),
            None,
            None
        ]
    );
}

#[test]
fn errors_like_prometheus() {
    let long = format!("a_total 1 # {{x=\"{}\"}} 1\n# EOF\n", "é".repeat(128));
    let cases: &[(&[u8], &str)] = &[
        (b"", "1:1: data does not end with # EOF"),
        (
            b"\n",
            r#"1:1: expected a valid start token, got "\n" while parsing "\n""#,
        ),
        (
            b"metric",
            r#"1:7: expected value after metric, got end of input while parsing "metric""#,
        ),
        (b"metric 1", "1:9: data does not end with # EOF"),
        (b"metric 1\n", "2:1: data does not end with # EOF"),
        (
            b"metric_total 1 # {aa=\"bb\"} 4",
            "1:29: data does not end with # EOF",
        ),
        (
            b"a\n#EOF\n",
            r#"1:2: expected value after metric, got "\n" while parsing "a\n""#,
        ),
        (
            b" a 1\n# EOF\n",
            r#"1:1: expected a valid start token, got " " while parsing " ""#,
        ),
        (
            b"9\n# EOF\n",
            r#"1:1: expected a valid start token, got "9" while parsing "9""#,
        ),
        (
            b"# TYPE u untyped\n# EOF\n",
            r#"1:10: invalid metric type "untyped""#,
        ),
        (
            b"# TYPE c counter \n# EOF\n",
            r#"1:10: invalid metric type "counter ""#,
        ),
        (
            b"#  TYPE c counter\n# EOF\n",
            r##"1:2: expected a valid start token, got " " while parsing "# ""##,
        ),
        (
            b"# TYPE \n# EOF\n",
            r##"1:8: expected metric name after TYPE, got "\n" while parsing "# TYPE \n""##,
        ),
        (
            b"# TYPE m\n# EOF\n",
            r##"1:9: expected text in TYPE, got "\n" while parsing "# TYPE m\n""##,
        ),
        (
            b"# UNIT metric suffix\n# EOF\n",
            r#"1:15: unit "suffix" not a suffix of metric "metric""#,
        ),
        (
            b"# UNIT metricsuffix suffix\n# EOF\n",
            r#"1:21: unit "suffix" not a suffix of metric "metricsuffix""#,
        ),
        (
            b"# HELP m\n# EOF\n",
            r##"1:9: expected text in HELP, got "\n" while parsing "# HELP m\n""##,
        ),
        (
            b"a\t1\n# EOF\n",
            r#"1:2: expected value after metric, got "\t" while parsing "a\t""#,
        ),
        (
            b"a 1\t2\n# EOF\n",
            r#"1:3: cannot parse float "1\t2": invalid syntax"#,
        ),
        (
            b"a 1 2 \n# EOF\n",
            r#"1:6: expected next entry after timestamp, got " " while parsing "a 1 2 ""#,
        ),
        (
            b"a 1 2 #\n# EOF\n",
            r##"1:6: expected next entry after timestamp, got " " while parsing "a 1 2 ""##,
        ),
        (
            b"a 1 1z\n# EOF\n",
            r#"1:5: cannot parse timestamp "1z": invalid syntax"#,
        ),
        (
            b" # EOF\n",
            r#"1:1: expected a valid start token, got " " while parsing " ""#,
        ),
        (b"# EOF\na 1", "2:1: unexpected data after # EOF"),
        (b"# EOF\n\n", "2:1: unexpected data after # EOF"),
        (b"# EOFa 1", "1:6: unexpected data after # EOF"),
        (
            b"#\tTYPE c counter\n",
            r##"1:2: expected a valid start token, got "\t" while parsing "#\t""##,
        ),
        (
            b"# TYPE c  counter\n",
            r#"1:10: invalid metric type " counter""#,
        ),
        (
            b"a{b='c'} 1\n# EOF\n",
            r#"1:5: expected label value, got "'c'" while parsing "a{b='""#,
        ),
        (
            b"a{,b=\"c\"} 1\n# EOF\n",
            r#"1:3: expected label name, got "," while parsing "a{,""#,
        ),
        (
            b"a{b=\"c\"d=\"e\"} 1\n# EOF\n",
            r#"1:8: expected comma or brace close, got "d" while parsing "a{b=\"c\"d""#,
        ),
        (
            b"a{b=\"c\",,d=\"e\"} 1\n# EOF\n",
            r#"1:9: expected label name, got "," while parsing "a{b=\"c\",,""#,
        ),
        (
            b"a{b=\"\xff\"} 1\n# EOF\n",
            r#"1:6: invalid UTF-8 in series: "\xff""#,
        ),
        (
            b"a{b = \"c\"} 1\n# EOF\n",
            r#"1:4: expected equal, got " " while parsing "a{b ""#,
        ),
        (
            b"a{b=\"x\ny\"} 1\n# EOF\n",
            r#"1:7: expected label value, got "\n" while parsing "a{b=\"x\n""#,
        ),
        (
            b"{A}0\n# EOF\n",
            r#"1:3: expected equal, got "}" while parsing "{A}""#,
        ),
        (
            b"foo 1_2\n\n# EOF\n",
            r#"1:5: cannot parse float "1_2": unsupported character in float"#,
        ),
        (
            b"foo 0 1_2\n\n# EOF\n",
            r#"1:7: cannot parse timestamp "1_2": unsupported character in float"#,
        ),
        (
            b"foo 1 NaN\n# EOF\n",
            r#"1:7: cannot parse timestamp "NaN": value out of range"#,
        ),
        (
            b"c_total 1 # {aa=bb}\n# EOF\n",
            r#"1:17: expected label value, got "bb" while parsing "c_total 1 # {aa=b""#,
        ),
        (
            b"c_total 1 # {aa=\"bb\"}\n# EOF\n",
            r#"1:22: expected value after exemplar labels, got "\n" while parsing "c_total 1 # {aa=\"bb\"}\n""#,
        ),
        (
            b"c_total 1 # {bb}",
            r#"1:16: expected equal, got "}" while parsing "c_total 1 # {bb}""#,
        ),
        (
            b"c_total 1 # {\"bb\"} 1\n# EOF\n",
            r#"1:18: expected equal, got "}" while parsing "c_total 1 # {\"bb\"}""#,
        ),
        (
            b"c_total 1 # {aa=\"bb\",,cc=\"dd\"} 1",
            r#"1:22: expected label name, got "," while parsing "c_total 1 # {aa=\"bb\",,""#,
        ),
        (
            b"c_total 1 # {aa=\"bb\"} 1_2\n# EOF\n",
            r#"1:23: cannot parse float "1_2": unsupported character in float"#,
        ),
        (
            b"c_total 1 # {aa=\"bb\"} 1 2 3\n# EOF\n",
            r#"1:26: expected next entry after timestamp, got " " while parsing "c_total 1 # {aa=\"bb\"} 1 2 ""#,
        ),
        (
            long.as_bytes(),
            "1:14: exemplar label set has 129 runes, more than the limit of 128",
        ),
        (
            b"{\"a\",\"b\"} 1\n# EOF\n",
            r#"1:6: metric name already set while parsing "{\"a\",\"b\"""#,
        ),
        (
            b"{a=\"ok\"} 1\n# EOF\n",
            r#"1:1: metric name not set while parsing "{a=\"ok\"}""#,
        ),
    ];
    for (input, want) in cases {
        let got = render(input);
        assert_eq!(
            got.last().cloned().unwrap_or_default(),
            format!("ERR {want}"),
            "input {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn exemplar_limit_counts_unescaped_runes() {
    // 126 runes once unescaped, more than 128 bytes as written.
    let body = format!("a_total 1 # {{x=\"{}\"}} 1\n# EOF\n", "\\\\".repeat(125));
    assert!(OpenMetricsParser::new(body.as_bytes()).all(|e| e.is_ok()));
}

#[test]
fn family_suffix_table() {
    assert_eq!(strip_family_suffix("h_bucket", MetricType::Histogram), "h");
    assert_eq!(strip_family_suffix("s", MetricType::Summary), "s");
    assert!(family_suffixes(MetricType::Info).contains(&"_info"));
}
