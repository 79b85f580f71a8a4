//! Table tests of the text parser, many taken from the cases Prometheus's
//! own parser is tested with.

use super::*;

/// Renders every entry of `input` on one line each, or the error last.
fn render(input: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for e in TextParser::new(input) {
        out.push(match e {
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
                format!(
                    "{} | {} [{}] {} {:?}",
                    s.raw(),
                    s.name(),
                    labels.join(" "),
                    s.value(),
                    s.timestamp()
                )
            }
            Err(e) => format!("ERR {e}"),
        });
    }
    out
}

fn check(input: &str, want: &[&str]) {
    assert_eq!(render(input.as_bytes()), want, "input {input:?}");
}

fn check_err(input: &[u8], want: &str) {
    let got = render(input);
    let last = got.last().cloned().unwrap_or_default();
    assert_eq!(
        last,
        format!("ERR {want}"),
        "input {:?}",
        String::from_utf8_lossy(input)
    );
}

#[test]
fn metadata_and_comments() {
    check(
        "# HELP go_gc_duration_seconds A summary of the GC invocation durations.\n\
         # \tTYPE go_gc_duration_seconds summary\n\
         # HELP  two  blanks keep one\n\
         # HELP esc a\\\\b\\nc \\\"q\\\"\n\
         # HELP empty\n\
         # a comment\n\
         #no blank\n\
         # HELPER not help\n\
         # TYPE \"my.metric\" untyped\n",
        &[
            r#"HELP go_gc_duration_seconds "A summary of the GC invocation durations.""#,
            "TYPE go_gc_duration_seconds summary",
            r#"HELP two " blanks keep one""#,
            r#"HELP esc "a\\b\nc \\\"q\\\"""#,
            r#"HELP empty """#,
            r##"COMMENT "# a comment""##,
            r##"COMMENT "#no blank""##,
            r##"COMMENT "# HELPER not help""##,
            "TYPE my.metric unknown",
        ],
    );
}

#[test]
fn series_lines() {
    check(
        "a 1\n\
         \n\
         \t b_total{x=\"1\",y=\"with \\\"q\\\" \\\\ \\n\"} -2.5 123\n\
         c{ x = \"1\" y=\"2\" , } +Inf\n\
         d {} NaN   \n\
         e{a=\"multi\nline\"} 1e+06\n\
         {\"my.metric\", \"label.name\"=\"v\"} 0x\n",
        &[
            "a | a [] 1 None",
            r#"b_total{x="1",y="with \"q\" \\ \n"} | b_total [x="1" y="with \"q\" \\ \n"] -2.5 Some(123)"#,
            r#"c{ x = "1" y="2" , } | c [x="1" y="2"] inf None"#,
            "d {} | d [] NaN None",
            "e{a=\"multi\nline\"} | e [a=\"multi\\nline\"] 1000000 None",
            r#"ERR 8:33: cannot parse float "0x": invalid syntax"#,
        ],
    );
    check(
        "{\"my.metric\", \"label.name\"=\"v\"} 1\n{\"a\\\"b\"} 2 3",
        &[
            r#"{"my.metric", "label.name"="v"} | my.metric [label.name="v"] 1 None"#,
            r#"{"a\"b"} | a"b [] 2 Some(3)"#,
        ],
    );
}

#[test]
fn last_line_without_newline_and_nul() {
    check("a 1", &["a | a [] 1 None"]);
    check("a 1\n\0garbage{", &["a | a [] 1 None"]);
    check(
        "a{b=\"\0x\"} 1\n",
        &["a{b=\"\0x\"} | a [b=\"\\0x\"] 1 None"],
    );
}

