//! Byte sizes as Prometheus's flags and config take them (`512MB`, `1GiB`,
//! `2TB`): powers of 1024 whether written `KB` or `KiB`, as
//! `--storage.tsdb.retention.size` documents; decimals and sums of terms
//! (`1GB512MB`) allowed.

/// A byte size that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid byte size {0:?}: expected a number followed by B, KB, MB, GB, TB, PB or EB")]
pub struct ByteSizeError(pub String);

/// Parses a byte size such as `512MB` into bytes.
pub fn parse_byte_size(s: &str) -> Result<u64, ByteSizeError> {
    let err = || ByteSizeError(s.to_owned());
    if s == "0" {
        return Ok(0);
    }
    let mut rest = s;
    // Whole numbers add up exactly; a term with a fraction goes through f64.
    let mut total: u64 = 0;
    if rest.is_empty() {
        return Err(err());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        let num = &rest[..num_len];
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let shift = match &rest[..unit_len] {
            "B" => 0,
            "KB" | "KiB" => 10,
            "MB" | "MiB" => 20,
            "GB" | "GiB" => 30,
            "TB" | "TiB" => 40,
            "PB" | "PiB" => 50,
            "EB" | "EiB" => 60,
            _ => return Err(err()),
        };
        let term = if num.contains('.') {
            let n: f64 = num.parse().map_err(|_| err())?;
            let v = n * (1u64 << shift) as f64;
            if !v.is_finite() || v >= u64::MAX as f64 {
                return Err(err());
            }
            v as u64
        } else {
            let n: u64 = num.parse().map_err(|_| err())?;
            n.checked_mul(1u64 << shift).ok_or_else(err)?
        };
        total = total.checked_add(term).ok_or_else(err)?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_size_table() {
        for (input, want) in [
            ("0", Some(0)),
            ("512MB", Some(512 << 20)),
            ("1GiB", Some(1 << 30)),
            ("1GB512MB", Some((1 << 30) + (512 << 20))),
            ("1.5KB", Some(1536)),
            ("10B", Some(10)),
            ("", None),
            ("10", None),
            ("MB", None),
            ("1XB", None),
            ("-1GB", None),
            ("9007199254740993B", Some(9_007_199_254_740_993)),
            ("16EB", None),
        ] {
            assert_eq!(parse_byte_size(input).ok(), want, "{input:?}");
        }
    }
}
