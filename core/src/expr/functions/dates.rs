//! Dates and times, ODK style: a date is days since 1970-01-01 when used as
//! a number; strings are read as ISO 8601 in the local zone unless they carry
//! an offset; values are written as ODK Web Forms writes them.

use std::borrow::Cow;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
};

use super::Func;
use crate::expr::ast::Expr;
use crate::expr::env::{Env, local_offset_for_naive};
use crate::expr::eval::{Context, EvalError, EvalResult, Evaluator};
use crate::expr::value::Value;

const DAY_MS: f64 = 86_400_000.0;

/// A date-time instant with the offset it is shown in (the local zone's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateParts(pub DateTime<FixedOffset>);

impl DateParts {
    /// The cheap pre-check run on every string-to-number conversion:
    /// `dddd-dd-dd...`.
    pub(crate) fn looks_like_date(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-'
    }

    /// ODK Web Forms' `dateTimeFromString`, forgiving: anything it cannot
    /// read is `None`.
    pub(crate) fn parse(s: &str, env: &dyn Env) -> Option<DateParts> {
        Self::parse_strict(s, env).ok().flatten()
    }

    /// ODK Web Forms' `dateTimeFromString`: `YYYY-MM-DD` optionally followed
    /// by `T` and `HH`, `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`, optionally `Z`
    /// or `±HH:MM`; without an offset the time is local. Text of another
    /// shape is `Ok(None)`; the right shape with impossible values
    /// (2023-02-29, 25:00) is an error, as in Web Forms, except with a
    /// numeric offset, which Web Forms reads leniently as `None`.
    pub(crate) fn parse_strict(s: &str, env: &dyn Env) -> Result<Option<DateParts>, EvalError> {
        if !Self::looks_like_date(s) || !s.is_char_boundary(10) {
            return Ok(None);
        }
        let (date_part, rest) = s.split_at(10);
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        if !(digits(&date_part[..4]) && digits(&date_part[5..7]) && digits(&date_part[8..10])) {
            return Ok(None);
        }
        let (time_part, offset) = if rest.is_empty() {
            (None, None)
        } else {
            let Some(t) = rest.strip_prefix('T') else {
                return Ok(None);
            };
            match split_offset(t) {
                Some((time, off)) => (Some(time), off),
                None => return Ok(None),
            }
        };
        if let Some(t) = time_part
            && !time_shape_ok(t)
        {
            return Ok(None);
        }
        let numeric_offset = offset.is_some() && !rest.ends_with('Z');
        let invalid = || {
            if numeric_offset {
                Ok(None)
            } else {
                Err(EvalError::new(format!("invalid date or time '{s}'")))
            }
        };
        let Ok(date) = NaiveDate::parse_from_str(date_part, "%Y-%m-%d") else {
            return invalid();
        };
        let time = match time_part {
            None => NaiveTime::MIN,
            Some(t) => match parse_time(t) {
                Some(t) => t,
                None => return invalid(),
            },
        };
        let naive = date.and_time(time);
        Ok(Some(match offset {
            None => local(env, naive),
            Some(off) => {
                let Some(at) = off.from_local_datetime(&naive).single() else {
                    return invalid();
                };
                let instant = at.with_timezone(&Utc);
                DateParts(instant.with_timezone(&env.utc_offset(instant)))
            }
        }))
    }

    pub(crate) fn from_days(days: f64, env: &dyn Env) -> Option<DateParts> {
        if !days.is_finite() {
            return None;
        }
        let ms = (days * DAY_MS).round();
        if ms.abs() > 8.64e15 {
            return None;
        }
        let instant = Utc.timestamp_millis_opt(ms as i64).single()?;
        Some(DateParts(instant.with_timezone(&env.utc_offset(instant))))
    }

    pub(crate) fn epoch_ms(&self) -> f64 {
        self.0.timestamp_millis() as f64
    }

    pub(crate) fn epoch_days(&self) -> f64 {
        self.epoch_ms() / DAY_MS
    }

    /// Web Forms' `localDateTimeOrDateString`: `2024-01-15T10:30:00.000+00:00`,
    /// or just the date at local midnight.
    pub(crate) fn to_odk_string(self) -> String {
        let t = self.0;
        let date = format_year_date(t.date_naive());
        if t.hour() == 0 && t.minute() == 0 && t.second() == 0 && t.nanosecond() == 0 {
            return date;
        }
        // Temporal prints the fraction without trailing zeros (cut to ms
        // here), and ".000" when there is none.
        let ms = t.nanosecond() / 1_000_000;
        let frac = if ms == 0 {
            ".000".to_string()
        } else {
            let f = format!(".{ms:03}");
            f.trim_end_matches('0').to_string()
        };
        let off = t.offset().local_minus_utc();
        let sign = if off < 0 { '-' } else { '+' };
        let off = off.abs();
        format!(
            "{date}T{:02}:{:02}:{:02}{frac}{sign}{:02}:{:02}",
            t.hour(),
            t.minute(),
            t.second(),
            off / 3600,
            (off % 3600) / 60
        )
    }
}

