//! Cloud identities (Google service accounts, AWS role ARNs, Azure client ids) by their form.

use super::err;

/// The kind of cloud identity a string names, by its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudIdentity {
    /// A Google IAM service account email (`name@project.iam.gserviceaccount.com`).
    GoogleServiceAccount,
    /// An AWS IAM role ARN (`arn:aws:iam::123456789012:role/name`).
    AwsRole,
    /// An Azure client ID (a GUID).
    AzureClientId,
}

impl CloudIdentity {
    pub fn of(s: &str) -> Option<CloudIdentity> {
        if google_service_account(s) {
            Some(CloudIdentity::GoogleServiceAccount)
        } else if aws_role_arn(s) {
            Some(CloudIdentity::AwsRole)
        } else if guid(s) {
            Some(CloudIdentity::AzureClientId)
        } else {
            None
        }
    }

    /// What a valid value looks like, for messages.
    pub fn expected(self) -> &'static str {
        match self {
            CloudIdentity::GoogleServiceAccount => {
                "an IAM service account email like `hub-users@my-project.iam.gserviceaccount.com`"
            }
            CloudIdentity::AwsRole => {
                "an IAM role ARN like `arn:aws:iam::123456789012:role/hub-users`"
            }
            CloudIdentity::AzureClientId => {
                "a managed identity's client ID like `00000000-0000-0000-0000-000000000000`"
            }
        }
    }
}

fn google_service_account(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    label(local)
        && domain
            .strip_suffix("gserviceaccount.com")
            .and_then(|d| d.strip_suffix('.'))
            .is_some_and(|d| d.split('.').all(label))
}

fn aws_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let name_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    let Some(path) = resource.strip_prefix("role/") else {
        return false;
    };
    let segments: Vec<&str> = path.split('/').collect();
    let name = segments.last().copied().unwrap_or_default();
    arn == "arn"
        && partition.starts_with("aws")
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-')
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && !name.is_empty()
        && name.len() <= 64
        && path.len() <= 576
        && segments
            .iter()
            .all(|seg| !seg.is_empty() && seg.chars().all(name_char))
}

fn guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A cloud identity of any provider: which one the provider needs is
/// checked when the policy is compiled.
pub fn cloud_identity(s: &str) -> Result<(), String> {
    match CloudIdentity::of(s) {
        Some(_) => Ok(()),
        None => err(
            "an IAM service account email (GKE), an IAM role ARN (EKS) or a managed identity's client ID (AKS)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_identities() {
        use CloudIdentity::*;
        for (s, kind) in [
            (
                "hub-users@my-project.iam.gserviceaccount.com",
                GoogleServiceAccount,
            ),
            (
                "123-compute@developer.gserviceaccount.com",
                GoogleServiceAccount,
            ),
            ("arn:aws:iam::123456789012:role/hub-users", AwsRole),
            (
                "arn:aws-us-gov:iam::123456789012:role/team/hub_users+x",
                AwsRole,
            ),
            ("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", AzureClientId),
        ] {
            assert_eq!(CloudIdentity::of(s), Some(kind), "{s:?}");
        }
        for bad in [
            "",
            "hub-users@example.org",
            "hub users@p.iam.gserviceaccount.com",
            "x@.gserviceaccount.com",
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a\nb: c",
            "arn:aws:iam::123456789012:role/x\"y",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f",
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n",
        ] {
            assert!(cloud_identity(bad).is_err(), "{bad:?}");
        }
    }
}
