//! Plots as SVG text, drawn on the server: the report needs no JavaScript
//! and opens in any browser, offline, or inside an email.

use std::fmt::Write as _;

/// Text safe inside SVG and HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const LABEL_W: f64 = 120.0;
const PLOT_W: f64 = 260.0;
const ROW_H: f64 = 22.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 26.0;

fn fmt(x: f64) -> String {
    if x.abs() >= 100.0 || x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.1}") }
}

/// A "nice" upper end for an axis holding `max`.
fn nice(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(max.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * mag >= max {
            return m * mag;
        }
    }
    10.0 * mag
}

fn axis(s: &mut String, top: f64, height: f64, max: f64, unit: &str) {
    for i in 0..=4 {
        let x = LABEL_W + PLOT_W * f64::from(i) / 4.0;
        let v = max * f64::from(i) / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#555">{}</text>"##,
            top + height,
            top + height + 16.0,
            esc(&format!("{}{unit}", fmt(v)))
        );
    }
}

fn open(title: &str, rows: usize) -> (String, f64) {
    let height = ROW_H * rows.max(1) as f64;
    let total_h = TOP + height + BOTTOM;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{total_h:.0}" viewBox="0 0 {w:.0} {total_h:.0}" role="img" aria-label="{t}" font-family="sans-serif"><title>{t}</title><text x="4" y="16" font-size="13" font-weight="bold">{t}</text>"##,
        w = LABEL_W + PLOT_W + 60.0,
        t = esc(title)
    );
    (s, height)
}

/// Horizontal bars: (label, value, highlighted); the axis ends at `max`
/// (100 for percentages) or at a round number above the largest value.
pub fn bars(title: &str, items: &[(String, f64, bool)], unit: &str, max: Option<f64>) -> String {
    let (mut s, height) = open(title, items.len());
    let max = max.unwrap_or_else(|| nice(items.iter().map(|i| i.1).fold(0.0, f64::max)));
    axis(&mut s, TOP, height, max, unit);
    for (i, (label, v, hot)) in items.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        let w = (PLOT_W * v / max).max(0.0);
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text><rect x="{LABEL_W}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#333">{}</text>"##,
            LABEL_W - 6.0,
            y + 15.0,
            esc(label),
            y + 4.0,
            ROW_H - 8.0,
            if *hot { "#d9534f" } else { "#4a7ebb" },
            LABEL_W + w + 4.0,
            y + 15.0,
            esc(&format!("{}{unit}", fmt(*v)))
        );
    }
    s.push_str("</svg>");
    s
}

/// Five numbers of a box plot: min, q1, median, q3, max.
pub fn five(values: &[f64]) -> Option<[f64; 5]> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| super::quantile(&v, p);
    Some([v[0], q(0.25), q(0.5), q(0.75), v[v.len() - 1]])
}

/// Horizontal box plots, one per group, sharing an axis from 0; points
/// outside `fences` drawn in red.
pub fn boxplots(
    title: &str,
    groups: &[(String, Vec<f64>)],
    fences: Option<(f64, f64)>,
    unit: &str,
) -> String {
    let (mut s, height) = open(title, groups.len());
    let max = nice(groups.iter().flat_map(|g| g.1.iter().copied()).fold(0.0, f64::max));
    axis(&mut s, TOP, height, max, unit);
    let x = |v: f64| LABEL_W + PLOT_W * (v.max(0.0) / max).min(1.0);
    for (i, (label, values)) in groups.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        let mid = y + ROW_H / 2.0;
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text>"##,
            LABEL_W - 6.0,
            y + 15.0,
            esc(&format!("{label} (n={})", values.len()))
        );
        let Some([lo, q1, med, q3, hi]) = five(values) else { continue };
        // Whiskers reach the furthest values inside the fences; those
        // outside are the red points.
        let (lo, hi) = match fences {
            Some((low, high)) => {
                let inside = values.iter().copied().filter(|v| *v >= low && *v <= high);
                inside.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)))
            }
            None => (lo, hi),
        };
        let (lo, hi) = if lo.is_finite() { (lo.min(q1), hi.max(q3)) } else { (q1, q3) };
        let _ = write!(
            s,
            r##"<line x1="{:.1}" y1="{mid:.1}" x2="{:.1}" y2="{mid:.1}" stroke="#333"/><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#cfe0f3" stroke="#333"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333" stroke-width="2"/>"##,
            x(lo),
            x(hi),
            x(q1),
            y + 4.0,
            (x(q3) - x(q1)).max(1.0),
            ROW_H - 8.0,
            x(med),
            y + 3.0,
            x(med),
            y + ROW_H - 3.0
        );
        if let Some((low, high)) = fences {
            for v in values.iter().filter(|v| **v < low || **v > high) {
                let _ = write!(
                    s,
                    r##"<circle cx="{:.1}" cy="{mid:.1}" r="3" fill="#d9534f"/>"##,
                    x(*v)
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_escape_their_text_and_scale_to_the_largest_value() {
        let s = bars(
            "DK <rate>",
            &[("enum & co".into(), 0.5, false), ("b".into(), 2.0, true)],
            "%",
            None,
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("DK &lt;rate&gt;") && s.contains("enum &amp; co"));
        assert!(s.contains("#d9534f"));
        assert_eq!(nice(7.3), 10.0);
        assert_eq!(nice(0.0), 1.0);
        let b = boxplots(
            "Minutes",
            &[("e1".into(), vec![10.0, 20.0, 30.0, 200.0])],
            Some((0.0, 100.0)),
            "",
        );
        assert_eq!(b.matches("<circle").count(), 1);
        assert_eq!(five(&[1.0, 2.0, 3.0, 4.0, 5.0]), Some([1.0, 2.0, 3.0, 4.0, 5.0]));
    }
}
