//! `--mips --trace`: where the forwarding path's own instructions go on MIPS, by function. The
//! MIPS program forwards IPv4 packets with a fixed decision and nothing else (a `FWDT` blob);
//! QEMU logs the translation blocks it runs (`-d in_asm,exec,nochain`, without `-icount`,
//! which would retranslate blocks shorter) and `net-bench`'s trace analysis charges them to the
//! program's functions. Two runs, of 1,000 and 3,000 packets: the difference per function over
//! 2,000 is what one packet costs, without the program's start and set-up.

use std::collections::HashMap;

use qemu_tests::image::symbols;
use qemu_tests::workspace_root;

use crate::mips::{build, qemu};

// The analysis of QEMU's block trace, shared with `net-bench --trace`.
#[path = "../../net/src/trace.rs"]
#[allow(dead_code)]
mod trace;

const FEW: u32 = 1_000;
const MANY: u32 = 3_000;

/// Instructions by function of one traced run of `packets` packets.
fn traced(elf: &std::path::Path, packets: u32) -> Result<HashMap<String, u64>, String> {
    let dir = workspace_root().join("target/forward-mips");
    let blob = dir.join(format!("trace-{packets}.bin"));
    let mut header = b"FWDT".to_vec();
    for n in [packets, 0, 0] {
        header.extend_from_slice(&n.to_be_bytes());
    }
    std::fs::write(&blob, header).map_err(|e| format!("{}: {e}", blob.display()))?;
    let log = dir.join(format!("trace-{packets}.log"));
    let out = qemu(elf, &blob)
        .args(["-d", "in_asm,exec,nochain", "-D"])
        .arg(&log)
        .output()
        .map_err(|e| format!("cannot run qemu-system-mips: {e}"))?;
    let console = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !console.contains(&format!("trace packets={packets}")) {
        return Err(format!("the traced run failed: {console}"));
    }
    let text = std::fs::read_to_string(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let _ = std::fs::remove_file(&log);
    let image = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let syms = symbols(&image).ok_or("no symbol table in the MIPS program")?;
    Ok(trace::analyse(&text, &syms).functions.into_iter().collect())
}

/// Prints the instructions per packet of the path with a fixed decision, by function.
pub fn run(opt_level: Option<&str>) -> Result<(), String> {
    let dir = workspace_root().join("target/forward-mips");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let elf = build(&dir, opt_level)?;
    let few = traced(&elf, FEW)?;
    let many = traced(&elf, MANY)?;
    let mut per: Vec<(String, u64)> = many
        .into_iter()
        .map(|(name, n)| {
            let before = few.get(&name).copied().unwrap_or(0);
            (name, n.saturating_sub(before))
        })
        // Less than one instruction a packet: the set-up's remainders.
        .filter(|(_, n)| *n >= u64::from(MANY - FEW))
        .collect();
    per.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let packets = f64::from(MANY - FEW);
    let total: u64 = per.iter().map(|p| p.1).sum();
    println!(
        "# MIPS instructions per 60-byte IPv4 packet through Forwarder::receive with a fixed \
         decision, by function (QEMU block trace, {} packets; the frame's copy included): {:.0}",
        MANY - FEW,
        total as f64 / packets
    );
    for (name, n) in trace::demangle_all(per).iter().take(30) {
        println!("{:>9.1}  {name}", *n as f64 / packets);
    }
    Ok(())
}
