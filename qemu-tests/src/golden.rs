//! Golden transcripts: expected console output kept under `qemu-tests/golden/`.
//!
//! Before comparing, values that legitimately vary between runs are masked by [`mask`]: the
//! value after `uptime:`, `free-memory:` and `cpu-load:`. `UPDATE_GOLDEN=1` writes the
//! current (masked) transcript as the new golden file instead of comparing.

use std::path::PathBuf;

use crate::workspace_root;

/// Keys whose values differ from run to run.
const VARYING_KEYS: [&str; 3] = ["uptime:", "free-memory:", "cpu-load:"];

/// Replace the value after each varying key with `<masked>`.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let masked = VARYING_KEYS.iter().find_map(|key| {
            let pos = line.find(key)?;
            let value_start = pos + key.len();
            let spaces = line[value_start..].len() - line[value_start..].trim_start().len();
            let end = if line.ends_with('\n') { "\n" } else { "" };
            Some(format!("{}<masked>{end}", &line[..value_start + spaces]))
        });
        out.push_str(masked.as_deref().unwrap_or(line));
    }
    out
}

fn path(name: &str) -> PathBuf {
    workspace_root()
        .join("qemu-tests/golden")
        .join(format!("{name}.txt"))
}

/// Compare `actual` (after masking) with golden file `name`; panics with a diff on mismatch.
pub fn check(name: &str, actual: &str) {
    let actual = mask(&actual.replace("\r\n", "\n"));
    let file = path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&file, &actual).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        return;
    }
    let expected = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\n(run with UPDATE_GOLDEN=1 to create it)\nactual:\n{actual}",
            file.display()
        )
    });
    if expected != actual {
        let mut diff = String::new();
        let (e, a): (Vec<_>, Vec<_>) = (expected.lines().collect(), actual.lines().collect());
        for i in 0..e.len().max(a.len()) {
            let (el, al) = (e.get(i).copied(), a.get(i).copied());
            if el != al {
                diff.push_str(&format!(
                    "line {}:\n  expected: {:?}\n  actual:   {:?}\n",
                    i + 1,
                    el,
                    al
                ));
            }
        }
        panic!(
            "{} differs from the golden transcript:\n{diff}\n(UPDATE_GOLDEN=1 rewrites it)",
            file.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_varying_values_only() {
        let text = "      uptime: 1m2s\n     version: 0.1.0\n free-memory: 123.4MiB\n";
        assert_eq!(
            mask(text),
            "      uptime: <masked>\n     version: 0.1.0\n free-memory: <masked>\n"
        );
    }
}
