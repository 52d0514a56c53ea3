//! Today's date (UTC) from the system clock, for the front ends: the analysis core never
//! reads the clock, so whoever applies exemptions' expiry dates asks here.

use crate::date::Date;

/// Today's date, UTC.
pub fn today() -> Date {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_unix_seconds(i64::try_from(now).unwrap_or(i64::MAX))
}
