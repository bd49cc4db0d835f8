//! Decoding of the instructions that trap with a privileged-instruction Program interrupt
//! (ESR\[PPR\]) when a guest runs in problem state.
//!
//! Only the privileged instructions are named; every other word is [`Instruction::Other`] (the
//! hardware raised PPR for something the e500v2 does not give a supervisor either, such as
//! `mfdcr`, or the code changed under the trap): the guest kernel gets the illegal-instruction
//! Program interrupt a bare e500v2 would give it.

/// The MetaROUTER hypercall, `mtspr 1023, r0` (a write to the read-only SVR).
pub const HYPERCALL_WORD: u32 = 0x7C1F_FBA6;

/// A trapping instruction, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instruction {
    /// `mfmsr rD`.
    Mfmsr { rt: u8 },
    /// `mtmsr rS`.
    Mtmsr { rs: u8 },
    /// `wrtee rS`: MSR\[EE\] from rS.
    Wrtee { rs: u8 },
    /// `wrteei E`.
    Wrteei { enable: bool },
    /// `rfi`: return from a base-class interrupt (SRR0/SRR1).
    Rfi,
    /// `rfci`: return from a critical interrupt (CSRR0/CSRR1).
    Rfci,
    /// `rfmci`: return from a machine check (MCSRR0/MCSRR1).
    Rfmci,
    /// `rfdi`: return from a debug interrupt (DSRR0/DSRR1).
    Rfdi,
    /// `mfspr rD, SPR`.
    Mfspr { rt: u8, spr: u16 },
    /// `mtspr SPR, rS` (not the hypercall).
    Mtspr { rs: u8, spr: u16 },
    /// `mtspr 1023, r0`: the hypercall.
    Hypercall,
    /// `tlbwe`.
    Tlbwe,
    /// `tlbre`.
    Tlbre,
    /// `tlbsx rA, rB`.
    Tlbsx { ra: u8, rb: u8 },
    /// `tlbivax rA, rB`.
    Tlbivax { ra: u8, rb: u8 },
    /// `tlbsync`.
    Tlbsync,
    /// `dcbi rA, rB`.
    Dcbi { ra: u8, rb: u8 },
    /// `mfpmr rD, PMR` (performance monitor: not offered, reads 0).
    Mfpmr { rt: u8 },
    /// `mtpmr PMR, rS` (ignored).
    Mtpmr,
    /// Anything else.
    Other,
}

/// The 10-bit SPR (or PMR) number of an `mfspr`/`mtspr` word (its two 5-bit halves swapped).
pub const fn spr_field(word: u32) -> u16 {
    (((word >> 16) & 0x1F) | ((word >> 6) & 0x3E0)) as u16
}

/// The rD/rS field.
pub const fn rt_field(word: u32) -> u8 {
    ((word >> 21) & 31) as u8
}

const fn ra_field(word: u32) -> u8 {
    ((word >> 16) & 31) as u8
}

const fn rb_field(word: u32) -> u8 {
    ((word >> 11) & 31) as u8
}

/// Decode `word`.
pub const fn decode(word: u32) -> Instruction {
    if word == HYPERCALL_WORD {
        return Instruction::Hypercall;
    }
    let opcode = word >> 26;
    let xo = (word >> 1) & 0x3FF;
    match opcode {
        19 => match xo {
            50 => Instruction::Rfi,
            51 => Instruction::Rfci,
            38 => Instruction::Rfmci,
            39 => Instruction::Rfdi,
            _ => Instruction::Other,
        },
        31 => {
            let rt = rt_field(word);
            match xo {
                83 => Instruction::Mfmsr { rt },
                146 => Instruction::Mtmsr { rs: rt },
                131 => Instruction::Wrtee { rs: rt },
                163 => Instruction::Wrteei {
                    enable: word & 0x8000 != 0,
                },
                339 => Instruction::Mfspr {
                    rt,
                    spr: spr_field(word),
                },
                467 => Instruction::Mtspr {
                    rs: rt,
                    spr: spr_field(word),
                },
                978 => Instruction::Tlbwe,
                946 => Instruction::Tlbre,
                914 => Instruction::Tlbsx {
                    ra: ra_field(word),
                    rb: rb_field(word),
                },
                786 => Instruction::Tlbivax {
                    ra: ra_field(word),
                    rb: rb_field(word),
                },
                566 => Instruction::Tlbsync,
                470 => Instruction::Dcbi {
                    ra: ra_field(word),
                    rb: rb_field(word),
                },
                334 => Instruction::Mfpmr { rt },
                462 => Instruction::Mtpmr,
                _ => Instruction::Other,
            }
        }
        _ => Instruction::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Words from `llvm-mc -triple=powerpc -mcpu=e500 -show-encoding`.
    #[test]
    fn decodes_the_privileged_instructions() {
        let cases = [
            (0x7CE0_00A6, Instruction::Mfmsr { rt: 7 }),
            (0x7CE0_0124, Instruction::Mtmsr { rs: 7 }),
            (0x7C60_0106, Instruction::Wrtee { rs: 3 }),
            (0x7C00_8146, Instruction::Wrteei { enable: true }),
            (0x7C00_0146, Instruction::Wrteei { enable: false }),
            (0x4C00_0064, Instruction::Rfi),
            (0x4C00_0066, Instruction::Rfci),
            (0x4C00_004C, Instruction::Rfmci),
            (0x4C00_004E, Instruction::Rfdi),
            (0x7CF1_9AA6, Instruction::Mfspr { rt: 7, spr: 625 }),
            (0x7CF1_9BA6, Instruction::Mtspr { rs: 7, spr: 625 }),
            (0x7C1F_FBA6, Instruction::Hypercall),
            (0x7C00_07A4, Instruction::Tlbwe),
            (0x7C00_0764, Instruction::Tlbre),
            (0x7C00_3724, Instruction::Tlbsx { ra: 0, rb: 6 }),
            (0x7C00_3624, Instruction::Tlbivax { ra: 0, rb: 6 }),
            (0x7C00_046C, Instruction::Tlbsync),
            (0x7C00_1BAC, Instruction::Dcbi { ra: 0, rb: 3 }),
            (0x7C70_629C, Instruction::Mfpmr { rt: 3 }),
            (0x7C70_639C, Instruction::Mtpmr),
        ];
        for (word, insn) in cases {
            assert_eq!(decode(word), insn, "{word:#010x}");
        }
    }

    #[test]
    fn other_words() {
        // mtspr 1023, r3 is an ordinary (ignored) SVR write, not the hypercall.
        assert_eq!(decode(0x7C7F_FBA6), Instruction::Mtspr { rs: 3, spr: 1023 });
        // sc, isync, msync, mfdcr, wait: not privileged instructions the model emulates.
        for word in [
            0x4400_0002,
            0x4C00_012C,
            0x7C00_04AC,
            0x7C60_0286,
            0x7C00_003C,
        ] {
            assert_eq!(decode(word), Instruction::Other, "{word:#010x}");
        }
        assert_eq!(spr_field(0x7C6C_42A6), 268);
    }
}
