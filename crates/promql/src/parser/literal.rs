//! Number and duration literals, read as Go's `strconv` and Prometheus's
//! duration parser read them.

use super::Parser;
use crate::ast::NumberLiteral;
use crate::error::go_quote;
use crate::lexer::{Token, TokenKind};

impl Parser<'_> {
    pub(super) fn number_value(&mut self, t: &Token) -> f64 {
        match parse_go_number(&t.text) {
            Some(v) if v.is_infinite() && !t.text.to_ascii_lowercase().contains("inf") => {
                let msg = format!(
                    "error parsing number: strconv.ParseFloat: parsing {}: value out of range",
                    go_quote(&t.text)
                );
                self.add_err(t.span, msg);
                v
            }
            Some(v) => v,
            None => {
                self.add_err(
                    t.span,
                    format!(
                        "error parsing number: strconv.ParseFloat: parsing {}: invalid syntax",
                        go_quote(&t.text)
                    ),
                );
                0.0
            }
        }
    }

    pub(super) fn duration_value(&mut self, t: &Token) -> f64 {
        match model::parse_duration(&t.text) {
            Ok(d) => d.as_secs_f64(),
            Err(e) => {
                let msg = unknown_unit(&t.text).unwrap_or_else(|| e.to_string());
                self.add_err(t.span, msg);
                0.0
            }
        }
    }

    pub(super) fn number_literal(&mut self, t: &Token) -> NumberLiteral {
        let duration = t.kind == TokenKind::Duration;
        let value = if duration {
            self.duration_value(t)
        } else {
            self.number_value(t)
        };
        NumberLiteral {
            value,
            duration,
            span: t.span,
        }
    }
}

/// Prometheus's message for a duration with a unit it does not know
/// (`5y1hs`), which the model crate words generically.
pub(super) fn unknown_unit(text: &str) -> Option<String> {
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let unit_len = rest[digits..]
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        let unit = &rest[digits..digits + unit_len];
        if !matches!(unit, "y" | "w" | "d" | "h" | "m" | "s" | "ms") {
            return Some(format!("unknown unit {unit:?} in duration {text:?}"));
        }
        rest = &rest[digits + unit_len..];
        if digits == 0 {
            return None;
        }
    }
    None
}

/// Parses a number as Go's `strconv.ParseInt(s, 0, 64)` then
/// `strconv.ParseFloat(s, 64)` would: hex `0x1f`, octal `010`, `_`
/// separators, `Inf`, `NaN`, exponents.
pub(super) fn parse_go_number(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" => return Some(f64::INFINITY),
        "-inf" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    // Integers (Go's ParseInt with base 0) may use `_` between digits;
    // floats (ParseFloat) may not without a base prefix.
    let clean: String = lower.chars().filter(|&c| c != '_').collect();
    if let Some(hex) = clean.strip_prefix("0x") {
        // A hex literal too large for int64 is not a valid Go float either.
        return i64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    if clean.bytes().all(|b| b.is_ascii_digit()) {
        let octal = clean.len() > 1 && clean.starts_with('0');
        let int = if octal {
            i64::from_str_radix(&clean[1..], 8).ok()
        } else {
            clean.parse::<i64>().ok()
        };
        if let Some(v) = int {
            return Some(v as f64);
        }
    }
    if lower.contains('_') {
        return None;
    }
    lower.parse::<f64>().ok()
}
