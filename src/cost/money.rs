//! Exact money: integer pico-dollars, so that summing thousands of calls never drifts.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign};

use serde::{Deserialize, Serialize};

/// 10¹² pico-dollars per dollar.
pub const PICO_PER_USD: u64 = 1_000_000_000_000;

/// An amount of US dollars in pico-dollars (10⁻¹² USD).
///
/// Pico rather than nano because per-token prices such as $0.01875 per million tokens are
/// 18.75 nano-dollars per token but a whole 18 750 pico-dollars. A `u64` holds up to
/// $18 million; arithmetic saturates rather than wraps.
///
/// ```
/// use edgellm::cost::Usd;
/// let price = Usd::parse("0.15").unwrap(); // $0.15
/// assert_eq!(price.pico(), 150_000_000_000);
/// assert_eq!((price + price).to_f64(), 0.3);
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Usd(u64);

impl Usd {
    /// Zero dollars.
    pub const ZERO: Usd = Usd(0);
    /// The largest amount.
    pub const MAX: Usd = Usd(u64::MAX);

    /// From pico-dollars.
    pub const fn from_pico(pico: u64) -> Self {
        Usd(pico)
    }

    /// Pico-dollars.
    pub const fn pico(self) -> u64 {
        self.0
    }

    /// Nano-dollars (10⁻⁹ USD), rounded down: the unit the gateway stores spend in.
    pub const fn nano(self) -> u64 {
        self.0 / 1000
    }

    /// From a float number of dollars (edge input only: JS numbers, YAML). Negative, NaN and
    /// infinite values are rejected.
    pub fn from_f64(usd: f64) -> Option<Self> {
        if !usd.is_finite() || usd < 0.0 {
            return None;
        }
        let pico = (usd * PICO_PER_USD as f64).round();
        (pico <= u64::MAX as f64).then_some(Usd(pico as u64))
    }

    /// Dollars as a float (edge output only).
    pub fn to_f64(self) -> f64 {
        // Split so that amounts above 2^53 pico (≈ $9000) keep their cents exact.
        let whole = (self.0 / PICO_PER_USD) as f64;
        let frac = (self.0 % PICO_PER_USD) as f64 / PICO_PER_USD as f64;
        whole + frac
    }

    /// The text of [`to_f64`](Self::to_f64) as `f64`'s `Display` writes it (`"0.0000198"`,
    /// the `x-litellm-response-cost` header's form), without formatting a float below $1:
    /// `to_f64` is then the nearest `f64` to a decimal of at most 12 significant digits, and the
    /// shortest text that reads back as that `f64` is that decimal (up to 15 digits identify an
    /// `f64`), which `Display` writes without an exponent. Float formatting was ≈ 0.7 % of the
    /// gateway Worker's CPU per non-stream request.
    ///
    /// ```
    /// use edgellm::cost::Usd;
    /// let c = Usd::from_pico(19_800_000);
    /// assert_eq!(c.to_f64_text(), "0.0000198");
    /// assert_eq!(c.to_f64_text(), c.to_f64().to_string());
    /// ```
    pub fn to_f64_text(self) -> String {
        if self.0 >= PICO_PER_USD {
            return self.to_f64().to_string();
        }
        if self.0 == 0 {
            return "0".into();
        }
        // The 12 fraction digits written by hand: the two `format!`s this replaces were
        // ≈ 0.3 % of a gateway request's CPU (it runs per non-stream response).
        let mut digits = [b'0'; 12];
        let mut n = self.0;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let end = digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
        let mut out = String::with_capacity(2 + end);
        out.push_str("0.");
        out.extend(digits[..end].iter().map(|&d| char::from(d)));
        out
    }

    /// Parses a plain decimal number of dollars (`"3"`, `"0.0375"`) exactly, without floats.
    /// At most 12 decimal places; no sign, exponent or spaces.
    pub fn parse(s: &str) -> Option<Self> {
        parse_scaled(s, 12).map(Usd)
    }

    /// Parses a decimal number of dollars per million units (a price-page figure such as
    /// `"2.5"` per 1M tokens) into pico-dollars per unit. At most 6 decimal places.
    pub fn parse_per_million(s: &str) -> Option<Self> {
        parse_scaled(s, 6).map(Usd)
    }

