//! Decimal text → `f64` without `core`'s float parser.
//!
//! `str::parse::<f64>` links `core::num::dec2flt`: ~6 KB of code and a 10 KB table of powers of
//! five that barely compresses, in every wasm build, for the handful of places that read a
//! number from text (`Retry-After`, config values given as strings). serde_json already carries
//! a decimal parser for JSON numbers, so [`parse_f64`] accepts exactly the grammar of
//! `str::parse::<f64>` and hands a JSON spelling of the same number to serde_json.
//!
//! serde_json parses with correct rounding here (its `float_roundtrip` feature is on, see
//! Cargo.toml), so the result is bit for bit what `str::parse::<f64>` gives; the tests check that.

use serde_json::Value;

/// Parses `s` like `str::parse::<f64>` (`[+-]` digits, `.`, exponent, `inf`, `infinity`, `nan`;
/// no surrounding whitespace): `"1.5"`, `"+.5e1"`, `"1e400"` (infinity). `None` when `s` is not
/// a number (`"1s"`, `"1_000"`, `" 1"`).
pub(crate) fn parse_f64(s: &str) -> Option<f64> {
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let signed = |v: f64| if negative { -v } else { v };
    if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
        return Some(signed(f64::INFINITY));
    }
    if rest.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    // JSON wants no leading zeros, a digit before `.` and one after it.
    let mut json = String::with_capacity(s.len() + 2);
    let int = int.trim_start_matches('0');
    json.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        json.push('.');
        json.push_str(frac);
    }
    if let Some(e) = exponent {
        let e_digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e_digits.is_empty() || !digits(e_digits) {
            return None;
        }
        json.push('e');
        json.push_str(e);
    }
    // The text is a valid JSON number by now, so the only failure left is overflow, where
    // `str::parse` gives infinity.
    let magnitude = match serde_json::from_str::<Value>(&json) {
        Ok(v) => v.as_f64()?,
        Err(_) => f64::INFINITY,
    };
    Some(signed(magnitude))
}

#[cfg(test)]
mod tests {
    use super::parse_f64;

    /// Every accepted spelling gives what `str::parse::<f64>` gives, bit for bit.
    #[test]
    fn agrees_with_str_parse() {
        let cases = [
            "0",
            "-0",
            "+0",
            "00",
            "007",
            "1",
            "-1",
            "+1",
            "1.",
            ".5",
            "-.5",
            "+.5e1",
            "1.5",
            "0.000001",
            "3.0e-7",
            "2.5E+3",
            "1e5",
            "1E-5",
            "22",
            "1.25",
            "0.1",
            "0.3",
            "123456789",
            "9007199254740993",
            "18446744073709551615",
            "18446744073709551616",
            "1e22",
            "1e-22",
            "1.5e-12",
            "1e308",
            "1.7976931348623157e308",
            "1e309",
            "-1e400",
            "1e-400",
            "4.9e-324",
            "inf",
            "-inf",
            "+Infinity",
            "INF",
            "1e999999999999",
            "1e-999999999999",
            "0e99999999999",
        ];
        for c in cases {
            let want: f64 = c.parse().unwrap();
            let got = parse_f64(c).unwrap_or_else(|| panic!("{c} rejected"));
            assert_eq!(got.to_bits(), want.to_bits(), "{c}: {got} vs {want}");
        }
        assert!(parse_f64("nan").unwrap().is_nan());
        assert!(parse_f64("-NaN").unwrap().is_nan());
    }

    #[test]
    fn rejects_what_str_parse_rejects() {
        let cases = [
            "", "+", "-", ".", "-.", "e5", ".e5", "1e", "1e+", "1e-", "1.2.3", "1,5", " 1", "1 ",
            "1s", "0x10", "1_000", "--1", "+-1", "1e5.0", "infinit", "nana", "1ee5",
        ];
        for c in cases {
            assert!(
                c.parse::<f64>().is_err(),
                "{c} should be invalid for str::parse"
            );
            assert_eq!(parse_f64(c), None, "{c}");
        }
    }
}
