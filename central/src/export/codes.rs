//! Numeric codes for choices, shared by Stata and SPSS so that both files
//! code every answer the same way, and the missing-value scheme for
//! "don't know", "refused" and "not applicable" style choices.
//!
//! - A choice named by an integer keeps it as its code (`1`..`5`).
//! - Text choices are numbered 1, 2, ... in list order (`yes` 1, `no` 2);
//!   in a list whose other choices are integers they are missing-style.
//! - **Missing-style** choices: those named like don't know (`dk`,
//!   `dont_know`, ...), refused (`refused`, `ref`, `prefer_not`, ...) or not
//!   applicable (`na`, `n_a`, `not_applicable`); text choices in an integer
//!   list (`1`..`5` and `na`); negative integers in a list of non-negative
//!   ones (`-99`). They keep answers out of means and counts in both tools:
//!   Stata stores them as extended missing values (`.d` don't know, `.r`
//!   refused, `.n` not applicable, other letters in list order), SPSS as
//!   user-missing values: the choice's own number when it has one (`-99`),
//!   else -900 minus the letter's place (`.a` -901 ... `.d` -904 ... `.z`
//!   -926), declared missing for the variable.

/// A choice's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Valid(i32),
    /// Stata's `.a` is letter 1; `spss` is the user-missing value.
    Missing {
        letter: u8,
        spss: i32,
    },
}

impl Code {
    /// As Stata writes it: `5`, `.d`.
    pub fn stata(self) -> String {
        match self {
            Code::Valid(n) => n.to_string(),
            Code::Missing { letter, .. } => format!(".{}", (b'a' + letter - 1) as char),
        }
    }

    /// As SPSS stores it.
    pub fn spss(self) -> i32 {
        match self {
            Code::Valid(n) => n,
            Code::Missing { spss, .. } => spss,
        }
    }

    pub fn is_missing(self) -> bool {
        matches!(self, Code::Missing { .. })
    }
}

/// What a missing-style choice means, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    DontKnow,
    Refused,
    NotApplicable,
}

impl Meaning {
    fn letter(self) -> u8 {
        match self {
            Meaning::DontKnow => b'd' - b'a' + 1,
            Meaning::Refused => b'r' - b'a' + 1,
            Meaning::NotApplicable => b'n' - b'a' + 1,
        }
    }
}

/// Recognises don't know, refused and not applicable by a choice's name.
pub fn meaning(name: &str) -> Option<Meaning> {
    // Most values are none of these: decide without allocating.
    if name.len() > 24
        || !name
            .trim_start()
            .starts_with(['d', 'D', 'i', 'I', 'n', 'N', 'u', 'U', 'r', 'R', 'p', 'P'])
    {
        return None;
    }
    let n: String = name
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let n = n.trim_matches('_');
    match n {
        "dk" | "dont_know" | "don_t_know" | "do_not_know" | "dontknow" | "idk" | "not_sure"
        | "unknown" => Some(Meaning::DontKnow),
        "ref"
        | "refused"
        | "refuse"
        | "refusal"
        | "no_answer"
        | "prefer_not"
        | "prefer_not_to_say"
        | "prefer_not_to_answer"
        | "declined"
        | "decline"
        | "rf" => Some(Meaning::Refused),
        "na" | "n_a" | "not_applicable" | "notapplicable" | "nap" => Some(Meaning::NotApplicable),
        _ => None,
    }
}

fn as_int(s: &str) -> Option<i32> {
    s.parse::<i32>().ok().filter(|n| n.to_string() == s)
}

/// The codes of a list's choices, in list order.
pub fn codes(choices: &[String]) -> Vec<(String, Code)> {
    let ints: Vec<Option<i32>> = choices.iter().map(|c| as_int(c)).collect();
    let any_int = ints.iter().any(Option::is_some);
    let any_non_negative = ints.iter().flatten().any(|n| *n >= 0);
    let texts = ints.iter().filter(|i| i.is_none()).count();
    let missing: Vec<bool> = choices
        .iter()
        .zip(&ints)
        .map(|(c, i)| match i {
            Some(n) => *n < 0 && any_non_negative,
            None => meaning(c).is_some() || (any_int && texts <= 26),
        })
        .collect();
    // Letters: by meaning first, then the others in list order.
    let mut taken = [false; 27];
    let mut letters = vec![0u8; choices.len()];
    for (i, c) in choices.iter().enumerate() {
        if missing[i]
            && let Some(m) = meaning(c)
            && !taken[m.letter() as usize]
        {
            letters[i] = m.letter();
            taken[m.letter() as usize] = true;
        }
    }
    for i in 0..choices.len() {
        if missing[i] && letters[i] == 0 {
            // More than 26 missing-style choices: the rest are numbered as valid below.
            if let Some(l) = (1..=26u8).find(|l| !taken[*l as usize]) {
                letters[i] = l;
                taken[l as usize] = true;
            }
        }
    }
    let numbered = !any_int || texts > 26;
    let mut next = 0;
    choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let code = if letters[i] > 0 {
                let spss = ints[i].unwrap_or(-900 - i32::from(letters[i]));
                Code::Missing { letter: letters[i], spss }
            } else if let (false, Some(n)) = (numbered, ints[i]) {
                Code::Valid(n)
            } else {
                next += 1;
                Code::Valid(next)
            };
            (c.clone(), code)
        })
        .collect()
}

