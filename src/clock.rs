//! Wall-clock time, in the forms sforge records: seconds since the epoch (journals, deadlines,
//! `started_at`, tar headers) and `YYYY-MM-DDTHH:MM:SS` timestamps (UTC) for log lines.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, with fractions (0 for a clock set before 1970).
#[must_use]
pub fn epoch_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Seconds since the Unix epoch of `time` (a file's modification time, say), with fractions;
/// `None` before 1970.
#[must_use]
pub fn seconds_of(time: SystemTime) -> Option<f64> {
    time.duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs_f64())
}

/// Whole seconds since the Unix epoch (0 for a clock set before 1970).
#[must_use]
pub fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The current time as `YYYY-MM-DDTHH:MM:SS` (UTC).
#[must_use]
pub fn timestamp() -> String {
    let text = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    text.trim_end_matches('Z').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_iso_seconds() {
        let t = timestamp();
        assert_eq!(t.len(), 19, "{t}");
        assert_eq!(&t[10..11], "T");
    }

    #[test]
    #[allow(
        clippy::cast_precision_loss,
        reason = "seconds of today fit a float exactly"
    )]
    fn epoch_forms_agree() {
        let (whole, fraction) = (epoch_secs(), epoch_seconds());
        assert!(whole > 1_700_000_000, "{whole}");
        assert!(
            (fraction - whole as f64).abs() < 5.0,
            "{fraction} vs {whole}"
        );
    }
}
