use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time as microseconds since the Unix epoch, UTC.
///
/// Zeek writes times with microsecond precision, so this is lossless for every source we
/// read, and it is `Copy`, ordered and cheap to hash. Serialised as an RFC 3339 string so
/// that JSON output is readable; parsed back from the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Microseconds in one second.
    pub const SECOND: i64 = 1_000_000;
    /// Microseconds in one minute.
    pub const MINUTE: i64 = 60 * Self::SECOND;
    /// Microseconds in one hour.
    pub const HOUR: i64 = 60 * Self::MINUTE;
    /// Microseconds in one day.
    pub const DAY: i64 = 24 * Self::HOUR;

    /// From microseconds since the epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (floor).
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(Self::SECOND)
    }

    /// From fractional seconds as Zeek writes them (`1588205199.824370`). `None` when the value
    /// is not finite or lies outside years 1678..2262.
    pub fn from_secs_f64(secs: f64) -> Option<Self> {
        if !secs.is_finite() || secs.abs() > 9.0e12 {
            return None;
        }
        Some(Self((secs * 1e6).round() as i64))
    }

    /// Adds a signed number of microseconds, saturating.
    pub const fn add_micros(self, micros: i64) -> Self {
        Self(self.0.saturating_add(micros))
    }

    /// `self - earlier` in microseconds, saturating.
    pub const fn micros_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// As a chrono UTC date-time (`None` outside chrono's range).
    pub fn to_datetime(self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::from_timestamp_micros(self.0)
    }

    /// Parses RFC 3339 (`2018-03-24T17:15:21.258458Z`), the form Zeek's JSON writer uses
    /// when `JSON::TS_ISO8601` is on, and the form this type serialises to.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let dt = chrono::DateTime::parse_from_rfc3339(s).ok()?;
        Some(Self(dt.timestamp_micros()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_datetime() {
            Some(dt) => write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S%.6fZ")),
            None => write!(f, "@{}us", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_float_round_trips_through_rfc3339() {
        let ts = Timestamp::from_secs_f64(1521911721.258458).unwrap();
        assert_eq!(ts.to_string(), "2018-03-24T17:15:21.258458Z");
        assert_eq!(Timestamp::parse_rfc3339(&ts.to_string()), Some(ts));
        let json = serde_json::to_string(&ts).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), ts);
    }

    #[test]
    fn rejects_non_finite_and_absurd_seconds() {
        assert_eq!(Timestamp::from_secs_f64(f64::NAN), None);
        assert_eq!(Timestamp::from_secs_f64(f64::INFINITY), None);
        assert_eq!(Timestamp::from_secs_f64(1e15), None);
    }
}