fn format_year_date(d: NaiveDate) -> String {
    let y = d.year();
    if (0..=9999).contains(&y) {
        format!("{y:04}-{:02}-{:02}", d.month(), d.day())
    } else {
        // ISO 8601 expanded years, as Temporal writes them.
        let sign = if y < 0 { '-' } else { '+' };
        format!("{sign}{:06}-{:02}-{:02}", y.abs(), d.month(), d.day())
    }
}

fn local(env: &dyn Env, naive: NaiveDateTime) -> DateParts {
    let off = local_offset_for_naive(env, naive);
    let dt =
        off.from_local_datetime(&naive).single().unwrap_or_else(|| off.from_utc_datetime(&naive));
    DateParts(dt)
}

/// Splits `10:30:00+02:00` into the time and its offset (`Z` is UTC).
fn split_offset(s: &str) -> Option<(&str, Option<FixedOffset>)> {
    if let Some(t) = s.strip_suffix('Z') {
        return Some((t, FixedOffset::east_opt(0)));
    }
    if s.len() > 6 && s.is_char_boundary(s.len() - 6) {
        let (t, o) = s.split_at(s.len() - 6);
        let ob = o.as_bytes();
        if (ob[0] == b'+' || ob[0] == b'-') && ob[3] == b':' {
            let h: i32 = o.get(1..3)?.parse().ok()?;
            let m: i32 = o.get(4..6)?.parse().ok()?;
            // Web Forms accepts offsets up to ±14:59.
            if h > 14 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) * if ob[0] == b'-' { -1 } else { 1 };
            return Some((t, Some(FixedOffset::east_opt(secs)?)));
        }
    }
    Some((s, None))
}

/// Whether `t` has one of the shapes `HH`, `HH:MM`, `HH:MM:SS`,
/// `HH:MM:SS.f+` (values unchecked).
fn time_shape_ok(t: &str) -> bool {
    let two = |x: &str| x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit());
    let (main, frac) = match t.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (t, None),
    };
    let parts: Vec<&str> = main.split(':').collect();
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    frac_ok
        && parts.iter().all(|p| two(p))
        && match parts.len() {
            1 | 2 => frac.is_none(),
            3 => true,
            _ => false,
        }
}

/// `HH`, `HH:MM`, `HH:MM:SS`, `HH:MM:SS.f+` (two digits each).
fn parse_time(s: &str) -> Option<NaiveTime> {
    let two = |x: &str| -> Option<u32> {
        if x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit()) { x.parse().ok() } else { None }
    };
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => (m, Some(f)),
        Some(_) => return None,
        None => (s, None),
    };
    let parts: Vec<&str> = main.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [h] if frac.is_none() => (two(h)?, 0, 0),
        [h, m] if frac.is_none() => (two(h)?, two(m)?, 0),
        [h, m, s] => (two(h)?, two(m)?, two(s)?),
        _ => return None,
    };
    let nanos = match frac {
        Some(f) => {
            let digits: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
            digits.parse().ok()?
        }
        None => 0,
    };
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

impl<'a> Evaluator<'a> {
    pub(super) fn date_function(
        &self,
        f: Func,
        args: &'a [Expr],
        ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        let env = self.env;
        Ok(match f {
            Func::Now => {
                let now = env.now();
                Value::Str(Cow::Owned(
                    DateParts(now.with_timezone(&env.utc_offset(now))).to_odk_string(),
                ))
            }
            Func::Today => {
                let now = env.now();
                let local_now = now.with_timezone(&env.utc_offset(now));
                let d = local(env, local_now.date_naive().and_time(NaiveTime::MIN));
                Value::Str(Cow::Owned(d.to_odk_string()))
            }
            Func::Date | Func::DateTime => self.fn_date(&args[0], ctx)?,
            Func::DecimalDateTime => {
                let v = self.eval(&args[0], ctx)?;
                Value::Num(self.date_of(&v)?.map_or(f64::NAN, |d| d.epoch_days()))
            }
            Func::DecimalTime => {
                let s = self.eval_str(&args[0], ctx)?;
                Value::Num(decimal_time(&s, env))
            }
            Func::FormatDate | Func::FormatDateTime => {
                let v = self.eval_str(&args[0], ctx)?;
                let fmt = self.eval_str(&args[1], ctx)?;
                // Web Forms binds the unprefixed format-date to its
                // format-date-time, so both know the time directives.
                let out = match DateParts::parse_strict(&v, env)? {
                    None => String::new(),
                    Some(d) => format_date(&fmt, &d),
                };
                Value::Str(Cow::Owned(out))
            }
            _ => {
                return Err(EvalError::new(format!("{}() is not a date function", f.name())));
            }
        })
    }

    /// Web Forms' `evaluateDateTime`: numbers are days since the epoch,
    /// anything else is read as a date string.
    fn date_of(&self, v: &Value<'_>) -> EvalResult<Option<DateParts>> {
        match v {
            Value::Num(n) => Ok(DateParts::from_days(*n, self.env)),
            Value::Bool(_) => Err(EvalError::new("a boolean is not a date")),
            other => DateParts::parse_strict(&other.to_str(self.doc), self.env),
        }
    }

