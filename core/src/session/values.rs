//! Checking and normalising an answer for its question type, before it is
//! stored. The stored form is ODK's string value (what goes into the XML).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

use crate::expr::number_to_string;
use crate::instrument::QuestionType;

/// Why a value does not fit its type: the expected type in words.
pub type Expected = &'static str;

/// Normalises `raw` for a question of type `q`. Empty always clears.
pub fn normalise(q: QuestionType, raw: &str) -> Result<String, Expected> {
    use QuestionType::*;
    let v = raw.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    match q {
        Integer => parse_integer(v).map(|i| i.to_string()).ok_or("whole number"),
        Decimal => parse_decimal(v).map(decimal_string).ok_or("number"),
        Range => parse_decimal(v).map(number_to_string).ok_or("number"),
        Date => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(|d| d.format("%Y-%m-%d").to_string())
            .map_err(|_| "date (YYYY-MM-DD)"),
        // xsd:time needs seconds: `09:05` is stored `09:05:00`.
        Time => valid_time(v)
            .then(|| if v.len() == 5 { format!("{v}:00") } else { v.to_string() })
            .ok_or("time (HH:MM or HH:MM:SS)"),
        DateTime | Start | End => {
            valid_datetime(v).then(|| v.to_string()).ok_or("date and time (YYYY-MM-DDTHH:MM:SS)")
        }
        Geopoint => point(v).map(|p| point_string(&p)).ok_or("geopoint (lat lon [alt [accuracy]])"),
        Geotrace => points_string(v, 2).ok_or("geotrace (two or more points)"),
        Geoshape => points_string(v, 4).ok_or("geoshape (a closed ring)"),
        Acknowledge => match v {
            "OK" | "ok" | "true" | "1" | "yes" => Ok("OK".to_string()),
            _ => Err("acknowledgement (OK)"),
        },
        _ => Ok(raw.to_string()),
    }
}

/// What ODK Web Forms stores when a client sets `raw` on a question of type
/// `q` (its value codecs): never a refusal, but an empty value for what it
/// cannot read, a truncation for a fractional integer (`12.7` is `12`,
/// `1e3` is `1000`), a date's date for a date-time. Used by the headless
/// `--coerce` mode (`Session::set_coerced`), so scripts and imports can
/// behave exactly as ODK. Characters XML cannot carry are dropped: ODK
/// would keep them and then write a submission no XML reader accepts.
pub fn coerce(q: QuestionType, raw: &str) -> String {
    use QuestionType::*;
    let raw: String = raw.chars().filter(|c| super::submission::is_xml_char(*c)).collect();
    let v = raw.trim();
    let number = || {
        let n = if v.is_empty() { f64::NAN } else { crate::expr::string_to_number(v) };
        n.is_finite().then_some(n)
    };
    match q {
        Integer => number()
            .map(f64::trunc)
            .filter(|n| n.abs() <= 9_007_199_254_740_991.0)
            .map(|n| format!("{}", n as i64))
            .unwrap_or_default(),
        Decimal => number().map(decimal_string).unwrap_or_default(),
        // Dates and times are read as written: `2024-01-05 ` is not a date.
        Date => coerce_date(&raw).unwrap_or_default(),
        Time if coerce_time(&raw) => raw,
        DateTime if coerce_datetime(&raw) => raw,
        Time | DateTime => String::new(),
        Geopoint => {
            let nums: Vec<&str> = v.split_whitespace().take(4).collect();
            point(&nums.join(" ")).map(|p| point_string(&p)).unwrap_or_default()
        }
        Geotrace | Geoshape => normalise(q, v).unwrap_or_default(),
        Acknowledge => normalise(q, v).unwrap_or_default(),
        _ => raw,
    }
}

/// `YYYY-MM-DD`, or a date and a local time of day (`T10:00`,
/// `T10:00:00.000`; no zone) whose date is taken: ODK's date codec.
fn coerce_date(v: &str) -> Option<String> {
    let date = v.get(..10)?;
    let rest = &v[10..];
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let time_ok = rest.is_empty()
        || rest.strip_prefix('T').is_some_and(|t| {
            let (hm, secs) = t.split_at(t.len().min(5));
            let hm_ok = hm.len() == 5 && digits(&hm[..2]) && &hm[2..3] == ":" && digits(&hm[3..]);
            let secs_ok = secs.is_empty()
                || secs.strip_prefix(':').is_some_and(|s| {
                    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
                    whole.len() == 2 && digits(whole) && digits(frac)
                });
            hm_ok && secs_ok
        });
    (is_date(date) && time_ok).then(|| date.to_string())
}

