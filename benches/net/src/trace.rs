//! Where the hypervisor's instructions go per bridged frame: QEMU's own trace of the
//! translation blocks it runs (`-d in_asm,exec,nochain`), attributed to the image's functions.
//!
//! `in_asm` logs each translation block once, when QEMU translates it (its first address and
//! its instructions); `exec` logs every run of a block (its first address), and `nochain`
//! makes QEMU log every run rather than jumping from block to block unseen. The instructions a
//! window ran are the sum, over the runs it logged, of the length of the block run; each block
//! is charged to the function holding its first address (after inlining: the breakdown is by
//! the functions the optimiser left, not by source functions). Valid without `-icount` only
//! (under `-icount`, QEMU retranslates blocks shorter when its budget runs out).

use std::collections::HashMap;

/// A symbol: name, first address, size in bytes.
pub type Symbol = (String, u32, u32);

/// Instructions run in a traced window, by function.
pub struct Breakdown {
    /// (function, instructions), most first.
    pub functions: Vec<(String, u64)>,
    pub total: u64,
    /// Runs of blocks whose translation the log did not show.
    pub unknown_blocks: u64,
}

/// The first address of a trace line (`IN:` block line `0x80012345:  insn` or exec line
/// `Trace 0: 0x7f.. [00000000/0000000080012345/...] name`).
fn exec_pc(line: &str) -> Option<u32> {
    let inside = line.split('[').nth(1)?;
    let pc = inside.split('/').nth(1)?;
    u64::from_str_radix(pc, 16).ok().map(|v| v as u32)
}

fn asm_pc(line: &str) -> Option<u32> {
    let hex = line.strip_prefix("0x")?.split(':').next()?;
    u64::from_str_radix(hex, 16).ok().map(|v| v as u32)
}

/// The block runs a QEMU log holds, in order: each run's first address and its length (the
/// length known when it ran: a later retranslation of the same address does not rewrite
/// history), and how many runs were of blocks whose translation the log did not show.
fn block_runs(log: &str) -> (Vec<(u32, u64)>, u64) {
    let mut block_len: HashMap<u32, u64> = HashMap::new();
    let mut block: Option<(u32, u64)> = None;
    let mut unknown_blocks = 0;
    let mut runs = Vec::new();
    for line in log.lines() {
        if line.starts_with("IN:") {
            block = None;
            continue;
        }
        if let Some(pc) = asm_pc(line) {
            let (start, len) = block.get_or_insert((pc, 0));
            *len += 1;
            block_len.insert(*start, *len);
            continue;
        }
        block = None;
        if line.starts_with("Trace ") {
            if let Some(pc) = exec_pc(line) {
                match block_len.get(&pc) {
                    Some(&len) => runs.push((pc, len)),
                    None => unknown_blocks += 1,
                }
            }
        }
    }
    (runs, unknown_blocks)
}

/// The function holding each address, from the symbol table.
struct Functions<'a> {
    sorted: Vec<&'a Symbol>,
}

impl<'a> Functions<'a> {
    fn new(symbols: &'a [Symbol]) -> Self {
        let mut sorted: Vec<&Symbol> = symbols.iter().filter(|s| s.2 > 0).collect();
        sorted.sort_by_key(|s| s.1);
        Functions { sorted }
    }

    fn name(&self, pc: u32) -> String {
        let at = self.sorted.partition_point(|s| s.1 <= pc);
        match at.checked_sub(1).map(|i| self.sorted[i]) {
            Some(s) if pc < s.1.wrapping_add(s.2) => s.0.clone(),
            _ => format!("{pc:#010x}"),
        }
    }
}

fn breakdown(by_function: HashMap<String, u64>, unknown_blocks: u64) -> Breakdown {
    let total = by_function.values().sum();
    let mut functions: Vec<(String, u64)> = by_function.into_iter().collect();
    functions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Breakdown {
        functions,
        total,
        unknown_blocks,
    }
}

/// Instruction counts from a QEMU log: every translation's length (the latest one for a
/// first address), and the runs logged in the traced window.
pub fn analyse(log: &str, symbols: &[Symbol]) -> Breakdown {
    let (runs, unknown_blocks) = block_runs(log);
    let functions = Functions::new(symbols);
    let mut charged: HashMap<u32, u64> = HashMap::new();
    for (pc, len) in runs {
        *charged.entry(pc).or_default() += len;
    }
    let mut by_function: HashMap<String, u64> = HashMap::new();
    for (pc, n) in charged {
        *by_function.entry(functions.name(pc)).or_default() += n;
    }
    breakdown(by_function, unknown_blocks)
}

