//! Built-in presets, compiled into the binary from `policies/`.

/// (name, file text), weakest first.
pub const PRESETS: &[(&str, &str)] = &[
    ("baseline", include_str!("../../policies/baseline.yaml")),
    ("restricted", include_str!("../../policies/restricted.yaml")),
];

/// The preset every chain starts from when a policy names no parent.
pub const DEFAULT_PARENT: &str = "baseline";

pub fn get(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|(n, _)| *n)
}
