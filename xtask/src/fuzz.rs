//! `./x fuzz [TARGET] [--seconds N] [--minimise] [--asan]`: the fuzz targets of `fuzz/` under
//! libFuzzer, one after another, each for N seconds (default 60).
//!
//! - cargo-fuzz (a pinned version) is installed into `target/fuzz-tools/` on first use; the
//!   targets are built with the compiler that runs this task, with `RUSTC_BOOTSTRAP=1` for the
//!   sanitizer-coverage flags, and with debug assertions (overflow checks) on, as in `cargo test`.
//! - No sanitizer by default: every fuzzed crate forbids `unsafe`, so AddressSanitizer would find
//!   nothing the bounds checks miss and costs about half the speed; `--asan` turns it on (it needs
//!   a toolchain that ships the ASan runtime, as rustup's does); such a run leaves the corpus
//!   as it is.
//! - Each run starts from `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` and writes
//!   what it finds to a scratch directory. Then the finds that reach a code edge the corpus does
//!   not reach are added to `fuzz/corpus/<target>/` (libFuzzer's merge on edge coverage alone,
//!   not hit counts), so the kept corpus changes only when coverage grows. With `--minimise`,
//!   old and new inputs are instead reduced together to the smallest set that reaches every
//!   edge any of them reached (set-cover merge), which rewrites the corpus.
//! - A failure (crash, hang, out of memory) is written to `fuzz/artifacts/<target>/` and leaves
//!   the corpus as it was; the remaining targets still run, and the task fails at the end.
//!   `cargo test` replays both corpus directories through the bodies.

mod libfuzzer;
mod tools;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use qemu_tests::workspace_root;

use libfuzzer::RunReport;
use tools::Tools;

const DEFAULT_SECONDS: u64 = 60;
/// An input that runs longer than this is reported as a hang.
const INPUT_TIMEOUT_SECONDS: u64 = 10;

const USAGE: &str = "usage: ./x fuzz [TARGET] [--seconds N] [--minimise] [--asan]";

struct Options {
    target: Option<String>,
    seconds: u64,
    minimise: bool,
    sanitizer: &'static str,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        target: None,
        seconds: DEFAULT_SECONDS,
        minimise: false,
        sanitizer: "none",
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let n = it.next().ok_or("--seconds needs a number")?;
                options.seconds = n
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("bad --seconds `{n}`"))?;
            }
            "--minimise" => options.minimise = true,
            "--asan" => options.sanitizer = "address",
            other if other.starts_with('-') => {
                return Err(format!("unexpected option `{other}`\n{USAGE}"))
            }
            name if options.target.is_none() => options.target = Some(name.to_string()),
            extra => return Err(format!("unexpected argument `{extra}`\n{USAGE}")),
        }
    }
    Ok(options)
}

pub fn fuzz(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    let root = workspace_root();
    let tools = Tools::ensure(&root)?;
    let all = tools.targets(&root)?;
    let targets = match &options.target {
        Some(t) if all.contains(t) => vec![t.clone()],
        Some(t) => {
            let known = all.join(", ");
            return Err(format!("no fuzz target `{t}`; targets: {known}"));
        }
        None => all,
    };
    eprintln!(
        "x: building the fuzz targets with {} (sanitizer: {})",
        tools.rustc_version, options.sanitizer
    );
    let bin_dir = tools.build(&root, options.sanitizer, options.target.as_deref())?;

    let mut reports = Vec::new();
    for target in &targets {
        eprintln!("x: fuzzing {target} for {} s", options.seconds);
        let dirs = TargetDirs::new(&root, target);
        let bin = bin_dir.join(target);
        reports.push(run_target(&bin, target, &dirs, &options)?);
    }
    libfuzzer::print_summary(&reports);
    let failed: Vec<&RunReport> = reports.iter().filter(|r| r.failure.is_some()).collect();
    for r in &failed {
        eprintln!(
            "x: {}: {}",
            r.target,
            r.failure.as_deref().unwrap_or_default()
        );
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} target(s) failed. Reproduce: {}/<target> <input>; once fixed, keep the input in \
             fuzz/regressions/<target>/",
            failed.len(),
            bin_dir.display()
        ))
    }
}

/// The directories of one target.
struct TargetDirs {
    corpus: PathBuf,
    regressions: PathBuf,
    artifacts: PathBuf,
    dict: PathBuf,
    scratch: PathBuf,
    merged: PathBuf,
}

impl TargetDirs {
    fn new(root: &Path, target: &str) -> TargetDirs {
        let fuzz = root.join("fuzz");
        let work = root.join("target/fuzz/work");
        TargetDirs {
            corpus: fuzz.join("corpus").join(target),
            regressions: fuzz.join("regressions").join(target),
            artifacts: fuzz.join("artifacts").join(target),
            dict: fuzz.join("dict").join(format!("{target}.dict")),
            scratch: work.join("new").join(target),
            merged: work.join("merged").join(target),
        }
    }
}

fn fresh_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

fn run_target(
    bin: &Path,
    target: &str,
    dirs: &TargetDirs,
    options: &Options,
) -> Result<RunReport, String> {
    let seconds = options.seconds;
    fresh_dir(&dirs.scratch)?;
    for dir in [&dirs.corpus, &dirs.artifacts] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let corpus_before = libfuzzer::dir_stats(&dirs.corpus)?;
    let mut cmd = Command::new(bin);
    cmd.arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1");
    common_flags(&mut cmd, dirs);
    // New inputs go to the first directory; the others are only read.
    cmd.arg(&dirs.scratch).arg(&dirs.corpus);
    if dirs.regressions.is_dir() {
        cmd.arg(&dirs.regressions);
    }
    let mut report = libfuzzer::run_and_watch(cmd, target)?;
    report.seconds = seconds;
    report.corpus_before = corpus_before;
    report.corpus_after = corpus_before;
    // After a failure, a merge would drop a corpus input that now fails, which the replay in
    // `cargo test` must still see. An ASan build has edges of its own (its checks), so what it
    // calls new coverage is not.
    if report.failure.is_some() || options.sanitizer != "none" {
        return Ok(report);
    }

    let mut merge = Command::new(bin);
    merge.arg("-use_counters=0");
    common_flags(&mut merge, dirs);
    if options.minimise {
        fresh_dir(&dirs.merged)?;
        merge
            .arg("-set_cover_merge=1")
            .arg(&dirs.merged)
            .arg(&dirs.corpus);
    } else {
        merge.arg("-merge=1").arg(&dirs.corpus);
    }
    merge.arg(&dirs.scratch);
    let out = merge
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        return Err(format!(
            "{target}: merging the corpus failed ({})",
            out.status
        ));
    }
    if options.minimise {
        libfuzzer::replace_dir_contents(&dirs.corpus, &dirs.merged)?;
    }
    report.corpus_after = libfuzzer::dir_stats(&dirs.corpus)?;
    Ok(report)
}

/// Flags shared by fuzzing and merging: timeout, where failures go, the target's dictionary.
fn common_flags(cmd: &mut Command, dirs: &TargetDirs) {
    cmd.arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"));
    let mut artifact_prefix = OsString::from("-artifact_prefix=");
    artifact_prefix.push(&dirs.artifacts);
    artifact_prefix.push("/");
    cmd.arg(artifact_prefix);
    if dirs.dict.is_file() {
        let mut dict = OsString::from("-dict=");
        dict.push(&dirs.dict);
        cmd.arg(dict);
    }
}