/// SPSS declares at most three discrete user-missing values, or a range
/// and one more value. The declaration for these missing codes, with no
/// valid code inside the range: (discrete values) or (low, high, one more).
#[derive(Debug, Clone, PartialEq)]
pub enum SpssMissing {
    None,
    Discrete(Vec<f64>),
    Range { low: f64, high: f64, also: Option<f64> },
}

pub fn spss_missing(codes: &[(String, Code)]) -> SpssMissing {
    let mut missing: Vec<i32> =
        codes.iter().filter(|(_, c)| c.is_missing()).map(|(_, c)| c.spss()).collect();
    missing.sort_unstable();
    missing.dedup();
    let valid: Vec<i32> = codes
        .iter()
        .filter_map(|(_, c)| if let Code::Valid(n) = c { Some(*n) } else { None })
        .collect();
    match missing.as_slice() {
        [] => SpssMissing::None,
        m if m.len() <= 3 => SpssMissing::Discrete(m.iter().map(|n| f64::from(*n)).collect()),
        m => {
            // The widest run of missing codes with no valid code inside,
            // plus one more discrete value if only one is left out.
            let clear = |lo: i32, hi: i32| !valid.iter().any(|v| *v >= lo && *v <= hi);
            let (lo, hi) = (m[0], m[m.len() - 1]);
            if clear(lo, hi) {
                return SpssMissing::Range { low: f64::from(lo), high: f64::from(hi), also: None };
            }
            if clear(m[0], m[m.len() - 2]) {
                return SpssMissing::Range {
                    low: f64::from(m[0]),
                    high: f64::from(m[m.len() - 2]),
                    also: Some(f64::from(m[m.len() - 1])),
                };
            }
            if clear(m[1], m[m.len() - 1]) {
                return SpssMissing::Range {
                    low: f64::from(m[1]),
                    high: f64::from(m[m.len() - 1]),
                    also: Some(f64::from(m[0])),
                };
            }
            SpssMissing::Discrete(m.iter().take(3).map(|n| f64::from(*n)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    fn code_of(c: &[(String, Code)], name: &str) -> Code {
        c.iter().find(|(n, _)| n == name).map(|(_, c)| *c).expect("choice")
    }

    #[test]
    fn integers_keep_their_value_and_missing_style_choices_are_missing_in_both_tools() {
        let c = codes(&v(&["1", "2", "5", "na", "dk"]));
        assert_eq!(code_of(&c, "5"), Code::Valid(5));
        assert_eq!(code_of(&c, "na"), Code::Missing { letter: 14, spss: -914 });
        assert_eq!(code_of(&c, "na").stata(), ".n");
        assert_eq!(code_of(&c, "dk").stata(), ".d");
        assert_eq!(code_of(&c, "dk").spss(), -904);
        // Text in an integer list that means nothing known is still missing.
        let c = codes(&v(&["1", "2", "other_missing"]));
        assert_eq!(code_of(&c, "other_missing").stata(), ".a");
        // Negative integers in a list of non-negative ones: their own number in SPSS.
        let c = codes(&v(&["0", "1", "-99", "-98"]));
        assert_eq!(code_of(&c, "-99"), Code::Missing { letter: 1, spss: -99 });
        assert_eq!(code_of(&c, "-98").stata(), ".b");
        assert_eq!(code_of(&c, "1"), Code::Valid(1));
    }

    #[test]
    fn text_lists_are_numbered_in_order_with_dont_know_kept_missing() {
        let c = codes(&v(&["yes", "no"]));
        assert_eq!(c, vec![("yes".into(), Code::Valid(1)), ("no".into(), Code::Valid(2))]);
        let c = codes(&v(&["a", "b", "c", "d", "dk"]));
        assert_eq!(code_of(&c, "d"), Code::Valid(4));
        assert_eq!(code_of(&c, "dk").stata(), ".d");
        // "01" is not the integer 1: it would lose its leading zero.
        assert_eq!(codes(&v(&["01", "02"]))[1].1, Code::Valid(2));
        assert_eq!(meaning("Don't Know"), Some(Meaning::DontKnow));
        assert_eq!(meaning("prefer-not-to-say"), Some(Meaning::Refused));
        assert_eq!(meaning("nano"), None);
    }

    #[test]
    fn spss_declares_what_it_can_hold() {
        let c = codes(&v(&["1", "2", "na", "dk"]));
        assert_eq!(spss_missing(&c), SpssMissing::Discrete(vec![-914.0, -904.0]));
        let c = codes(&v(&["1", "2", "a1", "a2", "a3", "a4"]));
        assert_eq!(spss_missing(&c), SpssMissing::Range { low: -904.0, high: -901.0, also: None });
        assert_eq!(spss_missing(&codes(&v(&["yes", "no"]))), SpssMissing::None);
    }
}
