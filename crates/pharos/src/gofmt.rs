//! Printing as Go's standard library prints, so pharos's promtool-style
//! commands produce promtool's exact output: `time.Duration.String`,
//! `time.Time.String` (UTC, whole seconds), `units.Base2Bytes.String` and
//! `text/tabwriter` alignment.

use std::fmt::Write as _;

/// Go's `time.Duration(ms * 1e6).String()` for a count of milliseconds:
/// `1h39m45.001s`, `2h0m0s`, `500ms`, `0s`.
pub(crate) fn go_duration_ms(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    let neg = ms < 0;
    let ms = ms.unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if ms < 1000 {
        let _ = write!(out, "{ms}ms");
        return out;
    }
    let (h, m) = (ms / 3_600_000, (ms / 60_000) % 60);
    let (s, frac) = ((ms / 1000) % 60, ms % 1000);
    if h > 0 {
        let _ = write!(out, "{h}h{m}m");
    } else if m > 0 {
        let _ = write!(out, "{m}m");
    }
    let _ = write!(out, "{s}");
    if frac > 0 {
        let f = format!("{frac:03}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('s');
    out
}

/// Go's `time.Unix(ms/1000, 0).UTC().String()`: `2023-11-14 22:13:20 +0000 UTC`.
pub(crate) fn go_utc_time_secs(ms: i64) -> String {
    // Go's integer division truncates towards zero.
    let secs = ms / 1000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02} +0000 UTC",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `units.Base2Bytes(n).String()` as promtool prints sizes: `3KiB49B`,
/// `2MiB`, `0B`.
pub(crate) fn go_base2_bytes(n: i64) -> String {
    const NAMES: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];
    let mut parts: Vec<String> = Vec::new();
    let mut n = n;
    for (i, unit) in NAMES.iter().enumerate() {
        if n % 1024 != 0 || (i == 0 && n == 0) {
            let suffix = if i == 0 { "B" } else { "iB" };
            parts.push(format!("{}{unit}{suffix}", n % 1024));
        }
        n /= 1024;
        if n == 0 {
            break;
        }
    }
    parts.reverse();
    parts.concat()
}

/// Aligns rows as Go's `tabwriter.NewWriter(w, minwidth, 0, padding, ' ', 0)`
/// does when every row has the same number of tab-terminated cells: each
/// cell but the last of a row is padded to its column's width.
pub(crate) fn tabwrite(rows: &[Vec<String>], minwidth: usize, padding: usize) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            widths[i] = widths[i].max((cell.chars().count() + padding).max(minwidth));
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_go() {
        for (ms, want) in [
            (0, "0s"),
            (5_985_001, "1h39m45.001s"),
            (7_200_000, "2h0m0s"),
            (500, "500ms"),
            (1_500, "1.5s"),
            (61_000, "1m1s"),
            (-1_500, "-1.5s"),
        ] {
            assert_eq!(go_duration_ms(ms), want, "{ms}");
        }
    }

    #[test]
    fn times_like_go() {
        assert_eq!(
            go_utc_time_secs(1_700_000_000_000),
            "2023-11-14 22:13:20 +0000 UTC"
        );
        assert_eq!(
            go_utc_time_secs(1_700_005_985_001),
            "2023-11-14 23:53:05 +0000 UTC"
        );
        assert_eq!(go_utc_time_secs(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(go_utc_time_secs(-1_000), "1969-12-31 23:59:59 +0000 UTC");
        assert_eq!(
            go_utc_time_secs(951_782_400_000),
            "2000-02-29 00:00:00 +0000 UTC"
        );
    }

    #[test]
    fn bytes_like_go() {
        for (n, want) in [
            (3121, "3KiB49B"),
            (0, "0B"),
            (2048, "2KiB"),
            (1 << 20, "1MiB"),
            (1, "1B"),
        ] {
            assert_eq!(go_base2_bytes(n), want, "{n}");
        }
    }

    #[test]
    fn tabwriter_like_promtool_list() {
        let rows = vec![
            vec!["BLOCK ULID".into(), "NUM CHUNKS".into(), "SIZE".into()],
            vec![
                "01M89Q9E4P2N1HQSNF1WJSTBAM".into(),
                "10".into(),
                "3121".into(),
            ],
        ];
        assert_eq!(
            tabwrite(&rows, 13, 2),
            "BLOCK ULID                  NUM CHUNKS   SIZE\n01M89Q9E4P2N1HQSNF1WJSTBAM  10           3121\n"
        );
    }
}
