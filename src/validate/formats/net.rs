//! IP addresses and CIDRs: parsing, checking and containment.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::err;

pub fn ipv4(s: &str) -> Result<(), String> {
    s.parse::<Ipv4Addr>()
        .map(|_| ())
        .map_err(|_| "an IPv4 address like `169.254.169.254`".to_string())
}

/// A parsed CIDR: the address as the high bits of a `u128` (an IPv4 address
/// in the top 32), so one prefix mask serves both families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub v6: bool,
    bits: u128,
    pub len: u8,
}

impl Cidr {
    fn mask(self) -> u128 {
        if self.len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(self.len))
        }
    }
    /// The network address as text (host bits cleared).
    fn network(self) -> String {
        let net = self.bits & self.mask();
        if self.v6 {
            Ipv6Addr::from(net).to_string()
        } else {
            Ipv4Addr::from((net >> 96) as u32).to_string()
        }
    }
}

/// Parses an IPv4 or IPv6 CIDR (`10.0.0.0/8`, `2001:db8::/32`).
pub fn parse_cidr(s: &str) -> Option<Cidr> {
    let (addr, len) = s.split_once('/')?;
    if len.is_empty() || len.len() > 3 || !len.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let len: u8 = len.parse().ok()?;
    if let Ok(a) = addr.parse::<Ipv4Addr>() {
        return (len <= 32).then_some(Cidr {
            v6: false,
            bits: u128::from(u32::from(a)) << 96,
            len,
        });
    }
    // Only the plain form: no zone (`%eth0`) and no IPv4-mapped dotted tail.
    let a: Ipv6Addr = addr.parse().ok()?;
    (len <= 128 && !addr.contains('.')).then_some(Cidr {
        v6: true,
        bits: u128::from(a),
        len,
    })
}

pub fn cidr(s: &str) -> Result<(), String> {
    let Some(c) = parse_cidr(s) else {
        return err(
            "a CIDR like `10.0.0.0/8` or `2001:db8::/32` (address/prefix length, 0-32 for IPv4, 0-128 for IPv6)",
        );
    };
    if c.bits & !c.mask() != 0 {
        return Err(format!(
            "a CIDR whose host bits are zero (did you mean `{}/{}`?)",
            c.network(),
            c.len
        ));
    }
    Ok(())
}

/// True when `inner` lies entirely inside `outer` (never across families).
pub fn cidr_contains(outer: &str, inner: &str) -> bool {
    match (parse_cidr(outer), parse_cidr(inner)) {
        (Some(o), Some(i)) => {
            o.v6 == i.v6 && i.len >= o.len && (o.bits & o.mask()) == (i.bits & o.mask())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert!(cidr("10.0.0.0/8").is_ok());
        assert!(cidr("0.0.0.0/0").is_ok());
        assert!(cidr("10.0.0.1/32").is_ok());
        assert!(cidr("10.0.0.0/33").is_err());
        assert!(cidr("10.0.0.0").is_err());
        assert!(cidr("10.0.0.0/+8").is_err());
        assert!(cidr("300.0.0.0/8").is_err());
        assert!(cidr("10.1.0.0/8").unwrap_err().contains("10.0.0.0/8"));
        assert!(cidr_contains("10.0.0.0/8", "10.2.0.0/16"));
        assert!(cidr("2001:db8::/32").is_ok());
        assert!(cidr("::/0").is_ok());
        assert!(cidr("fd00:ec2::254/128").is_ok());
        assert!(
            cidr("2001:db8::1/32")
                .unwrap_err()
                .contains("`2001:db8::/32`")
        );
        assert!(cidr("2001:db8::/129").is_err());
        assert!(cidr("fe80::1%eth0/64").is_err());
        assert!(cidr("::ffff:10.0.0.0/104").is_err());
        assert!(cidr_contains("2001:db8::/32", "2001:db8:1::/48"));
        assert!(!cidr_contains("2001:db8::/32", "2001:db9::/48"));
        assert!(!cidr_contains("0.0.0.0/0", "::/0"));
        assert!(!cidr_contains("::/0", "10.0.0.0/8"));
        assert!(!cidr_contains("10.0.0.0/16", "10.2.0.0/16"));
    }
}