#[test]
fn errors_like_prometheus() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"a",
            r#"1:2: expected value after metric, got end of input while parsing "a""#,
        ),
        (
            b"a\n",
            r#"1:2: expected value after metric, got "\n" while parsing "a\n""#,
        ),
        (
            b"a{b='c'} 1\n",
            r#"1:5: expected label value, got "'c'" while parsing "a{b='""#,
        ),
        (
            b"a{b=\n",
            r#"1:5: expected label value, got "\n" while parsing "a{b=\n""#,
        ),
        (
            b"a{\xff=\"foo\"} 1\n",
            "1:3: expected label name, got \"\u{fffd}\" while parsing \"a{\u{fffd}\"",
        ),
        (
            b"a{b=\"\xff\"} 1\n",
            r#"1:6: invalid UTF-8 in series: "\xff""#,
        ),
        (
            br#"{"a", "b = "c"}"#,
            r#"1:13: expected equal, got "c" while parsing "{\"a\", \"b = \"c""#,
        ),
        (
            br#"{"a",b\nc="d"} 1"#,
            r#"1:7: expected equal, got "\\nc" while parsing "{\"a\",b\\""#,
        ),
        (
            b"a true\n",
            r#"1:3: cannot parse float "true": invalid syntax"#,
        ),
        (
            b"something_weird{problem=\"",
            r#"1:26: expected label value, got end of input while parsing "something_weird{problem=\"""#,
        ),
        (
            b"empty_label_name{=\"\"} 0",
            r#"1:18: expected label name, got "=" while parsing "empty_label_name{=""#,
        ),
        (
            b"{A}0",
            r#"1:3: expected equal, got "}" while parsing "{A}""#,
        ),
        (
            b"foo 1_2\n",
            r#"1:5: cannot parse float "1_2": unsupported character in float"#,
        ),
        (
            b"foo 0x1p-3\n",
            r#"1:5: cannot parse float "0x1p-3": unsupported character in float"#,
        ),
        (
            b"foo 0 1_2\n",
            r#"1:8: expected next entry after timestamp, got "_2" while parsing "foo 0 1_""#,
        ),
        (
            br#"{a="ok"} 1"#,
            r#"1:1: metric name not set while parsing "{a=\"ok\"}""#,
        ),
        (
            b"# TYPE #\n",
            r##"1:8: expected metric name after TYPE, got "#" while parsing "# TYPE #""##,
        ),
        (
            b"# HELP #\n",
            r##"1:8: expected metric name after HELP, got "#" while parsing "# HELP #""##,
        ),
        (
            b"# TYPE a gaugex\n",
            r#"1:10: invalid metric type "gaugex""#,
        ),
        (
            b"# TYPE a gauge \n",
            r#"1:10: invalid metric type "gauge ""#,
        ),
        (b"# TYPE a info\n", r#"1:10: invalid metric type "info""#),
        (
            b"# HELP a \xff\n",
            r#"1:10: invalid UTF-8 in help text: "\xff""#,
        ),
        (
            b"a{,b=\"c\"} 1\n",
            r#"1:3: expected label name, got "," while parsing "a{,""#,
        ),
        (
            b"a 1 -2\n",
            r#"1:5: expected timestamp or new record, got "-2" while parsing "a 1 -""#,
        ),
        (
            b"a 1 99999999999999999999\n",
            r#"1:5: cannot parse timestamp "99999999999999999999": value out of range"#,
        ),
        (
            b"a{\"x\"=\"1\",\"y\"} 1\n",
            r#"1:11: metric name already set while parsing "a{\"x\"=\"1\",\"y\"""#,
        ),
        (
            b"a 1e400\n",
            r#"1:3: cannot parse float "1e400": value out of range"#,
        ),
        (
            b"ok 1\n9 1\n",
            r#"2:1: expected a valid start token, got "9" while parsing "9""#,
        ),
        (
            b"# HELP \"a\nb\" x\n",
            r##"1:8: expected metric name after HELP, got "\"" while parsing "# HELP \"""##,
        ),
        (
            b"# HELP a{b\n",
            r##"1:9: expected text after the metric name, got "{" while parsing "# HELP a{""##,
        ),
        (
            b"a{b=\"x\\\ny\"} 1\n",
            r#"1:8: expected label value, got "\n" while parsing "a{b=\"x\\\n""#,
        ),
    ];
    for (input, want) in cases {
        check_err(input, want);
    }
}

#[test]
fn stops_after_an_error() {
    let mut p = TextParser::new(b"9\na 1\n");
    assert!(p.next().is_some_and(|r| r.is_err()));
    assert!(p.next().is_none());
}
