//! `area`, `distance` and `geofence` over ODK geopoint / geotrace /
//! geoshape strings (`lat lon [alt [acc]]`, points joined by `;`), with the
//! formulas and rounding of ODK Web Forms (spherical earth of radius
//! 6,378,100 m, results rounded to centimetres).

use super::Func;
use crate::expr::ast::Expr;
use crate::expr::eval::{Context, EvalError, EvalResult, Evaluator};
use crate::expr::value::{Value, js_number};

const EARTH_RADIUS_M: f64 = 6_378_100.0;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    lat: f64,
    lon: f64,
}

/// JavaScript's `s.split(/\s+/)`: empty strings at either end are kept.
fn js_split_ws(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        match rest.find(char::is_whitespace) {
            None => {
                out.push(rest);
                return out;
            }
            Some(i) => {
                out.push(&rest[..i]);
                let after = &rest[i..];
                let skip = after.len() - after.trim_start().len();
                rest = &after[skip..];
            }
        }
    }
}

fn parse_point(s: &str) -> Option<Point> {
    let parts = js_split_ws(s);
    if !(2..=4).contains(&parts.len()) {
        return None;
    }
    let lat = js_number(parts[0]);
    let lon = js_number(parts[1]);
    // As in Web Forms, only out-of-range degrees are refused.
    if lat.abs() > 90.0 || lon.abs() > 180.0 {
        return None;
    }
    Some(Point { lat, lon })
}

/// A trace from one `p; p; p` string or from one point per value.
fn parse_trace(values: &[String]) -> Option<Vec<Point>> {
    let points: Vec<Option<Point>> = match values {
        [] => return None,
        [one] => {
            let t = one.trim();
            let t = t.trim_end_matches(|c: char| c == ';' || c.is_whitespace());
            t.split(';').map(|p| parse_point(p.trim())).collect()
        }
        many => many.iter().map(|p| parse_point(p)).collect(),
    };
    if points.len() < 2 {
        return None;
    }
    points.into_iter().collect()
}

fn to_cm(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { (super::strings::js_round(v * 100.0) / 100.0).abs() }
}

fn area(points: &[Point]) -> f64 {
    if points.len() < 3 {
        return 0.0;
    }
    let mut ring: Vec<Point> = points.to_vec();
    if ring.first() != ring.last() {
        ring.push(points[0]);
    }
    let total: f64 = ring
        .windows(2)
        .map(|w| {
            (w[1].lon - w[0].lon).to_radians()
                * (2.0 + w[1].lat.to_radians().sin() + w[0].lat.to_radians().sin())
        })
        .sum();
    total * EARTH_RADIUS_M * EARTH_RADIUS_M / 2.0
}

fn distance(a: Point, b: Point) -> f64 {
    let dl = (a.lon - b.lon).to_radians();
    let (p0, p1) = (a.lat.to_radians(), b.lat.to_radians());
    (p0.sin() * p1.sin() + p0.cos() * p1.cos() * dl.cos()).acos() * EARTH_RADIUS_M
}

/// Ray casting; the shape must be closed (first point = last point).
fn inside(p: Point, shape: &[Point]) -> bool {
    let mut result = false;
    for w in shape.windows(2) {
        let (p1, p2) = (w[0], w[1]);
        if (p2.lat > p.lat) != (p1.lat > p.lat)
            && p.lon < (p1.lon - p2.lon) * (p.lat - p2.lat) / (p1.lat - p2.lat) + p2.lon
        {
            result = !result;
        }
    }
    result
}

impl<'a> Evaluator<'a> {
    pub(super) fn geo_function(
        &self,
        f: Func,
        args: &'a [Expr],
        ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        let values: Vec<String> =
            self.all_strings(args, ctx)?.into_iter().map(|s| s.into_owned()).collect();
        Ok(match f {
            Func::Area => Value::Num(to_cm(parse_trace(&values).map_or(0.0, |t| area(&t)))),
            Func::Distance => {
                let trace = parse_trace(&values).ok_or_else(|| {
                    EvalError::new(
                        "distance() received a value that does not represent GPS coordinates",
                    )
                })?;
                Value::Num(to_cm(trace.windows(2).map(|w| distance(w[0], w[1])).sum()))
            }
            Func::Geofence => {
                let (Some(point), Some(shape)) = (values.first(), values.get(1)) else {
                    return Ok(Value::Bool(false));
                };
                let p = parse_point(point);
                let s = parse_trace(std::slice::from_ref(shape));
                Value::Bool(match (p, s) {
                    (Some(p), Some(s)) if s.first() == s.last() => inside(p, &s),
                    _ => false,
                })
            }
            _ => {
                return Err(EvalError::new(format!("{}() is not a geo function", f.name())));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_javascript() {
        assert_eq!(js_split_ws("1 2"), vec!["1", "2"]);
        assert_eq!(js_split_ws(" 1  2 "), vec!["", "1", "2", ""]);
    }
}