/// [`analyse`] restricted to the receive passes that took frames, by the image's (demangled)
/// function names: a pass starts at the first port's `take_events` and ends when the run
/// leaves `Ports::flush` (and the `flush_tx` and `reclaim_tx` it calls); it took frames if the
/// walk's per-frame closure ran in it. What the pass does after `Ports::flush` (the guests'
/// interrupts, once a pass) is left out.
pub fn analyse_passes(log: &str, symbols: &[Symbol]) -> (Breakdown, u64) {
    let (runs, unknown_blocks) = block_runs(log);
    let functions = Functions::new(symbols);
    let mut names: HashMap<u32, String> = HashMap::new();
    let mut by_function: HashMap<String, u64> = HashMap::new();
    let mut window: Option<(HashMap<String, u64>, bool)> = None;
    let mut passes = 0;
    let mut previous = String::new();
    for (pc, len) in runs {
        let name = names
            .entry(pc)
            .or_insert_with(|| functions.name(pc))
            .clone();
        if window.is_none() && name.contains("take_events") && !previous.contains("take_events") {
            window = Some((HashMap::new(), false));
        }
        if let Some((counts, busy)) = window.as_mut() {
            let left_flush = previous.contains("Ports>::flush")
                && !["Ports>::flush", "reclaim_tx", "flush_tx"]
                    .iter()
                    .any(|part| name.contains(part));
            if left_flush {
                if *busy {
                    passes += 1;
                    for (f, n) in counts.drain() {
                        *by_function.entry(f).or_default() += n;
                    }
                }
                window = None;
            } else {
                *busy |= name.contains("receive_from_ports") && name.contains("{closure");
                *counts.entry(name.clone()).or_default() += len;
            }
        }
        previous = name;
    }
    (breakdown(by_function, unknown_blocks), passes)
}

/// The walk's calls, frame by frame, split by whether the frame went into a guest's buffer.
#[derive(Default)]
pub struct FrameSplit {
    /// Frames whose call ran a copy into guest RAM (`guest_mem::copy`): delivered to a guest.
    pub delivered: FrameKind,
    /// The others (dropped at the vif for want of a buffer, or sent out of a port).
    pub other: FrameKind,
}

/// What the walk's calls for one kind of frame ran, all together.
#[derive(Default)]
pub struct FrameKind {
    pub frames: u64,
    /// Instructions of the calls, the copy included.
    pub total: u64,
    /// Of which the copy into guest RAM.
    pub copy: u64,
    /// The calls' instructions by function, most first.
    pub functions: Vec<(String, u64)>,
}

/// Whether a (demangled) function is the copy into guest RAM.
fn is_guest_copy(name: &str) -> bool {
    name.starts_with("guest_mem::copy::")
}

/// The walk's call for each frame, by the image's (demangled) function names: from the entry
/// into the per-frame closure of `receive_from_ports` (coming from the port's `poll_rx`) until
/// the run is back in `poll_rx`. A frame counts as delivered to a guest when the copy into
/// guest RAM (`guest_mem::copy::*`) ran in its call.
pub fn analyse_frames(log: &str, symbols: &[Symbol]) -> FrameSplit {
    let (runs, _) = block_runs(log);
    let functions = Functions::new(symbols);
    let mut names: HashMap<u32, String> = HashMap::new();
    let mut by_kind: [HashMap<String, u64>; 2] = [HashMap::new(), HashMap::new()];
    let mut split = FrameSplit::default();
    // The frame under way: its instructions by function, and whether it copied into a guest.
    let mut frame: Option<(HashMap<String, u64>, bool)> = None;
    let mut previous = String::new();
    for (pc, len) in runs {
        let name = names
            .entry(pc)
            .or_insert_with(|| functions.name(pc))
            .clone();
        let in_closure = name.contains("receive_from_ports") && name.contains("{closure");
        let ended = if name.contains("poll_rx") {
            frame.take()
        } else {
            None
        };
        if let Some((counts, copied)) = ended {
            let (kind, sums) = if copied {
                (&mut split.delivered, &mut by_kind[0])
            } else {
                (&mut split.other, &mut by_kind[1])
            };
            kind.frames += 1;
            for (f, n) in counts {
                kind.total += n;
                if is_guest_copy(&f) {
                    kind.copy += n;
                }
                *sums.entry(f).or_default() += n;
            }
        }
        if frame.is_none() && in_closure && previous.contains("poll_rx") {
            frame = Some((HashMap::new(), false));
        }
        if let Some((counts, copied)) = frame.as_mut() {
            *copied |= is_guest_copy(&name);
            *counts.entry(name.clone()).or_default() += len;
        }
        previous = name;
    }
    for (kind, sums) in [&mut split.delivered, &mut split.other]
        .into_iter()
        .zip(by_kind)
    {
        kind.functions = breakdown(sums, 0).functions;
    }
    split
}

