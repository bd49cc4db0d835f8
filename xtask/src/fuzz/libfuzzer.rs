//! Running a libFuzzer binary and reading what it reports: the progress lines (`cov:` is the
//! number of covered code edges, `ft:` the number of coverage features, which also count how
//! often an edge ran and compare operands), the final `stat::` lines, and a crash's artifact.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// What one fuzzing run of one target showed.
#[derive(Default)]
pub struct RunReport {
    pub target: String,
    pub seconds: u64,
    pub execs: Option<u64>,
    pub execs_per_second: Option<u64>,
    pub coverage: Option<u64>,
    pub features: Option<u64>,
    /// Files and bytes in `fuzz/corpus/<target>/` before the run and after the merge.
    pub corpus_before: (usize, u64),
    pub corpus_after: (usize, u64),
    /// What went wrong (crash, hang, out of memory) and the input that shows it.
    pub failure: Option<String>,
}

/// The number after `key` in a libFuzzer line (`cov: 519 ft: 3007 ...`).
fn field(line: &str, key: &str) -> Option<u64> {
    let rest = &line[line.find(key)? + key.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// Whether a line only says that an input was added or shortened (there are thousands).
fn is_corpus_event(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('#') else {
        return false;
    };
    let event = rest
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start();
    event.starts_with("NEW") || event.starts_with("REDUCE")
}

/// Runs `cmd` (a fuzz binary), echoing its stderr except the per-input events, and reads the
/// figures and any failure from it.
pub fn run_and_watch(mut cmd: Command, target: &str) -> Result<RunReport, String> {
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{target}: {e}"))?;
    let stderr = child.stderr.take().expect("piped");
    let mut report = RunReport {
        target: target.to_string(),
        ..RunReport::default()
    };
    let (mut kind, mut artifact, mut panic_message) = (None, None, None);
    let mut after_panic = false;
    let mut echo = std::io::stderr();
    for line in BufReader::new(stderr).split(b'\n') {
        let line = String::from_utf8_lossy(&line.map_err(|e| e.to_string())?).into_owned();
        if !is_corpus_event(&line) {
            let _ = writeln!(echo, "{line}");
        }
        if line.starts_with('#') && line.contains(" cov: ") {
            report.coverage = field(&line, "cov:");
            report.features = field(&line, "ft:");
        } else if let Some(n) = field(&line, "stat::number_of_executed_units:") {
            report.execs = Some(n);
        } else if let Some(n) = field(&line, "stat::average_exec_per_sec:") {
            report.execs_per_second = Some(n);
        } else if let Some(at) = line.find("ERROR: libFuzzer: ") {
            kind = Some(line[at + "ERROR: libFuzzer: ".len()..].trim().to_string());
        } else if let Some(at) = line.find("Test unit written to ") {
            artifact = Some(
                line[at + "Test unit written to ".len()..]
                    .trim()
                    .to_string(),
            );
        } else if line.contains("panicked at ") {
            after_panic = true;
            panic_message = Some(line.trim().to_string());
        } else if after_panic {
            after_panic = false;
            if let Some(m) = panic_message.as_mut() {
                m.push_str(if m.ends_with(':') { " " } else { ": " });
                m.push_str(line.trim());
            }
        }
    }
    let status = child.wait().map_err(|e| format!("{target}: {e}"))?;
    if !status.success() {
        let mut failure = kind.unwrap_or_else(|| format!("exited with {status}"));
        if let Some(m) = panic_message {
            failure = format!("{failure} ({m})");
        }
        if let Some(a) = artifact {
            failure = format!("{failure}; input {a}");
        }
        report.failure = Some(failure);
    }
    Ok(report)
}

/// Files and bytes directly in `dir`.
pub fn dir_stats(dir: &Path) -> Result<(usize, u64), String> {
    let mut stats = (0, 0);
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let meta = entry
            .and_then(|e| e.metadata())
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        if meta.is_file() {
            stats.0 += 1;
            stats.1 += meta.len();
        }
    }
    Ok(stats)
}

/// Makes `dir` hold exactly the files of `from`: files that stay keep their place in git.
pub fn replace_dir_contents(dir: &Path, from: &Path) -> Result<(), String> {
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    for entry in std::fs::read_dir(dir).map_err(|e| err(dir, e))? {
        let path = entry.map_err(|e| err(dir, e))?.path();
        if path.is_file() && !from.join(path.file_name().unwrap_or_default()).exists() {
            std::fs::remove_file(&path).map_err(|e| err(&path, e))?;
        }
    }
    for entry in std::fs::read_dir(from).map_err(|e| err(from, e))? {
        let path = entry.map_err(|e| err(from, e))?.path();
        let to = dir.join(path.file_name().unwrap_or_default());
        if !to.exists() {
            std::fs::copy(&path, &to).map_err(|e| err(&to, e))?;
        }
    }
    Ok(())
}

fn figure(n: Option<u64>) -> String {
    n.map_or_else(|| "-".into(), |n| n.to_string())
}

pub fn print_summary(reports: &[RunReport]) {
    println!(
        "{:<12} {:>5} {:>10} {:>8} {:>6} {:>7} {:>15} {:>9}  result",
        "target", "s", "execs", "exec/s", "cov", "ft", "corpus files", "KiB"
    );
    for r in reports {
        let files = format!("{} -> {}", r.corpus_before.0, r.corpus_after.0);
        println!(
            "{:<12} {:>5} {:>10} {:>8} {:>6} {:>7} {:>15} {:>9.1}  {}",
            r.target,
            r.seconds,
            figure(r.execs),
            figure(r.execs_per_second),
            figure(r.coverage),
            figure(r.features),
            files,
            r.corpus_after.1 as f64 / 1024.0,
            if r.failure.is_some() { "FAILED" } else { "ok" }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_figures_from_libfuzzer_lines() {
        let line =
            "#859586\tDONE   cov: 519 ft: 3007 corp: 965/313Kb lim: 1780 exec/s: 40932 rss: 484Mb";
        assert_eq!(field(line, "cov:"), Some(519));
        assert_eq!(field(line, "ft:"), Some(3007));
        assert_eq!(
            field(
                "stat::average_exec_per_sec:     40932",
                "stat::average_exec_per_sec:"
            ),
            Some(40932)
        );
        assert_eq!(field(line, "stat::"), None);
    }

    #[test]
    fn per_input_events_are_told_from_progress() {
        assert!(is_corpus_event(
            "#855948\tREDUCE cov: 519 ft: 3007 corp: 965/313Kb"
        ));
        assert!(is_corpus_event("#12\tNEW    cov: 40 ft: 41 corp: 2/3b"));
        assert!(!is_corpus_event("#65536\tpulse  cov: 519 ft: 3007"));
        assert!(!is_corpus_event("#2\tINITED cov: 40 ft: 41 corp: 1/1b"));
        assert!(!is_corpus_event("==1== ERROR: libFuzzer: deadly signal"));
    }
}
