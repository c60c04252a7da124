//! UTC timestamps as text, without a date crate: ISO 8601 for the API (`expires`,
//! `budget_reset_at`, spend-log times) and LiteLLM's durations (`30s`, `30m`, `30h`, `30d`).

const DAY_MS: u64 = 86_400_000;

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
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

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-11-25T18:20:49.123Z`.
///
/// ```
/// assert_eq!(edgellm_worker::keys::time::iso(0), "1970-01-01T00:00:00.000Z");
/// ```
pub fn iso(ms: u64) -> String {
    let (y, mo, d) = civil_from_days((ms / DAY_MS) as i64);
    let rem = ms % DAY_MS;
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// `2026-11-25 18:20:49 UTC` (the form LiteLLM's rate-limit messages use).
pub fn human(ms: u64) -> String {
    let s = iso(ms);
    format!("{} {} UTC", &s[..10], &s[11..19])
}

/// `YYYY-MM-DD` (the day of `ms`).
pub fn day(ms: u64) -> String {
    iso(ms)[..10].to_string()
}

/// Parses `YYYY-MM-DD`, optionally followed by `THH:MM[:SS[.fff]]` and `Z` or `+00:00`, into
/// ms since the epoch (UTC). Other offsets are refused rather than misread.
pub fn parse(s: &str) -> Option<u64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(i64::from(y), m, d).checked_mul(DAY_MS as i64)?;
    let rest = &s[10..];
    if !rest.is_empty() {
        let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
        let rest = rest
            .strip_suffix('Z')
            .or_else(|| rest.strip_suffix("+00:00"))
            .unwrap_or(rest);
        let (hms, frac) = rest.split_once('.').unwrap_or((rest, ""));
        let parts: Vec<&str> = hms.split(':').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
            return None;
        }
        let field = |p: &str, max: i64| -> Option<i64> {
            let v: i64 = p.parse().ok()?;
            (0..max).contains(&v).then_some(v)
        };
        ms += field(parts[0], 24)? * 3_600_000 + field(parts[1], 60)? * 60_000;
        if let Some(sec) = parts.get(2) {
            ms += field(sec, 61)? * 1000;
        }
        if !frac.is_empty() {
            if !frac.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let milli: String = frac.chars().chain("000".chars()).take(3).collect();
            ms += milli.parse::<i64>().ok()?;
        }
    }
    u64::try_from(ms).ok()
}

/// LiteLLM's durations: `30s`, `30m`, `30h`, `30d`, also `1w` and `1mo` (30 days), in ms.
/// `None` for anything else (zero included).
///
/// ```
/// use edgellm_worker::keys::time::duration_ms;
/// assert_eq!(duration_ms("30d"), Some(30 * 86_400_000));
/// assert_eq!(duration_ms("1h"), Some(3_600_000));
/// assert_eq!(duration_ms("soon"), None);
/// ```
pub fn duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    let unit_ms = match unit {
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => DAY_MS,
        "w" => 7 * DAY_MS,
        "mo" => 30 * DAY_MS,
        _ => return None,
    };
    n.checked_mul(unit_ms).filter(|ms| *ms > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trips() {
        for ms in [0, 951_782_400_000, 1_700_000_000_123, 4_102_444_799_999] {
            assert_eq!(parse(&iso(ms)), Some(ms), "{}", iso(ms));
        }
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(human(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
        assert_eq!(day(1_700_000_000_123), "2023-11-14");
    }

    #[test]
    fn parse_forms() {
        assert_eq!(parse("2023-11-14"), Some(1_699_920_000_000));
        assert_eq!(parse("2023-11-14T22:13"), Some(1_700_000_000_000 - 20_000));
        assert_eq!(parse("2023-11-14 22:13:20+00:00"), Some(1_700_000_000_000));
        assert_eq!(parse("2023-11-14T22:13:20.5Z"), Some(1_700_000_000_500));
        for bad in [
            "2023-13-01",
            "2023-1-01",
            "yesterday",
            "2023-11-14T25:00",
            "2023-11-14T10:00+02:00",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms("30s"), Some(30_000));
        assert_eq!(duration_ms("30m"), Some(1_800_000));
        assert_eq!(duration_ms("2w"), Some(14 * DAY_MS));
        assert_eq!(duration_ms("1mo"), Some(30 * DAY_MS));
        for bad in ["0d", "d", "30", "30x", "-1d", ""] {
            assert_eq!(duration_ms(bad), None, "{bad}");
        }
    }
}
