//! Published security advisories fixed by a z2jh release, from the chart's
//! changelog and the advisories it links (summaries in our own words).
//! Each lists the chart releases known to ship the vulnerable component and
//! the first release of each line that fixes it.

use super::version::Version;

/// One advisory.
#[derive(Debug, Clone, Copy)]
pub struct Advisory {
    /// GHSA id (and CVE id when assigned).
    pub id: &'static str,
    pub cve: Option<&'static str>,
    /// The component inside the chart's images that is vulnerable.
    pub component: &'static str,
    pub summary: &'static str,
    /// Affected chart releases: `(first, last)`, both inclusive.
    pub affected: &'static [(&'static str, &'static str)],
    /// First fixed release per line (`None`: the line has no fix).
    pub fixed: &'static [(u32, Option<&'static str>)],
}

pub const ADVISORIES: &[Advisory] = &[
    Advisory {
        id: "GHSA-9x4q-3gxw-849f",
        cve: Some("CVE-2024-41942"),
        component: "JupyterHub 4.0.2-4.1.5",
        summary: "a user granted the `admin:users` scope can make themselves a full admin",
        affected: &[("3.0.0", "3.3.7")],
        fixed: &[(3, Some("3.3.8"))],
    },
    Advisory {
        id: "GHSA-3vff-hjqv-m7h8",
        cve: Some("CVE-2026-33709"),
        component: "JupyterHub before 5.4.4",
        summary: "open redirect: a crafted link to the hub can send a logged-in user to another site",
        affected: &[("4.0.0", "4.3.2")],
        fixed: &[(4, Some("4.3.3"))],
    },
    Advisory {
        id: "GHSA-rrvg-cxh4-qhrv",
        cve: Some("CVE-2026-33175"),
        component: "OAuthenticator before 17.4.0 (Auth0OAuthenticator)",
        summary: "Auth0 logins are accepted without a verified e-mail address",
        affected: &[("4.0.0", "4.3.2")],
        fixed: &[(4, Some("4.3.3"))],
    },
    Advisory {
        id: "GHSA-8mxq-7xr7-2fxj",
        cve: Some("CVE-2026-34052"),
        component: "jupyterhub-ltiauthenticator before 1.6.3 (LTI 1.1)",
        summary: "nonces are kept without bound before the signature is checked, so a client knowing a consumer key can exhaust the hub's memory",
        affected: &[("3.0.0", "3.3.8"), ("4.0.0", "4.3.2")],
        fixed: &[(3, None), (4, Some("4.3.3"))],
    },
    Advisory {
        id: "GHSA-m68r-v472-jgq9",
        cve: Some("CVE-2026-40864"),
        component: "JupyterHub 4.1.0-5.4.4",
        summary: "XSRF checks of form endpoints (/hub/spawn, /hub/accept-share) are skipped for `Sec-Fetch-Mode: no-cors` requests",
        affected: &[("3.3.0", "3.3.8"), ("4.0.0", "4.3.3")],
        fixed: &[(3, None), (4, Some("4.3.4"))],
    },
    Advisory {
        id: "GHSA-p43p-whwx-q52h",
        cve: None,
        component: "JupyterHub before 5.5.0",
        summary: "denial of service of the hub",
        affected: &[("4.0.0", "4.3.5")],
        fixed: &[(4, Some("4.4.0"))],
    },
];

/// An advisory that applies to a release, with the release that fixes it.
#[derive(Debug, Clone, Copy)]
pub struct Applies {
    pub advisory: &'static Advisory,
    /// The first fixed release of the same line, if the line has one.
    pub fixed_in_line: Option<&'static str>,
    /// The first fixed release of any newer line, when the line has none.
    pub fixed_later: Option<&'static str>,
}

fn v(s: &str) -> Version {
    Version::parse(s).expect("advisory table holds release numbers")
}

/// Advisories that apply to `version`, oldest fix first.
pub fn affecting(version: &str) -> Vec<Applies> {
    let Some(at) = Version::parse(version) else {
        return Vec::new();
    };
    ADVISORIES
        .iter()
        .filter(|a| a.affected.iter().any(|(lo, hi)| v(lo) <= at && at <= v(hi)))
        .map(|a| {
            let in_line = a
                .fixed
                .iter()
                .find(|(line, _)| *line == at.major)
                .and_then(|(_, f)| *f);
            let later = a
                .fixed
                .iter()
                .filter(|(line, _)| *line > at.major)
                .find_map(|(_, f)| *f);
            Applies {
                advisory: a,
                fixed_in_line: in_line,
                fixed_later: if in_line.is_none() { later } else { None },
            }
        })
        .collect()
}

impl Applies {
    /// The release to upgrade to.
    pub fn fix(&self) -> Option<&'static str> {
        self.fixed_in_line.or(self.fixed_later)
    }

    /// `GHSA-… (CVE-…)`.
    pub fn ids(&self) -> String {
        match self.advisory.cve {
            Some(c) => format!("{} ({c})", self.advisory.id),
            None => self.advisory.id.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::releases;

    #[test]
    fn table_names_known_releases_only() {
        for a in ADVISORIES {
            for (lo, hi) in a.affected {
                assert!(
                    releases::find(lo).is_some() && releases::find(hi).is_some(),
                    "{}",
                    a.id
                );
                assert!(v(lo) <= v(hi));
            }
            for (line, f) in a.fixed {
                if let Some(f) = f {
                    assert!(releases::find(f).is_some(), "{}: {f}", a.id);
                    assert_eq!(v(f).major, *line);
                    // The fix is newer than every affected release of its line.
                    assert!(
                        a.affected
                            .iter()
                            .all(|(_, hi)| v(hi).major != *line || v(hi) < v(f))
                    );
                }
            }
        }
    }

    #[test]
    fn latest_release_of_each_fixed_line_is_clean() {
        assert!(affecting(&releases::latest().version).is_empty());
        let ids = |v: &str| {
            affecting(v)
                .iter()
                .map(|a| a.advisory.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("4.3.3"), ["GHSA-m68r-v472-jgq9", "GHSA-p43p-whwx-q52h"]);
        let a = affecting("3.3.8");
        let xsrf = a
            .iter()
            .find(|a| a.advisory.id == "GHSA-m68r-v472-jgq9")
            .unwrap();
        assert_eq!(
            (xsrf.fixed_in_line, xsrf.fixed_later),
            (None, Some("4.3.4"))
        );
        let admin = affecting("3.2.1");
        assert!(admin.iter().any(|a| a.fixed_in_line == Some("3.3.8")));
    }
}
