//! The crate graph written in ARCHITECTURE.md ("Crate graph") is the one the Cargo manifests
//! have: every crate of ours is listed, with exactly the crates of ours it depends on (normal
//! and build dependencies); portable crates depend only on portable crates and forbid unsafe
//! code; and no crate reaches itself, dev-dependencies included.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// A crate as its manifest says it.
#[derive(Debug, Default)]
struct Manifest {
    dir: PathBuf,
    /// Path dependencies (normal and build, any target).
    deps: BTreeSet<String>,
    /// Path dev-dependencies.
    dev_deps: BTreeSet<String>,
}

/// Every `Cargo.toml` with a `[package]` under `dir`, but build output and the guests'
/// workspace (guest programs, built for the guests' target: not part of the hypervisor).
fn manifests(dir: &Path, out: &mut BTreeMap<String, Manifest>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | "guests" | ".git" | "corpus" | "regressions"
            ) {
                manifests(&path, out);
            }
        } else if name == "Cargo.toml" {
            if let Some((package, manifest)) = parse(&path) {
                assert!(
                    out.insert(package.clone(), manifest).is_none(),
                    "two crates named {package}"
                );
            }
        }
    }
}

fn parse(path: &Path) -> Option<(String, Manifest)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut name = None;
    let mut section = String::new();
    let mut m = Manifest {
        dir: path.parent()?.to_path_buf(),
        ..Manifest::default()
    };
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        if section == "[package]" && name.is_none() {
            if let Some(v) = line.strip_prefix("name = ") {
                name = Some(v.trim_matches('"').to_string());
            }
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !value.contains("path = ") {
            continue;
        }
        let key = key.trim().to_string();
        if section.ends_with("dev-dependencies]") {
            m.dev_deps.insert(key);
        } else if section.ends_with("dependencies]") {
            m.deps.insert(key);
        }
    }
    Some((name?, m))
}

/// The table in ARCHITECTURE.md: `crate [(portable)] -> dep, dep`.
fn documented() -> (BTreeMap<String, BTreeSet<String>>, BTreeSet<String>) {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let section = text
        .split("\n## Crate graph")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"Crate graph\" section");
    let block = section
        .split("```text\n")
        .nth(1)
        .expect("the section has a text block")
        .split("```")
        .next()
        .unwrap();
    let mut graph = BTreeMap::new();
    let mut portable = BTreeSet::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let (left, right) = line
            .split_once("->")
            .unwrap_or_else(|| panic!("no `->` in {line:?}"));
        let mut words = left.split_whitespace();
        let name = words.next().expect("a crate name").to_string();
        if words.next() == Some("(portable)") {
            portable.insert(name.clone());
        }
        let deps = right
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(String::from)
            .collect();
        assert!(
            graph.insert(name.clone(), deps).is_none(),
            "{name} is listed twice"
        );
    }
    (graph, portable)
}

#[test]
fn the_documented_crate_graph_is_the_real_one() {
    let mut crates = BTreeMap::new();
    manifests(&root(), &mut crates);
    let (graph, _) = documented();
    let real: BTreeSet<&String> = crates.keys().collect();
    let listed: BTreeSet<&String> = graph.keys().collect();
    assert_eq!(
        real, listed,
        "ARCHITECTURE.md lists other crates than the manifests define"
    );
    for (name, manifest) in &crates {
        assert_eq!(
            &manifest.deps, &graph[name],
            "{name}: its manifest's dependencies differ from ARCHITECTURE.md's"
        );
    }
}

#[test]
fn portable_crates_depend_only_on_portable_crates_and_forbid_unsafe() {
    let mut crates = BTreeMap::new();
    manifests(&root(), &mut crates);
    let (graph, portable) = documented();
    for name in &portable {
        for dep in &graph[name] {
            assert!(
                portable.contains(dep),
                "portable {name} depends on {dep}, which is not portable"
            );
        }
        let lib = std::fs::read_to_string(crates[name].dir.join("src/lib.rs"))
            .expect("a portable crate is a library");
        assert!(
            lib.contains("#![forbid(unsafe_code)]"),
            "{name} does not forbid unsafe code"
        );
    }
}

#[test]
fn no_crate_depends_on_itself_dev_dependencies_included() {
    let mut crates = BTreeMap::new();
    manifests(&root(), &mut crates);
    fn reaches(
        from: &str,
        to: &str,
        crates: &BTreeMap<String, Manifest>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let Some(m) = crates.get(from) else {
            return false;
        };
        // A dev-dependency of a crate on itself is how its own integration tests turn on one
        // of its features (routing's `reference` oracle): not a cycle through other crates.
        m.deps
            .iter()
            .chain(m.dev_deps.iter().filter(|d| *d != from))
            .any(|d| d == to || (seen.insert(d.clone()) && reaches(d, to, crates, seen)))
    }
    for name in crates.keys() {
        assert!(
            !reaches(name, name, &crates, &mut BTreeSet::new()),
            "{name} depends on itself through its dependencies"
        );
    }
}
