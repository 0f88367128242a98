//! Kubernetes quantities: memory and storage sizes, CPU, and their values.

use super::err;

/// Splits a Kubernetes quantity into its number and suffix.
fn split_quantity(s: &str) -> Option<(&str, &str)> {
    let idx = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(idx);
    let valid_num = !num.is_empty()
        && num.chars().filter(|&c| c == '.').count() <= 1
        && num != "."
        && num.len() <= 15;
    valid_num.then_some((num, suffix))
}

/// Value of a quantity in its base unit (bytes, cores, bits/s).
pub fn quantity_value(s: &str) -> Option<f64> {
    let (num, suffix) = split_quantity(s)?;
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "Pi" => 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(n * mult)
}

pub fn quantity(s: &str) -> Result<(), String> {
    match quantity_value(s) {
        Some(v) if v > 0.0 => Ok(()),
        Some(_) => err("a quantity greater than zero"),
        None => err("a Kubernetes quantity like `10Gi`, `512Mi` or `50M`"),
    }
}

/// Memory and storage sizes for user pods: binary suffixes only, because
/// KubeSpawner reads `4G` as 4 GiB while Kubernetes reads it as 4 GB.
pub fn binary_quantity(s: &str) -> Result<(), String> {
    let Some((_, suffix)) = split_quantity(s) else {
        return err("a binary quantity like `512Mi` or `4Gi`");
    };
    match suffix {
        "" | "Ki" | "Mi" | "Gi" | "Ti" => quantity(s),
        "k" | "K" | "M" | "G" | "T" => {
            let num = &s[..s.len() - suffix.len()];
            let binary = format!("{num}{}i", suffix.to_uppercase());
            Err(format!(
                "a binary quantity like `{binary}` (Kubernetes reads `{s}` in powers of 1000, KubeSpawner in powers of 1024; the `i` form means the same to both)"
            ))
        }
        _ => err("a binary quantity like `512Mi` or `4Gi`"),
    }
}

pub fn cpu(s: &str) -> Result<(), String> {
    let Some((_, suffix)) = split_quantity(s) else {
        return err("CPU cores as a number (`0.5`) or millicores (`500m`)");
    };
    match suffix {
        "" | "m" => quantity(s),
        _ => err("CPU cores as a number (`0.5`) or millicores (`500m`)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert!(quantity("10Gi").is_ok());
        assert!(quantity("50M").is_ok());
        assert!(quantity("0").is_err());
        assert!(quantity("1.2.3Gi").is_err());
        assert!(quantity("10 Gi").is_err());
        assert!(binary_quantity("4Gi").is_ok());
        assert!(binary_quantity("4G").unwrap_err().contains("4Gi"));
        assert!(cpu("500m").is_ok());
        assert!(cpu("2").is_ok());
        assert!(cpu("2Gi").is_err());
        assert_eq!(quantity_value("512Mi"), Some(536870912.0));
        assert_eq!(quantity_value("500m"), Some(0.5));
    }
}
