//! Volume paths: absolute and relative paths, and KubeSpawner subPath templates.

use super::{err, printable};

pub fn abs_path(s: &str) -> Result<(), String> {
    printable(s)?;
    let ok = s.starts_with('/')
        && s.len() <= 1024
        && !s.split('/').any(|p| p == "..")
        && !s.contains(['"', '\'', '\\']);
    if ok {
        Ok(())
    } else {
        err("an absolute path like `/exports/home` (no `..`, no quotes)")
    }
}

pub fn rel_path(s: &str) -> Result<(), String> {
    printable(s)?;
    if s.is_empty() || s.len() > 1024 {
        return err("a file path relative to the policy file");
    }
    Ok(())
}

/// KubeSpawner template fields that name the user (or the user's server),
/// on any chart line; which line has which is checked on compile.
pub const SUB_PATH_USER_FIELDS: &[&str] = &[
    "username",
    "userid",
    "safe_username",
    "escaped_username",
    "legacy_escape_username",
    "user_server",
    "safe_user_server",
    "escaped_user_server",
];

/// Other fields a subPath may use (they do not name the user).
pub const SUB_PATH_OTHER_FIELDS: &[&str] = &[
    "servername",
    "safe_servername",
    "escaped_servername",
    "hubnamespace",
];

/// The `{field}`s of a subPath template, in order, or why it is not one:
/// literal parts are letters, digits, `.`, `_` and `-`.
pub fn sub_path_fields(s: &str) -> Result<Vec<&str>, String> {
    const EXPECTED: &str = "a relative path of letters, digits, `.`, `_`, `-` and KubeSpawner fields naming the user, like `{username}` or `home/{username}`";
    if s.is_empty() || s.len() > 255 || s.starts_with('/') || s.ends_with('/') {
        return err(EXPECTED);
    }
    let mut fields = Vec::new();
    for segment in s.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return err(EXPECTED);
        }
        let mut rest = segment;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let Some((field, tail)) = after.split_once('}') else {
                    return err(EXPECTED);
                };
                if field.starts_with("unescaped_") {
                    return err(
                        "a subPath without `{unescaped_…}` fields: raw names are not escaped, so whatever the authenticator allows in a name (`/`, `..`) reaches the path",
                    );
                }
                if !SUB_PATH_USER_FIELDS.contains(&field) && !SUB_PATH_OTHER_FIELDS.contains(&field)
                {
                    return err(EXPECTED);
                }
                fields.push(field);
                rest = tail;
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                if !rest[..end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                {
                    return err(EXPECTED);
                }
                rest = &rest[end..];
            }
        }
    }
    if !fields.iter().any(|f| SUB_PATH_USER_FIELDS.contains(f)) {
        return err(
            "a subPath with a field naming the user, like `{username}`: without one every user gets the same directory",
        );
    }
    Ok(fields)
}

pub fn sub_path(s: &str) -> Result<(), String> {
    sub_path_fields(s).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_paths() {
        assert_eq!(sub_path_fields("{username}"), Ok(vec!["username"]));
        assert_eq!(
            sub_path_fields("home/{escaped_username}-{servername}"),
            Ok(vec!["escaped_username", "servername"])
        );
        assert!(sub_path("users/{userid}").is_ok());
        for bad in [
            "",
            "/home/{username}",
            "home/",
            "home//{username}",
            "../{username}",
            "home/./{username}",
            "shared",
            "{servername}",
            "{unescaped_username}",
            "{username",
            "{user}",
            "{username:>10}",
            "home dir/{username}",
            "{username}\n",
        ] {
            assert!(sub_path(bad).is_err(), "{bad:?}");
        }
    }
}
