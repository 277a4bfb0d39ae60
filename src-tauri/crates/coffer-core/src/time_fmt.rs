//! Durations (`90s`, `15m`, `12h`, `7d`) and timestamps as users write and read them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// Parses a duration such as `90s`, `15m`, `12h`, `7d` into milliseconds.
pub fn parse_duration_ms(raw: &str) -> Result<i64> {
    let d = humantime::parse_duration(raw.trim()).map_err(|_| {
        Error::invalid(format!(
            "invalid duration '{raw}': write it like 90s, 15m, 12h or 7d"
        ))
    })?;
    if d.is_zero() {
        return Err(Error::invalid(format!("duration '{raw}' must be positive")));
    }
    i64::try_from(d.as_millis())
        .map_err(|_| Error::invalid(format!("duration '{raw}' is too long")))
}

/// Formats milliseconds compactly in days, hours, minutes and seconds, largest
/// units first and at most two of them: `7d`, `90d`, `1d 2h`, `1m 30s`.
pub fn format_duration_ms(ms: i64) -> String {
    let mut secs = ms.max(0) / 1000;
    if secs == 0 {
        return "0s".into();
    }
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            parts.push(format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    parts.truncate(2);
    parts.join(" ")
}

/// RFC 3339 UTC with second precision.
pub fn format_timestamp_ms(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// RFC 3339 UTC with millisecond precision, as log pipelines expect `@timestamp`.
pub fn format_timestamp_millis(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// A point in time given either as RFC 3339 (`2026-11-01T00:00:00Z`, or a date) or as
/// a duration back from `now_ms` (`7d`).
pub fn parse_since_ms(raw: &str, now_ms: i64) -> Result<i64> {
    if let Ok(d) = parse_duration_ms(raw) {
        return Ok(now_ms - d);
    }
    let text = if raw.len() == 10 {
        format!("{raw}T00:00:00Z")
    } else {
        raw.to_string()
    };
    let t: SystemTime = humantime::parse_rfc3339_weak(&text).map_err(|_| {
        Error::invalid(format!(
            "invalid time '{raw}': give a duration back from now (7d) or a date (2026-11-01)"
        ))
    })?;
    Ok(t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_of_the_contract() {
        assert_eq!(parse_duration_ms("90s").unwrap(), 90_000);
        assert_eq!(parse_duration_ms("15m").unwrap(), 900_000);
        assert_eq!(parse_duration_ms("12h").unwrap(), 43_200_000);
        assert_eq!(parse_duration_ms("7d").unwrap(), 604_800_000);
        assert!(parse_duration_ms("7 parsecs").is_err());
        assert!(parse_duration_ms("0s").is_err());
        assert_eq!(format_duration_ms(604_800_000), "7d");
        assert_eq!(format_duration_ms(90_000), "1m 30s");
        assert_eq!(format_duration_ms(90 * 86_400_000), "90d");
        assert_eq!(format_duration_ms(86_400_000 + 7_200_000 + 5_000), "1d 2h");
    }

    #[test]
    fn since_accepts_dates_and_durations() {
        assert_eq!(
            parse_since_ms("1h", 10_000_000).unwrap(),
            10_000_000 - 3_600_000
        );
        assert_eq!(parse_since_ms("1970-01-02", 0).unwrap(), 86_400_000);
        assert_eq!(format_timestamp_ms(86_400_000), "1970-01-02T00:00:00Z");
        assert!(parse_since_ms("yesterday", 0).is_err());
    }
}