/// A strict `YYYY-MM-DD` that exists.
fn is_date(d: &str) -> bool {
    d.len() == 10
        && d.as_bytes()[4] == b'-'
        && d.as_bytes()[7] == b'-'
        && d.bytes().enumerate().all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
        && NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()
}

/// `HH:MM:SS[.f...][Z|±HH:MM]`, hours 00-23: ODK's time codec wants the
/// seconds and reads a zone only in that form.
fn coerce_time(v: &str) -> bool {
    let two = |s: &str, max: u32| {
        s.len() == 2
            && s.bytes().all(|b| b.is_ascii_digit())
            && s.parse::<u32>().is_ok_and(|n| n <= max)
    };
    let Some(clock) = v.get(..8) else { return false };
    let clock_ok = two(&clock[..2], 23)
        && &clock[2..3] == ":"
        && two(&clock[3..5], 59)
        && &clock[5..6] == ":"
        && two(&clock[6..8], 60);
    let mut rest = &v[8..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    let zone_ok = rest.is_empty()
        || rest == "Z"
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && two(&rest[1..3], 23)
            && &rest[3..4] == ":"
            && two(&rest[4..6], 59));
    clock_ok && zone_ok
}

/// `YYYY-MM-DDTHH:MM:SS[.f...][Z|±HH:MM]`: ODK's date-time codec.
fn coerce_datetime(v: &str) -> bool {
    let Some((date, time)) = v.split_once('T') else { return false };
    is_date(date) && coerce_time(time)
}

fn parse_integer(v: &str) -> Option<i64> {
    let v = v.strip_prefix('+').unwrap_or(v);
    v.parse::<i64>().ok()
}

fn parse_decimal(v: &str) -> Option<f64> {
    let ok = v.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    v.parse::<f64>().ok().filter(|f| ok && f.is_finite())
}

fn valid_time(v: &str) -> bool {
    // An offset (`Z`, `+02:00`, `-03:00`) may follow the clock time.
    let v = v.strip_suffix('Z').unwrap_or(v);
    let clock = match v.get(5..).and_then(|rest| rest.find(['+', '-'])) {
        Some(i) => &v[..5 + i],
        None => v,
    };
    ["%H:%M", "%H:%M:%S", "%H:%M:%S%.f"].iter().any(|f| NaiveTime::parse_from_str(clock, f).is_ok())
}

fn valid_datetime(v: &str) -> bool {
    DateTime::parse_from_rfc3339(v).is_ok()
        || ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"]
            .iter()
            .any(|f| NaiveDateTime::parse_from_str(v, f).is_ok())
}

fn point(p: &str) -> Option<Vec<f64>> {
    let nums: Option<Vec<f64>> = p.split_whitespace().map(|x| x.parse::<f64>().ok()).collect();
    let nums = nums?;
    let ok = (2..=4).contains(&nums.len())
        && nums.iter().all(|n| n.is_finite())
        && (-90.0..=90.0).contains(&nums[0])
        && (-180.0..=180.0).contains(&nums[1]);
    ok.then_some(nums)
}

/// A decimal answer as ODK Web Forms stores it: no exponent, at least one
/// fraction digit (`12` -> `12.0`, as JavaRosa's `Double` does too), at most
/// twenty (its `Intl.NumberFormat` settings).
pub fn decimal_string(n: f64) -> String {
    let mut s = format!("{n}");
    if let Some((_, frac)) = s.split_once('.')
        && frac.len() > 20
    {
        s = format!("{n:.20}");
        s = s.trim_end_matches('0').to_string();
    }
    if !s.contains('.') {
        s.push_str(".0");
    } else if s.ends_with('.') {
        s.push('0');
    }
    s
}

/// A point as ODK writes it: each number as a decimal (`12` -> `12.0`).
fn point_string(p: &[f64]) -> String {
    p.iter().map(|&x| decimal_string(x)).collect::<Vec<_>>().join(" ")
}