    /// `self × n`, saturating.
    pub fn times(self, n: u64) -> Self {
        Usd(self.0.saturating_mul(n))
    }

    /// `self + other`, saturating.
    pub fn saturating_add(self, other: Usd) -> Self {
        Usd(self.0.saturating_add(other.0))
    }

    /// `self − other`, floored at zero.
    pub fn saturating_sub(self, other: Usd) -> Self {
        Usd(self.0.saturating_sub(other.0))
    }
}

/// `s` × 10^`scale` as an integer, if `s` is a plain decimal with at most `scale` decimals.
fn parse_scaled(s: &str, scale: u32) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty()
        || frac.len() > scale as usize
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac_val: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    let frac_scaled = frac_val.checked_mul(10u64.pow(scale - frac.len() as u32))?;
    int.checked_mul(10u64.pow(scale))?.checked_add(frac_scaled)
}

impl Add for Usd {
    type Output = Usd;
    fn add(self, rhs: Usd) -> Usd {
        self.saturating_add(rhs)
    }
}

impl AddAssign for Usd {
    fn add_assign(&mut self, rhs: Usd) {
        *self = self.saturating_add(rhs);
    }
}

impl Sum for Usd {
    fn sum<I: Iterator<Item = Usd>>(iter: I) -> Usd {
        iter.fold(Usd::ZERO, Add::add)
    }
}

impl fmt::Display for Usd {
    /// `$0.000123450000` style: every pico-dollar shown, so the text round-trips.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "${}.{:012}",
            self.0 / PICO_PER_USD,
            self.0 % PICO_PER_USD
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_text_is_what_display_writes() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let fixed = [
            0,
            1,
            9,
            10,
            19_800_000,
            999_999_999_999,
            PICO_PER_USD,
            123 * PICO_PER_USD,
        ];
        for pico in fixed.into_iter().chain((0..200_000).map(|i| {
            // Every magnitude below $1 (and some above), with and without trailing zeros.
            let v = next() % 10u64.pow(1 + i % 13);
            if i % 3 == 0 {
                v / 1000 * 1000
            } else {
                v
            }
        })) {
            let c = Usd::from_pico(pico);
            assert_eq!(c.to_f64_text(), c.to_f64().to_string(), "{pico}");
        }
    }

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(Usd::parse_per_million("2.5"), Some(Usd(2_500_000)));
        assert_eq!(Usd::parse_per_million("0.01875"), Some(Usd(18_750)));
        assert_eq!(Usd::parse_per_million("15"), Some(Usd(15_000_000)));
        assert_eq!(Usd::parse_per_million(".5"), Some(Usd(500_000)));
        assert_eq!(Usd::parse_per_million("0.0000001"), None);
        assert_eq!(Usd::parse_per_million("-1"), None);
        assert_eq!(Usd::parse_per_million("1e-6"), None);
        assert_eq!(Usd::parse_per_million(""), None);
        assert_eq!(Usd::parse_per_million("."), None);
        assert_eq!(Usd::parse("0.04"), Some(Usd(40_000_000_000)));
    }

    #[test]
    fn sums_do_not_drift() {
        // 0.1 + 0.2 is the classic float failure; in pico-dollars it is exact.
        let total: Usd = std::iter::repeat_n(Usd::parse("0.1").unwrap(), 1000).sum();
        assert_eq!(total, Usd::parse("100").unwrap());
        assert_eq!(total.to_f64(), 100.0);
        assert_eq!(Usd::MAX + Usd(1), Usd::MAX);
        assert_eq!(Usd(1).saturating_sub(Usd(2)), Usd::ZERO);
    }

    #[test]
    fn float_edges() {
        assert_eq!(Usd::from_f64(2.5e-6), Some(Usd(2_500_000)));
        assert_eq!(Usd::from_f64(-1.0), None);
        assert_eq!(Usd::from_f64(f64::NAN), None);
        assert_eq!(Usd(1_500_000_000_000).to_f64(), 1.5);
        assert_eq!(Usd(1_234).to_string(), "$0.000000001234");
    }
}
