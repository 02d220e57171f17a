//! `PreferredBackupWindow` (daily, `hh24:mi-hh24:mi`) and `PreferredMaintenanceWindow`
//! (weekly, `ddd:hh24:mi-ddd:hh24:mi`), both UTC and at least 30 minutes; the two must not
//! overlap. A window may wrap past midnight (or past Sunday).

use rand::Rng;

use super::ValidationError;

const MINUTES_PER_DAY: u32 = 24 * 60;
const MINUTES_PER_WEEK: u32 = 7 * MINUTES_PER_DAY;
const MIN_WINDOW_MINUTES: u32 = 30;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `PreferredBackupWindow`: `hh24:mi-hh24:mi`, at least 30 minutes. Returned as given.
pub fn backup_window(s: &str) -> Result<String, ValidationError> {
    parse_backup(s)?;
    Ok(s.to_string())
}

/// `PreferredMaintenanceWindow`: `ddd:hh24:mi-ddd:hh24:mi` (days `mon`..`sun`, any case), at
/// least 30 minutes and less than a day. Returned lower-case, as RDS reports it.
pub fn maintenance_window(s: &str) -> Result<String, ValidationError> {
    parse_maintenance(s)?;
    Ok(s.to_ascii_lowercase())
}

/// Whether a daily backup window and a weekly maintenance window share a minute.
pub fn windows_overlap(backup: &str, maintenance: &str) -> Result<bool, ValidationError> {
    let (bs, be) = parse_backup(backup)?;
    let (ms, me) = parse_maintenance(maintenance)?;
    // The backup window recurs every day; the maintenance window may wrap past Sunday, so
    // compare against it in this week and the neighbouring ones.
    let overlap = (0..7u32).any(|day| {
        let (s, e) = (
            i64::from(day * MINUTES_PER_DAY + bs),
            i64::from(day * MINUTES_PER_DAY + be),
        );
        [-i64::from(MINUTES_PER_WEEK), 0, i64::from(MINUTES_PER_WEEK)]
            .into_iter()
            .any(|shift| s < i64::from(me) + shift && i64::from(ms) + shift < e)
    });
    Ok(overlap)
}

/// Both windows valid and apart, or RDS's error.
pub fn check_windows(backup: &str, maintenance: &str) -> Result<(), ValidationError> {
    if windows_overlap(backup, maintenance)? {
        return Err(ValidationError::invalid_value(
            "The backup window and maintenance window must not overlap.",
        ));
    }
    Ok(())
}

/// Windows for a cluster whose request gave none: as RDS does, a random 30-minute backup
/// window and a random 30-minute maintenance window inside the region's 8-hour block
/// (03:00-11:00 UTC here, us-east-1's), never overlapping. Returns `(backup, maintenance)`.
pub fn default_windows<R: Rng + ?Sized>(rng: &mut R) -> (String, String) {
    const BLOCK_START: u32 = 3 * 60;
    const SLOTS: u32 = 8 * 60 / MIN_WINDOW_MINUTES;
    let backup_slot = rng.random_range(0..SLOTS);
    // Any other slot of the block, on any day: a different time of day never meets the
    // daily backup window.
    let maintenance_slot = (backup_slot + rng.random_range(1..SLOTS)) % SLOTS;
    let day = DAYS[rng.random_range(0..DAYS.len())];
    let start = |slot: u32| BLOCK_START + slot * MIN_WINDOW_MINUTES;
    let (b, m) = (start(backup_slot), start(maintenance_slot));
    (
        format!("{}-{}", hhmm(b), hhmm(b + MIN_WINDOW_MINUTES)),
        format!("{day}:{}-{day}:{}", hhmm(m), hhmm(m + MIN_WINDOW_MINUTES)),
    )
}