/// A geotrace or geoshape with at least `min` points, each written as
/// [`point_string`] and joined by `;` as ODK does.
fn points_string(v: &str, min: usize) -> Option<String> {
    let v = v.trim().trim_end_matches(|c: char| c == ';' || c.is_whitespace());
    let pts: Option<Vec<Vec<f64>>> = v.split(';').map(|p| point(p.trim())).collect();
    let pts = pts?;
    (pts.len() >= min).then(|| pts.iter().map(|p| point_string(p)).collect::<Vec<_>>().join(";"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use QuestionType::*;

    #[test]
    fn numbers() {
        assert_eq!(normalise(Integer, " 34 ").unwrap(), "34");
        assert_eq!(normalise(Integer, "+7").unwrap(), "7");
        assert_eq!(normalise(Integer, "-3").unwrap(), "-3");
        assert!(normalise(Integer, "12.7").is_err());
        assert!(normalise(Integer, "abc").is_err());
        assert_eq!(normalise(Decimal, "3.50").unwrap(), "3.5");
        // ODK writes decimals with a fraction digit and never an exponent.
        assert_eq!(normalise(Decimal, "100").unwrap(), "100.0");
        assert_eq!(normalise(Decimal, "1e21").unwrap(), "1000000000000000000000.0");
        assert_eq!(normalise(Decimal, "1e-7").unwrap(), "0.0000001");
        assert_eq!(normalise(Decimal, "-0.5").unwrap(), "-0.5");
        assert!(normalise(Decimal, "inf").is_err());
        assert!(normalise(Decimal, "1,5").is_err());
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(normalise(Date, "2024-02-29").unwrap(), "2024-02-29");
        assert!(normalise(Date, "2023-02-29").is_err());
        assert!(normalise(Date, "29/02/2024").is_err());
        assert_eq!(normalise(Time, "10:30").unwrap(), "10:30:00");
        assert!(normalise(Time, "10:30:00.000+02:00").is_ok());
        assert!(normalise(Time, "25:00").is_err());
        assert!(normalise(DateTime, "2024-01-15T10:30:00.000+00:00").is_ok());
        assert!(normalise(DateTime, "2024-01-15T10:30").is_ok());
        assert!(normalise(DateTime, "yesterday").is_err());
    }

    #[test]
    fn geo() {
        assert_eq!(normalise(Geopoint, "-25.9  32.6 10 5").unwrap(), "-25.9 32.6 10.0 5.0");
        assert_eq!(normalise(Geotrace, "1 2; 3 4.5;").unwrap(), "1.0 2.0;3.0 4.5");
        assert!(normalise(Geopoint, "95 32").is_err());
        assert!(normalise(Geopoint, "1").is_err());
        assert!(normalise(Geotrace, "1 2; 3 4").is_ok());
        assert!(normalise(Geotrace, "1 2").is_err());
        assert!(normalise(Geoshape, "1 2;1 3;2 3;1 2").is_ok());
    }

    #[test]
    fn coercion_is_what_odk_stores() {
        // Each as ODK Web Forms 0.22 stored it (tests/diff/coerce.md runs them).
        for (q, raw, odk) in [
            (Integer, "12.7", "12"),
            (Integer, "1e3", "1000"),
            (Integer, "abc", ""),
            (Integer, "-3.9", "-3"),
            (Integer, "0x10", "16"),
            (Integer, "1,5", ""),
            (Integer, "Infinity", ""),
            (Integer, "9007199254740993", ""),
            (Integer, ".5", "0"),
            (Integer, "-0", "0"),
            (Decimal, "x", ""),
            (Decimal, "1e3", "1000.0"),
            (Decimal, "-0", "-0.0"),
            (Decimal, " 2.50 ", "2.5"),
            (Date, "2024-02-30", ""),
            (Date, "2024-1-5", ""),
            (Date, "2024-01-05T10:00:00", "2024-01-05"),
            (Date, "2024-01-05 ", ""),
            (Time, "09:05", ""),
            (Time, "09:05:30.123", "09:05:30.123"),
            (Time, "09:05:30+02:00", "09:05:30+02:00"),
            (Time, "09:05:30+0200", ""),
            (Time, "24:00:00", ""),
            (Date, "2024-01-05T10:00:00Z", ""),
            (Date, "2024-01-05T10:00", "2024-01-05"),
            (Date, "2024-01-05T25:00:00", "2024-01-05"),
            (Date, "2024-01-15T10:30:00.000+00:00", ""),
            (DateTime, "2024-01-05T10:00:00.000+02:00", "2024-01-05T10:00:00.000+02:00"),
            (DateTime, "2024-01-05", ""),
            (DateTime, "2024-01-05T10:00", ""),
            (DateTime, "2024-01-05T10:00:00Z", "2024-01-05T10:00:00Z"),
            (DateTime, "2024-02-30T10:00:00", ""),
            (Geopoint, "1 2 3 4 5", "1.0 2.0 3.0 4.0"),
            (Geopoint, "95 2", ""),
            (Text, "a\u{B}b", "ab"),
        ] {
            assert_eq!(coerce(q, raw), odk, "{q:?} {raw:?}");
        }
    }

    #[test]
    fn empty_clears_and_text_is_kept() {
        assert_eq!(normalise(Integer, "  ").unwrap(), "");
        assert_eq!(normalise(Text, " a b ").unwrap(), " a b ");
        assert_eq!(normalise(Acknowledge, "OK").unwrap(), "OK");
    }
}
