//! Golden transcripts: every `tests/golden/NAME.in` script is replayed through the simulator and
//! the output (CRLF shown as LF) must equal `NAME.out`. `UPDATE_GOLDEN=1` rewrites the `.out`
//! files. The raw output must use CRLF line ends only.

use std::path::{Path, PathBuf};

use sim::board::SimBoard;
use sim::driver::Sim;
use sim::script::{parse, parse_board, Event};

fn run_script(text: &str) -> Vec<u8> {
    let (options, events) = parse(text).expect("script parses");
    let mut board = SimBoard::new(options.ports);
    parse_board(text).expect("board options").apply(&mut board);
    let mut sim = Sim::with_board(options, board);
    for event in events {
        if sim.finished {
            break;
        }
        match event {
            Event::Input(bytes) => sim.replay_line(&bytes),
            Event::Wait(ms) => sim.advance(ms),
            Event::Pace(ms) => sim.line_ms = ms,
        }
    }
    sim.out.0
}

fn check_crlf(name: &str, raw: &[u8]) {
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && raw[i - 1] == b'\r', "{name}: bare LF at byte {i}");
        }
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn golden_transcripts() {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "in"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    let mut failures = Vec::new();
    for input in &inputs {
        let name = input.file_stem().unwrap().to_string_lossy().to_string();
        let script = std::fs::read_to_string(input).expect("read script");
        let raw = run_script(&script);
        check_crlf(&name, &raw);
        let text = String::from_utf8_lossy(&raw).replace("\r\n", "\n");
        let expected_path = input.with_extension("out");
        if update {
            std::fs::write(&expected_path, &text).expect("write golden");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != text {
            let line = expected
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            failures.push(format!(
                "{name}: differs at line {}:\n  expected: {:?}\n  actual:   {:?}",
                line + 1,
                expected.lines().nth(line).unwrap_or(""),
                text.lines().nth(line).unwrap_or("")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (UPDATE_GOLDEN=1 rewrites):\n{}",
        failures.join("\n")
    );
}
