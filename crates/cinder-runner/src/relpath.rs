//! The one rule for relative paths that cross a trust boundary: spec input paths, output
//! file paths in a manifest, and file paths a downloaded manifest names.

/// Longest path accepted, in bytes.
pub(crate) const MAX_PATH_BYTES: usize = 1024;
/// Longest single component, in bytes (Linux's NAME_MAX).
const MAX_COMPONENT_BYTES: usize = 255;

/// Why `path` is not a plain relative `/`-separated path that stays inside its root, or `None`
/// when it is one.
pub(crate) fn problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("empty");
    }
    if path.len() > MAX_PATH_BYTES {
        return Some("longer than 1024 bytes");
    }
    if path.starts_with('/') {
        return Some("absolute (starts with '/')");
    }
    // Newlines would let a file name forge lines of the result-hash preimage.
    if path.chars().any(char::is_control) {
        return Some("contains a control character");
    }
    for component in path.split('/') {
        match component {
            "" => return Some("has an empty component ('//' or a trailing '/')"),
            "." => return Some("has a '.' component"),
            ".." => return Some("has a '..' component"),
            c if c.len() > MAX_COMPONENT_BYTES => {
                return Some("has a component longer than 255 bytes")
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn plain_relative_paths_pass() {
        for p in [
            "a",
            "a/b.txt",
            "deep/er/file name with spaces",
            "ünï/cödé",
            ".hidden",
            "a..b",
        ] {
            assert_eq!(problem(p), None, "{p}");
        }
    }

    #[test]
    fn escaping_or_ambiguous_paths_are_refused() {
        for p in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            ".",
            "a//b",
            "a/",
            "a\nb",
            "a\0b",
        ] {
            assert!(problem(p).is_some(), "{p:?} passed");
        }
        assert!(problem(&"x".repeat(1025)).is_some());
        assert!(problem(&"x".repeat(256)).is_some());
    }
}
