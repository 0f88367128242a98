//! Chart release numbers (`major.minor.patch`), ordered numerically.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    /// Parses `4.4.0`; anything else (pre-releases included) is `None`.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.split('.');
        let mut next = || -> Option<u32> {
            let p = parts.next()?;
            if p.is_empty() || p.len() > 5 || !p.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let v = Version {
            major: next()?,
            minor: next()?,
            patch: next()?,
        };
        parts.next().is_none().then_some(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_numerically() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("4.10.0") > v("4.9.3"));
        assert!(v("3.3.8") < v("4.0.0"));
        assert_eq!(v("4.3.5").to_string(), "4.3.5");
        for bad in ["4.4", "4.4.0.1", "4.0.0-beta.1", "v4.4.0", "4..0", ""] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }
}
