//! Dates in condition values: ISO 8601 (`2017-07-01T00:00:00Z`, `2016-12-13T21:20:37.5+00:00`,
//! `2019-07-01`) or epoch seconds (`1700000000`), as IAM reads them.

/// IAM's write-time check of a `Date*` condition value ("The policy failed legacy parsing"
/// when false): ranges of each field, at most nine fraction digits, zone `Z` or `+hh[:mm]`.
pub(crate) fn legacy_valid(value: &str) -> bool {
    parse(value).is_some()
}

/// The instant as seconds since the epoch, or `None` when the text is not a date IAM accepts.
pub(crate) fn parse(value: &str) -> Option<f64> {
    let v = value.to_ascii_lowercase();
    if !v.contains('t') && !v.contains('-') {
        let n: i64 = int(&v)?;
        return (n >= 0).then_some(n as f64);
    }
    let (date, time) = match v.split_once('t') {
        Some((d, t)) => (d, t),
        None => (v.as_str(), ""),
    };
    let (negative, date) = match date.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, date),
    };
    let dp: Vec<&str> = date.split('-').collect();
    if dp.len() > 3 {
        return None;
    }
    let mut year = int(dp[0])?;
    if negative {
        year = -year;
    }
    if !(-292_275_054..=292_278_993).contains(&year) {
        return None;
    }
    let month = match dp.get(1) {
        Some(m) => in_range(int(m)?, 1, 12)?,
        None => 1,
    };
    let day = match dp.get(2) {
        Some(d) => in_range(int(d)?, 1, 31)?,
        None => 1,
    };
    let tp: Vec<&str> = time.split(':').collect();
    let mut secs_of_day = 0f64;
    if !tp[0].is_empty() {
        secs_of_day += in_range(int(tp[0])?, 0, 23)? as f64 * 3600.0;
    }
    if let Some(m) = tp.get(1) {
        secs_of_day += in_range(int(m)?, 0, 59)? as f64 * 60.0;
    }
    let mut offset = 0f64;
    if let Some(s) = tp.get(2) {
        let seconds_part = if let Some((sec, rest)) = s.split_once('z') {
            if !rest.is_empty() {
                return None;
            }
            sec
        } else if let Some((sec, zone)) = s.split_once('+') {
            let zh = zone;
            if zh.len() != 2 {
                return None;
            }
            offset += in_range(int(zh)?, 0, 23)? as f64 * 3600.0;
            if let Some(zm) = tp.get(3) {
                if zm.len() != 2 {
                    return None;
                }
                offset += in_range(int(zm)?, 0, 59)? as f64 * 60.0;
            }
            sec
        } else {
            s
        };
        let (whole, frac) = match seconds_part.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (seconds_part, None),
        };
        secs_of_day += in_range(int(whole)?, 0, 59)? as f64;
        if let Some(f) = frac {
            let n = in_range(int(f)?, 0, 999_999_999)?;
            secs_of_day += n as f64 / 10f64.powi(f.len().min(18) as i32);
        }
    }
    let days = days_from_civil(year, month, day);
    Some(days as f64 * 86_400.0 + secs_of_day - offset)
}

fn int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn in_range(v: i64, lo: i64, hi: i64) -> Option<i64> {
    (lo..=hi).contains(&v).then_some(v)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_epoch_agree() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse("2017-07-01T00:00:00Z"), Some(1_498_867_200.0));
        assert_eq!(parse("1498867200"), Some(1_498_867_200.0));
        assert_eq!(parse("2017-07-01"), Some(1_498_867_200.0));
        assert_eq!(parse("2017-07-01T02:00:00+02:00"), Some(1_498_867_200.0));
        assert_eq!(parse("2016-12-13T21:20:37.5Z"), Some(1_481_664_037.5));
    }

    #[test]
    fn legacy_rules() {
        assert!(legacy_valid("01T"));
        assert!(legacy_valid("2016-12-13T21:20:37.593194+00:00"));
        assert!(!legacy_valid("sdfdsf"));
        assert!(!legacy_valid("234-13"));
        assert!(!legacy_valid("2016-12-13t2:00:00.593194+1"));
        assert!(!legacy_valid("2016-12-13t2:00:00.1999999999+10:59"));
        assert!(!legacy_valid("9223372036854775808"));
        assert!(legacy_valid("9223372036854775807"));
    }
}
