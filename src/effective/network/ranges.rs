//! Address ranges: CIDRs as numeric intervals, and sets of them with overlap and subtraction.

use std::net::IpAddr;

/// An address range `[lo, hi]` in one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    pub v6: bool,
    pub lo: u128,
    pub hi: u128,
}

impl Range {
    /// A CIDR (`10.0.0.0/8`, `fd00::/8`, or a bare address).
    pub fn parse(cidr: &str) -> Option<Range> {
        let (addr, len) = match cidr.trim().split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u32>().ok()?)),
            None => (cidr.trim(), None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let (v6, bits, n) = match ip {
            IpAddr::V4(a) => (false, 32u32, u128::from(u32::from(a))),
            IpAddr::V6(a) => (true, 128u32, u128::from(a)),
        };
        let len = len.unwrap_or(bits);
        if len > bits {
            return None;
        }
        let host_bits = bits - len;
        let mask: u128 = if host_bits == 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        Some(Range {
            v6,
            lo: n & !mask,
            hi: (n & !mask) | mask,
        })
    }

    fn overlaps(&self, o: &Range) -> bool {
        self.v6 == o.v6 && self.lo <= o.hi && o.lo <= self.hi
    }
}

/// A set of ranges (sorted, disjoint within a family).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranges(pub Vec<Range>);

impl Ranges {
    pub fn of(cidrs: &[&str]) -> Ranges {
        Ranges(cidrs.iter().filter_map(|c| Range::parse(c)).collect())
    }

    /// `self` without `cut`.
    pub fn minus(&self, cut: &[Range]) -> Ranges {
        let mut out = self.0.clone();
        for c in cut {
            let mut next = Vec::new();
            for r in out {
                if !r.overlaps(c) {
                    next.push(r);
                    continue;
                }
                if r.lo < c.lo {
                    next.push(Range { hi: c.lo - 1, ..r });
                }
                if r.hi > c.hi {
                    next.push(Range { lo: c.hi + 1, ..r });
                }
            }
            out = next;
        }
        Ranges(out)
    }

    /// Addresses in both sets: (IPv4 count, IPv6 count).
    pub fn common(&self, other: &Ranges) -> (u128, u128) {
        let (mut v4, mut v6) = (0u128, 0u128);
        for a in &self.0 {
            for b in &other.0 {
                if a.overlaps(b) {
                    let n = a.hi.min(b.hi) - a.lo.max(b.lo);
                    let n = n.saturating_add(1);
                    if a.v6 {
                        v6 = v6.saturating_add(n);
                    } else {
                        v4 = v4.saturating_add(n);
                    }
                }
            }
        }
        (v4, v6)
    }

    pub fn overlaps(&self, other: &Ranges) -> bool {
        self.0.iter().any(|a| other.0.iter().any(|b| a.overlaps(b)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
