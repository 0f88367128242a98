//! Reading input files: existence, size, encoding and YAML syntax, each
//! failure a diagnostic naming the file (and line and column where known).

use std::io::Read;
use std::path::Path;

use crate::diag::{Diagnostic, Loc};
use crate::yaml::{self, Doc, MAX_INPUT_BYTES};

/// Reads a file as UTF-8 text, refusing directories, huge and binary files.
/// Pipes and devices (`/dev/stdin`, `<(…)`) are read up to the same limit.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let name = path.display().to_string();
    let cannot =
        |e: std::io::Error| Diagnostic::error(format!("cannot read `{name}`: {}", io_reason(&e)));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.is_dir() {
        return Err(Diagnostic::error(format!(
            "`{name}` is a directory; expected a YAML file"
        )));
    }
    let too_big = |size: &str| {
        Diagnostic::error(format!(
            "`{name}` is {size} bytes; files over {MAX_INPUT_BYTES} bytes are refused"
        ))
        .at(Loc::file(&name))
    };
    if meta.len() > MAX_INPUT_BYTES as u64 {
        return Err(too_big(&meta.len().to_string()));
    }
    // The size above is 0 for pipes and devices: never read more than the limit.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_INPUT_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(too_big(&format!("more than {MAX_INPUT_BYTES}"))
            .help("policies and values files are small; is this the right file?"));
    }
    decode(&name, bytes)
}

/// Checks that bytes are UTF-8 text; the error points at the first bad byte.
pub fn decode(name: &str, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(s)),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..valid]);
            let line = prefix.matches('\n').count() as u32 + 1;
            let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
            let what = if bytes.contains(&0) {
                "binary data"
            } else {
                "bytes that are not UTF-8"
            };
            Err(Diagnostic::error(format!(
                "`{name}` contains {what}; expected UTF-8 YAML text"
            ))
            .at(Loc {
                file: name.to_string(),
                line,
                column,
                source_line: None,
            }))
        }
    }
}

/// Parses YAML text into a document, locating syntax errors.
pub fn read_yaml(name: &str, text: &str) -> Result<Doc, Diagnostic> {
    yaml::parse(text).map_err(|e| {
        let msg = format!("invalid YAML in `{name}`: {}", e.message);
        match e.pos {
            Some(pos) => Diagnostic::error(msg).at(Loc::new(name, text, pos)),
            None => Diagnostic::error(msg).at(Loc::file(name)),
        }
    })
}

/// A values file: like [`read_yaml`], with Helm's leniency (a repeated
/// key keeps its last value).
pub fn read_values_yaml(name: &str, text: &str) -> Result<Doc, Diagnostic> {
    yaml::parse_values(text).map_err(|e| {
        let msg = format!("invalid YAML in `{name}`: {}", e.message);
        match e.pos {
            Some(pos) => Diagnostic::error(msg).at(Loc::new(name, text, pos)),
            None => Diagnostic::error(msg).at(Loc::file(name)),
        }
    })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::NotADirectory => {
            "a component of the path is a file, not a directory".into()
        }
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_located() {
        let d = decode("f.yaml", b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        let loc = d.location.unwrap();
        assert_eq!((loc.line, loc.column), (2, 4));
        assert!(
            decode("f.yaml", b"\x00\x01\xff".to_vec())
                .unwrap_err()
                .message
                .contains("binary")
        );
    }

    #[test]
    fn yaml_errors_carry_position() {
        let d = read_yaml("f.yaml", "a: [1, 2\n").unwrap_err();
        assert!(d.message.contains("invalid YAML"));
    }
}