/// The functions' names demangled by `llvm-cxxfilt` (package llvm, which the image build
/// already needs for `llvm-objcopy`); as they are if it cannot be run.
pub fn demangle_all(names: Vec<(String, u64)>) -> Vec<(String, u64)> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let input: String = names.iter().map(|(n, _)| format!("{n}\n")).collect();
    let run = || -> Option<String> {
        let mut child = Command::new("llvm-cxxfilt")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        // Written from another thread: with many names, llvm-cxxfilt's output fills its pipe
        // before all the input is in, and a writer that reads only afterwards would wait forever.
        let mut stdin = child.stdin.take()?;
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().ok()?;
        writer.join().ok()?.ok()?;
        String::from_utf8(out.stdout).ok()
    };
    match run() {
        Some(text) if text.lines().count() == names.len() => text
            .lines()
            .zip(names)
            .map(|(name, (_, n))| (name.to_string(), n))
            .collect(),
        _ => names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_charged_to_their_functions() {
        let log = "\
----------------
IN: f
0x80000100:  addiu\tsp,sp,-8
0x80000104:  jr\tra
0x80000108:  nop

----------------
IN: g
0x80000200:  nop

Trace 0: 0x7f00 [00000000/0000000080000100/00000000/00000000] f
Trace 0: 0x7f00 [00000000/0000000080000100/00000000/00000000] f
Trace 0: 0x7f40 [00000000/0000000080000200/00000000/00000000] g
Trace 0: 0x7f80 [00000000/0000000080000300/00000000/00000000] h
";
        let symbols = vec![
            ("f".to_string(), 0x8000_0100, 0x20),
            ("g".to_string(), 0x8000_0200, 4),
        ];
        let b = analyse(log, &symbols);
        assert_eq!(b.total, 7);
        assert_eq!(b.unknown_blocks, 1);
        assert_eq!(b.functions[0], ("f".to_string(), 6));
        assert_eq!(b.functions[1], ("g".to_string(), 1));
    }

    #[test]
    fn only_passes_that_took_frames_are_counted() {
        let block = |at: u32, name: &str| {
            format!("IN: {name}\n{at:#010x}:  nop\n{:#010x}:  nop\n\n", at + 4)
        };
        let run = |at: u32| format!("Trace 0: 0x7f00 [00000000/{at:016x}/00000000/00000000] f\n");
        let mut log = String::new();
        for (at, name) in [(0x100, "m"), (0x200, "t"), (0x300, "c"), (0x400, "f")] {
            log += &block(at, name);
        }
        // main loop, an idle pass, main loop, a pass with a frame, main loop.
        for at in [
            0x100, 0x200, 0x400, 0x100, 0x200, 0x300, 0x400, 0x400, 0x100,
        ] {
            log += &run(at);
        }
        let symbols = vec![
            ("main_loop".to_string(), 0x100, 0x10),
            ("Port::take_events".to_string(), 0x200, 0x10),
            ("receive_from_ports::{closure#2}".to_string(), 0x300, 0x10),
            ("<vmm::ether::Ports>::flush".to_string(), 0x400, 0x10),
        ];
        let (b, passes) = analyse_passes(&log, &symbols);
        assert_eq!(passes, 1);
        assert_eq!(
            b.total, 8,
            "take_events, the closure, flush twice: two instructions each"
        );
        assert!(b.functions.iter().all(|(f, _)| f != "main_loop"));
    }

    #[test]
    fn each_frames_call_is_counted_and_split_by_whether_it_copied_into_a_guest() {
        let block = |at: u32, name: &str| {
            format!("IN: {name}\n{at:#010x}:  nop\n{:#010x}:  nop\n\n", at + 4)
        };
        let run = |at: u32| format!("Trace 0: 0x7f00 [00000000/{at:016x}/00000000/00000000] f\n");
        let mut log = String::new();
        for (at, name) in [(0x100, "p"), (0x200, "c"), (0x300, "d"), (0x400, "k")] {
            log += &block(at, name);
        }
        // poll, a frame that copies (closure, delivery, copy, closure), poll, a frame that
        // does not (closure, delivery), poll; the closure run again without the poll before it
        // (a second output of a flooded frame) belongs to the frame under way.
        for at in [
            0x100, 0x200, 0x300, 0x400, 0x400, 0x200, 0x100, 0x200, 0x300, 0x200, 0x100,
        ] {
            log += &run(at);
        }
        let symbols = vec![
            ("<e1000::Port>::poll_rx".to_string(), 0x100, 0x10),
            (
                "vmm::ether::receive_from_ports::{closure#2}".to_string(),
                0x200,
                0x10,
            ),
            (
                "vdevices::GuestDevices::veth_deliver".to_string(),
                0x300,
                0x10,
            ),
            ("guest_mem::copy::copy_long".to_string(), 0x400, 0x10),
        ];
        let split = analyse_frames(&log, &symbols);
        assert_eq!(split.delivered.frames, 1);
        assert_eq!(split.delivered.total, 10, "five blocks of two");
        assert_eq!(split.delivered.copy, 4);
        assert_eq!(split.other.frames, 1);
        assert_eq!(split.other.total, 6);
        assert_eq!(split.other.copy, 0);
        assert_eq!(
            split.delivered.functions[0],
            ("guest_mem::copy::copy_long".to_string(), 4)
        );
    }
}
