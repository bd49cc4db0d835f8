//! What the benchmark programs (`fib-bench`, `rib-bench`) share: loading routing tables
//! ([`table`]), counting heap bytes ([`counting`]), the calling thread's CPU time
//! ([`thread_cpu_seconds`]), and finding the data directory next to the workspace
//! ([`default_data_dir`]).

pub mod counting;
pub mod table;

use std::path::PathBuf;

/// CPU time of the calling thread, to show figures independently of machine load.
pub fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec and CLOCK_THREAD_CPUTIME_ID is a valid clock.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    if rc != 0 {
        return 0.0;
    }
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// `../shared/data` relative to the workspace root (the nearest ancestor of this crate whose
/// Cargo.toml declares `[workspace]`).
pub fn default_data_dir() -> Result<PathBuf, String> {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let manifest = dir.join("Cargo.toml");
        if std::fs::read_to_string(&manifest)
            .is_ok_and(|s| s.lines().any(|l| l.trim() == "[workspace]"))
        {
            return Ok(dir.join("..").join("shared").join("data"));
        }
        if !dir.pop() {
            return Err("cannot find the workspace root above the benchmark crates".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse_text_with_and_without_origin() {
        let dir = std::env::temp_dir().join(format!("bench-common-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("t.txt");
        std::fs::write(
            &f,
            "10.1.2.3/16 65000\n# comment\n2001:db8::/32\n10.1.0.0/16 65001\nbogus\n1.2.3.4/40 1\n",
        )
        .unwrap();
        let t = table::load(&[f], 8).unwrap();
        assert_eq!(
            t.v4.entries,
            vec![(0x0a01_0000, 16, (table::hash_as(65001) % 8) as u16)]
        );
        assert_eq!(t.v6.entries.len(), 1);
        assert_eq!(t.skipped_lines, 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_default_data_directory_is_next_to_the_workspace() {
        let d = default_data_dir().unwrap();
        assert!(d.ends_with("../shared/data"), "{}", d.display());
    }
}
