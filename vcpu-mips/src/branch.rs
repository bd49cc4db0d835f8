//! Completing a branch whose delay slot trapped.
//!
//! When an emulated instruction sits in a delay slot (Cause.BD = 1), EPC points at the branch.
//! After emulating the slot instruction the guest must continue where the branch goes, exactly
//! as Linux's `__compute_return_epc` does: the condition is evaluated on the registers as they
//! were when the branch executed (before the slot instruction), the link register is written
//! (`jal`, `jalr`, `bltzal`, `bgezal` and their likely forms link whether or not they branch), and
//! a not-taken likely branch skips its slot. MIPS16e and microMIPS branches never reach here
//! (nothing privileged can be encoded in them).

/// Where a branch goes and what it links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BranchOutcome {
    /// The PC after the branch and its delay slot.
    pub next_pc: u32,
    /// A register the branch writes, and the value (the return address, branch PC + 8).
    pub link: Option<(u8, u32)>,
}

/// Evaluate the branch or jump `word` at `pc` against `gpr` (with `gpr[0]` read as 0).
/// Returns `None` when `word` is not a MIPS32r2 branch or jump.
pub fn evaluate(word: u32, pc: u32, gpr: &[u32; 32]) -> Option<BranchOutcome> {
    let reg = |r: u32| if r == 0 { 0 } else { gpr[r as usize] };
    let opcode = word >> 26;
    let rs = (word >> 21) & 31;
    let rt = (word >> 16) & 31;
    let s = reg(rs) as i32;
    let t = reg(rt);
    let offset = ((word as u16 as i16 as i32) << 2) as u32;
    let taken_pc = pc.wrapping_add(4).wrapping_add(offset);
    let fall_pc = pc.wrapping_add(8);
    let link_ra = Some((31u8, pc.wrapping_add(8)));
    let cond = |taken: bool| if taken { taken_pc } else { fall_pc };
    let outcome = match opcode {
        // SPECIAL: jr / jalr (hint bits, such as .hb, are ignored).
        0x00 => match word & 0x3F {
            0x08 => BranchOutcome {
                next_pc: reg(rs),
                link: None,
            },
            0x09 => {
                let rd = ((word >> 11) & 31) as u8;
                let link = if rd == 0 {
                    None
                } else {
                    Some((rd, pc.wrapping_add(8)))
                };
                BranchOutcome {
                    next_pc: reg(rs),
                    link,
                }
            }
            _ => return None,
        },
        // REGIMM
        0x01 => match rt {
            0x00 | 0x02 => BranchOutcome {
                next_pc: cond(s < 0),
                link: None,
            },
            0x01 | 0x03 => BranchOutcome {
                next_pc: cond(s >= 0),
                link: None,
            },
            0x10 | 0x12 => BranchOutcome {
                next_pc: cond(s < 0),
                link: link_ra,
            },
            0x11 | 0x13 => BranchOutcome {
                next_pc: cond(s >= 0),
                link: link_ra,
            },
            _ => return None,
        },
        0x02 | 0x03 | 0x1D => {
            let target = (pc.wrapping_add(4) & 0xF000_0000) | ((word & 0x03FF_FFFF) << 2);
            // jalx switches to MIPS16e: the ISA-mode bit of the target is set.
            let next_pc = if opcode == 0x1D { target | 1 } else { target };
            BranchOutcome {
                next_pc,
                link: if opcode == 0x02 { None } else { link_ra },
            }
        }
        0x04 | 0x14 => BranchOutcome {
            next_pc: cond(s as u32 == t),
            link: None,
        },
        0x05 | 0x15 => BranchOutcome {
            next_pc: cond(s as u32 != t),
            link: None,
        },
        0x06 | 0x16 => BranchOutcome {
            next_pc: cond(s <= 0),
            link: None,
        },
        0x07 | 0x17 => BranchOutcome {
            next_pc: cond(s > 0),
            link: None,
        },
        _ => return None,
    };
    Some(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regs(pairs: &[(usize, u32)]) -> [u32; 32] {
        let mut g = [0u32; 32];
        for &(r, v) in pairs {
            g[r] = v;
        }
        g
    }

    const PC: u32 = 0xC010_0100;

    #[test]
    fn conditional_branches() {
        let g = regs(&[(8, 5), (9, 5), (10, 0xFFFF_FFFF)]);
        // beq $t0, $t1, +0x10 (offset 4 words)
        assert_eq!(evaluate(0x1109_0004, PC, &g).unwrap().next_pc, PC + 4 + 16);
        // bne $t0, $t1, +16: not taken
        assert_eq!(evaluate(0x1509_0004, PC, &g).unwrap().next_pc, PC + 8);
        // beq backwards: offset -2 words
        assert_eq!(evaluate(0x1109_FFFE, PC, &g).unwrap().next_pc, PC + 4 - 8);
        // blez $t2 (-1): taken; bgtz $t2: not taken
        assert_eq!(evaluate(0x1940_0004, PC, &g).unwrap().next_pc, PC + 20);
        assert_eq!(evaluate(0x1D40_0004, PC, &g).unwrap().next_pc, PC + 8);
        // bltz $t2 taken, bgez $t2 not taken
        assert_eq!(evaluate(0x0540_0004, PC, &g).unwrap().next_pc, PC + 20);
        assert_eq!(evaluate(0x0541_0004, PC, &g).unwrap().next_pc, PC + 8);
        // likely forms: beql taken, bnel not taken skips the slot
        assert_eq!(evaluate(0x5109_0004, PC, &g).unwrap().next_pc, PC + 20);
        assert_eq!(evaluate(0x5509_0004, PC, &g).unwrap().next_pc, PC + 8);
        // $zero reads 0 even if the array says otherwise
        let mut z = g;
        z[0] = 7;
        assert_eq!(evaluate(0x1000_0004, PC, &z).unwrap().next_pc, PC + 20); // b +16
    }

    #[test]
    fn linking_branches() {
        let g = regs(&[(8, 1)]);
        // bgezal $t0 taken; bltzal $t0 not taken but links anyway
        let o = evaluate(0x0511_0004, PC, &g).unwrap();
        assert_eq!(
            o,
            BranchOutcome {
                next_pc: PC + 20,
                link: Some((31, PC + 8))
            }
        );
        let o = evaluate(0x0510_0004, PC, &g).unwrap();
        assert_eq!(
            o,
            BranchOutcome {
                next_pc: PC + 8,
                link: Some((31, PC + 8))
            }
        );
        // bal = bgezal $zero
        assert_eq!(evaluate(0x0411_0004, PC, &g).unwrap().next_pc, PC + 20);
        // bgezall / bltzall
        assert_eq!(
            evaluate(0x0513_0004, PC, &g).unwrap().link,
            Some((31, PC + 8))
        );
        assert_eq!(evaluate(0x0512_0004, PC, &g).unwrap().next_pc, PC + 8);
    }

    #[test]
    fn jumps() {
        let g = regs(&[(25, 0xC020_0000), (31, 0xC010_0200)]);
        // j 0xC0300000: target field = 0x0300000 >> 2 (low 28 bits)
        let j = 0x0800_0000 | (0x0030_0000 >> 2);
        assert_eq!(
            evaluate(j, PC, &g).unwrap(),
            BranchOutcome {
                next_pc: 0xC030_0000,
                link: None
            }
        );
        let jal = 0x0C00_0000 | (0x0030_0000 >> 2);
        assert_eq!(evaluate(jal, PC, &g).unwrap().link, Some((31, PC + 8)));
        let jalx = 0x7400_0000 | (0x0030_0000 >> 2);
        assert_eq!(evaluate(jalx, PC, &g).unwrap().next_pc, 0xC030_0001);
        // jr $ra, jr.hb $t9, jalr $t9 (rd = 31), jalr $v0, $t9
        assert_eq!(evaluate(0x03E0_0008, PC, &g).unwrap().next_pc, 0xC010_0200);
        assert_eq!(evaluate(0x0320_0408, PC, &g).unwrap().next_pc, 0xC020_0000);
        assert_eq!(
            evaluate(0x0320_F809, PC, &g).unwrap().link,
            Some((31, PC + 8))
        );
        assert_eq!(
            evaluate(0x0320_1009, PC, &g).unwrap().link,
            Some((2, PC + 8))
        );
        // jump region comes from the delay slot address
        let at_edge = 0xCFFF_FFFC;
        assert_eq!(evaluate(j, at_edge, &g).unwrap().next_pc, 0xD030_0000);
    }

    #[test]
    fn non_branches() {
        let g = [0u32; 32];
        for w in [
            0x0000_0021u32,
            0x4080_0800,
            0x0400_0000 | (0x1C << 16),
            0x4500_0004,
            0x0000_000C,
        ] {
            assert_eq!(evaluate(w, PC, &g), None, "{w:#x}");
        }
    }
}