    /// `date(x)`: "" stays "", unpadded months and days are accepted
    /// (`2024-1-5`), numbers are days; an unreadable value is "Invalid Date".
    fn fn_date(&self, arg: &'a Expr, ctx: &Context) -> EvalResult<Value<'a>> {
        let v = self.eval(arg, ctx)?;
        let parsed = match &v {
            Value::Bool(_) => return Ok(Value::Str(Cow::Borrowed(""))),
            Value::Num(n) => DateParts::from_days(*n, self.env),
            _ => {
                let s = v.to_str(self.doc);
                if s.is_empty() {
                    return Ok(Value::Str(Cow::Borrowed("")));
                }
                DateParts::parse_strict(&pad_date(&s), self.env)?
            }
        };
        Ok(match parsed {
            Some(d) => Value::Str(Cow::Owned(d.to_odk_string())),
            None => Value::Str(Cow::Borrowed("Invalid Date")),
        })
    }
}

/// `2024-1-5...` becomes `2024-01-05...`.
fn pad_date(s: &str) -> Cow<'_, str> {
    let mut parts = s.splitn(3, '-');
    let (Some(y), Some(m), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Cow::Borrowed(s);
    };
    let d_end = rest.find('T').unwrap_or(rest.len());
    let (d, tail) = rest.split_at(d_end);
    let ok = |x: &str| (1..=2).contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit());
    if y.len() == 4 && ok(m) && ok(d) && (m.len() == 1 || d.len() == 1) {
        Cow::Owned(format!("{y}-{m:0>2}-{d:0>2}{tail}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn decimal_time(s: &str, env: &dyn Env) -> f64 {
    // Web Forms first checks the text is a Temporal PlainTime, which refuses `Z`.
    if s.ends_with('Z') {
        return f64::NAN;
    }
    let Some((t, off)) = split_offset(s) else {
        return f64::NAN;
    };
    let Some(time) = parse_time(t) else {
        return f64::NAN;
    };
    if t.len() < 5 {
        return f64::NAN; // `HH` alone is not a time here
    }
    let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let naive = date.and_time(time);
    // With an offset the time is moved to the local zone first.
    let local_time = match off {
        None => time,
        Some(o) => match o.from_local_datetime(&naive).single() {
            Some(dt) => {
                let utc = dt.with_timezone(&Utc);
                utc.with_timezone(&env.utc_offset(utc)).time()
            }
            None => return f64::NAN,
        },
    };
    f64::from(local_time.num_seconds_from_midnight()) / 86_400.0
        + f64::from(local_time.nanosecond() / 1_000_000) / DAY_MS
}

/// ODK's format-date-time directives; others are left as written.
fn format_date(fmt: &str, d: &DateParts) -> String {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    let t = d.0;
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(&k) = chars.peek() else {
            out.push('%');
            break;
        };
        let year = format!("{:04}", t.year());
        let s = match k {
            'Y' => year,
            'y' => year.get(2..).unwrap_or("").to_string(),
            'm' => format!("{:02}", t.month()),
            'n' => t.month().to_string(),
            'b' => MONTHS[t.month0() as usize].to_string(),
            'd' => format!("{:02}", t.day()),
            'e' => t.day().to_string(),
            'a' => DAYS[t.weekday().num_days_from_sunday() as usize].to_string(),
            'H' => format!("{:02}", t.hour()),
            'h' => t.hour().to_string(),
            'M' => format!("{:02}", t.minute()),
            'S' => format!("{:02}", t.second()),
            '3' => format!("{:03}", t.nanosecond() / 1_000_000),
            _ => {
                out.push('%');
                continue;
            }
        };
        chars.next();
        out.push_str(&s);
    }
    out
}

/// `now()` as ODK writes it (`2024-01-15T10:30:00.000+00:00`): for the
/// `start`/`end` metadata and `dateTime` defaults.
pub fn now_string(env: &dyn Env) -> String {
    let now = env.now();
    DateParts(now.with_timezone(&env.utc_offset(now))).to_odk_string()
}

/// `today()` as ODK writes it (`2024-01-15`), in the local zone.
pub fn today_string(env: &dyn Env) -> String {
    let now = env.now();
    let local_now = now.with_timezone(&env.utc_offset(now));
    format_year_date(local_now.date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::env::FixedEnv;

    #[test]
    fn parses_odk_date_strings() {
        let env = FixedEnv::default();
        let d = |s: &str| DateParts::parse(s, &env).map(|d| d.to_odk_string());
        assert_eq!(d("2024-01-15"), Some("2024-01-15".into()));
        assert_eq!(d("2024-01-15T10:30"), Some("2024-01-15T10:30:00.000+00:00".into()));
        assert_eq!(d("2024-01-15T10:30:00.5+02:00"), Some("2024-01-15T08:30:00.5+00:00".into()));
        assert_eq!(d("2024-02-30"), None);
        assert_eq!(d("2024-01-15 10:30"), None);
        assert_eq!(d("2024-01-15T25:00"), None);
        assert_eq!(DateParts::parse("2024-01-15", &env).map(|d| d.epoch_days()), Some(19737.0));
    }
}