fn hhmm(minute_of_day: u32) -> String {
    let m = minute_of_day % MINUTES_PER_DAY;
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Start and end in minutes of the day; the end is past 1440 when the window wraps.
fn parse_backup(s: &str) -> Result<(u32, u32), ValidationError> {
    let invalid = |t: &str| {
        ValidationError::invalid_value(format!(
            "Invalid backup window time '{t}' specified. Should be specified as a time hh24:mi \
             (24H Clock UTC). Example: 03:15"
        ))
    };
    let (a, b) = s.split_once('-').ok_or_else(|| invalid(s))?;
    let start = minute_of_day(a).ok_or_else(|| invalid(a))?;
    let mut end = minute_of_day(b).ok_or_else(|| invalid(b))?;
    if end < start {
        end += MINUTES_PER_DAY;
    }
    if end - start < MIN_WINDOW_MINUTES {
        return Err(ValidationError::invalid_value(format!(
            "The backup window must be at least {MIN_WINDOW_MINUTES} minutes."
        )));
    }
    Ok((start, end))
}

/// Start and end in minutes of the week from Monday 00:00; the end is past a week when the
/// window wraps.
fn parse_maintenance(s: &str) -> Result<(u32, u32), ValidationError> {
    let invalid = |t: &str| {
        ValidationError::invalid_value(format!(
            "Invalid maintenance window time '{t}' specified. Should be specified as a time \
             ddd:hh24:mi (24H Clock UTC). Example: Mon:00:15"
        ))
    };
    let (a, b) = s.split_once('-').ok_or_else(|| invalid(s))?;
    let start = minute_of_week(a).ok_or_else(|| invalid(a))?;
    let mut end = minute_of_week(b).ok_or_else(|| invalid(b))?;
    if end < start {
        end += MINUTES_PER_WEEK;
    }
    if end - start < MIN_WINDOW_MINUTES {
        return Err(ValidationError::invalid_value(format!(
            "The maintenance window must be at least {MIN_WINDOW_MINUTES} minutes."
        )));
    }
    if end - start >= MINUTES_PER_DAY {
        return Err(ValidationError::invalid_value(
            "The maintenance window must be less than 24 hours.",
        ));
    }
    Ok((start, end))
}

/// `hh:mm` with two digits each, 00:00-23:59.
fn minute_of_day(t: &str) -> Option<u32> {
    let (h, m) = t.split_once(':')?;
    let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// `ddd:hh:mm`.
fn minute_of_week(t: &str) -> Option<u32> {
    let (day, time) = t.split_once(':')?;
    let day = DAYS.iter().position(|d| d.eq_ignore_ascii_case(day))?;
    let day = u32::try_from(day).ok()?;
    Some(day * MINUTES_PER_DAY + minute_of_day(time)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_windows() {
        assert_eq!(backup_window("03:00-03:30").unwrap(), "03:00-03:30");
        assert_eq!(backup_window("23:45-00:15").unwrap(), "23:45-00:15");
        assert_eq!(backup_window("00:00-23:59").unwrap(), "00:00-23:59");
        assert_eq!(
            backup_window("03:00-03:29").unwrap_err().message,
            "The backup window must be at least 30 minutes."
        );
        assert_eq!(
            backup_window("03:00-03:00").unwrap_err().message,
            "The backup window must be at least 30 minutes.",
            "an empty window is not a whole day"
        );
        assert_eq!(
            backup_window("3:00-03:30").unwrap_err().message,
            "Invalid backup window time '3:00' specified. Should be specified as a time hh24:mi \
             (24H Clock UTC). Example: 03:15"
        );
        for bad in [
            "03:00",
            "24:00-00:30",
            "03:60-04:30",
            "0300-0330",
            "03:00-04:00-05:00",
            "aa:bb-cc:dd",
        ] {
            assert!(
                backup_window(bad)
                    .unwrap_err()
                    .message
                    .starts_with("Invalid backup window time"),
                "{bad}"
            );
        }
    }

    #[test]
    fn maintenance_windows() {
        assert_eq!(
            maintenance_window("Sun:05:00-Sun:05:30").unwrap(),
            "sun:05:00-sun:05:30"
        );
        assert_eq!(
            maintenance_window("sun:23:50-mon:00:20").unwrap(),
            "sun:23:50-mon:00:20"
        );
        assert_eq!(
            maintenance_window("mon:05:00-mon:05:10")
                .unwrap_err()
                .message,
            "The maintenance window must be at least 30 minutes."
        );
        assert_eq!(
            maintenance_window("mon:05:00-tue:05:00")
                .unwrap_err()
                .message,
            "The maintenance window must be less than 24 hours."
        );
        assert_eq!(
            maintenance_window("xyz:05:00-mon:06:00")
                .unwrap_err()
                .message,
            "Invalid maintenance window time 'xyz:05:00' specified. Should be specified as a \
             time ddd:hh24:mi (24H Clock UTC). Example: Mon:00:15"
        );
        for bad in [
            "05:00-06:00",
            "mon:5:00-mon:06:00",
            "mon-tue",
            "monday:05:00-monday:06:00",
        ] {
            assert!(
                maintenance_window(bad)
                    .unwrap_err()
                    .message
                    .starts_with("Invalid maintenance window time"),
                "{bad}"
            );
        }
    }

    #[test]
    fn overlap() {
        assert!(!windows_overlap("03:00-03:30", "sun:05:00-sun:05:30").unwrap());
        assert!(windows_overlap("05:00-06:00", "wed:05:30-wed:06:30").unwrap());
        // A backup window that wraps midnight meets a Monday-morning maintenance window.
        assert!(windows_overlap("23:30-00:30", "mon:00:00-mon:00:30").unwrap());
        // A maintenance window wrapping the week meets a daily window on Monday.
        assert!(windows_overlap("00:10-00:40", "sun:23:50-mon:00:20").unwrap());
        // Touching ends do not overlap.
        assert!(!windows_overlap("03:00-03:30", "tue:03:30-tue:04:00").unwrap());
        assert_eq!(
            check_windows("05:00-06:00", "wed:05:30-wed:06:30")
                .unwrap_err()
                .message,
            "The backup window and maintenance window must not overlap."
        );
        assert!(check_windows("05:00-06:00", "bad").is_err());
    }

    #[test]
    fn default_windows_are_valid_and_apart() {
        let mut rng = rand::rng();
        for _ in 0..200 {
            let (b, m) = default_windows(&mut rng);
            backup_window(&b).unwrap();
            maintenance_window(&m).unwrap();
            check_windows(&b, &m).unwrap();
        }
    }
}
