//! Decoding of every instruction a guest can trap on.
//!
//! A guest kernel runs in real Supervisor mode with Status.CU0 = 0, so all of COP0 and `cache`
//! raise Coprocessor Unusable (CE = 0); `rdhwr` raises Reserved Instruction unless the real
//! HWREna lets it through. [`decode`] names the instruction; encodings whose must-be-zero fields
//! are not zero, and COP0 operations the MIPS32r2 24Kc does not have, decode as
//! [`Instruction::Reserved`], which the guest sees as a Reserved Instruction exception.

/// The hypercall instruction: `mtc0 $zero, $1` (a write to the read-only Random register).
pub const HYPERCALL_WORD: u32 = 0x4080_0800;

/// A decoded trapping instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instruction {
    /// `mfc0 rt, rd, sel`.
    Mfc0 { rt: u8, rd: u8, sel: u8 },
    /// `mtc0 rt, rd, sel`.
    Mtc0 { rt: u8, rd: u8, sel: u8 },
    /// `mtc0 $zero, $1`: MetaROUTER hypercall.
    Hypercall,
    /// `rdpgpr rd, rt` (release 2; with no shadow sets it is a move).
    Rdpgpr { rd: u8, rt: u8 },
    /// `wrpgpr rd, rt`.
    Wrpgpr { rd: u8, rt: u8 },
    /// `di rt`.
    Di { rt: u8 },
    /// `ei rt`.
    Ei { rt: u8 },
    /// `tlbr`.
    Tlbr,
    /// `tlbwi`.
    Tlbwi,
    /// `tlbwr`.
    Tlbwr,
    /// `tlbp`.
    Tlbp,
    /// `eret`.
    Eret,
    /// `deret` (only valid in debug mode, which a guest never is in).
    Deret,
    /// `wait` (with its implementation-defined code field ignored).
    Wait,
    /// `cache op, offset(base)`.
    Cache { op: u8, base: u8, offset: i16 },
    /// `rdhwr rt, rd`.
    Rdhwr { rt: u8, rd: u8 },
    /// A COP0 or `rdhwr` encoding that does not exist on a MIPS32r2 24Kc.
    Reserved,
    /// Not an instruction this crate emulates (COP1/COP2/COP1X, ordinary instructions...).
    Other,
}

const fn field(word: u32, shift: u32, bits: u32) -> u8 {
    ((word >> shift) & ((1 << bits) - 1)) as u8
}

/// Decode one instruction word.
pub const fn decode(word: u32) -> Instruction {
    if word == HYPERCALL_WORD {
        return Instruction::Hypercall;
    }
    let opcode = word >> 26;
    let rs = field(word, 21, 5);
    let rt = field(word, 16, 5);
    let rd = field(word, 11, 5);
    match opcode {
        0x10 => decode_cop0(word, rs, rt, rd),
        0x2F => Instruction::Cache {
            op: rt,
            base: rs,
            offset: word as u16 as i16,
        },
        0x1F if word & 0x3F == 0x3B => {
            if rs == 0 && field(word, 6, 5) == 0 {
                Instruction::Rdhwr { rt, rd }
            } else {
                Instruction::Reserved
            }
        }
        _ => Instruction::Other,
    }
}

const fn decode_cop0(word: u32, rs: u8, rt: u8, rd: u8) -> Instruction {
    if rs & 0x10 != 0 {
        // CO = 1: function in bits 5:0.
        let func = word & 0x3F;
        let middle_zero = (word >> 6) & 0x7FFFF == 0;
        return match func {
            0x20 => Instruction::Wait,
            0x01 if middle_zero => Instruction::Tlbr,
            0x02 if middle_zero => Instruction::Tlbwi,
            0x06 if middle_zero => Instruction::Tlbwr,
            0x08 if middle_zero => Instruction::Tlbp,
            0x18 if middle_zero => Instruction::Eret,
            0x1F if middle_zero => Instruction::Deret,
            _ => Instruction::Reserved,
        };
    }
    let sel = field(word, 0, 3);
    let zero_10_3 = (word >> 3) & 0xFF == 0;
    match rs {
        0x00 if zero_10_3 => Instruction::Mfc0 { rt, rd, sel },
        0x04 if zero_10_3 => Instruction::Mtc0 { rt, rd, sel },
        0x0A if word & 0x7FF == 0 => Instruction::Rdpgpr { rd, rt },
        0x0E if word & 0x7FF == 0 => Instruction::Wrpgpr { rd, rt },
        // MFMC0: rd must be 12 (Status), bits 10:6 and 4:0 zero; bit 5 selects ei.
        0x0B if word & 0xFFDF == 0x6000 => {
            if word & 0x20 != 0 {
                Instruction::Ei { rt }
            } else {
                Instruction::Di { rt }
            }
        }
        _ => Instruction::Reserved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Instruction::*;

    #[test]
    fn cop0_moves() {
        // mfc0 $k0, $12 (Status); mtc0 $k1, $14 (EPC); mfc0 $t0, $16, 1 (Config1)
        assert_eq!(
            decode(0x401A_6000),
            Mfc0 {
                rt: 26,
                rd: 12,
                sel: 0
            }
        );
        assert_eq!(
            decode(0x409B_7000),
            Mtc0 {
                rt: 27,
                rd: 14,
                sel: 0
            }
        );
        assert_eq!(
            decode(0x4008_8001),
            Mfc0 {
                rt: 8,
                rd: 16,
                sel: 1
            }
        );
        // Non-zero bits 10:3 are reserved.
        assert_eq!(decode(0x401A_6008), Reserved);
        // dmfc0 / mfhc0 do not exist on MIPS32r2.
        assert_eq!(decode(0x403A_6000), Reserved);
        assert_eq!(decode(0x405A_6000), Reserved);
    }

    #[test]
    fn hypercall_is_exact() {
        assert_eq!(decode(HYPERCALL_WORD), Hypercall);
        // mtc0 $v0, $1 is an ordinary (ignored) write to Random.
        assert_eq!(
            decode(0x4082_0800),
            Mtc0 {
                rt: 2,
                rd: 1,
                sel: 0
            }
        );
        // mtc0 $zero, $1, 1 is not the hypercall either.
        assert_eq!(
            decode(0x4080_0801),
            Mtc0 {
                rt: 0,
                rd: 1,
                sel: 1
            }
        );
    }

    #[test]
    fn cop0_functions() {
        assert_eq!(decode(0x4200_0001), Tlbr);
        assert_eq!(decode(0x4200_0002), Tlbwi);
        assert_eq!(decode(0x4200_0006), Tlbwr);
        assert_eq!(decode(0x4200_0008), Tlbp);
        assert_eq!(decode(0x4200_0018), Eret);
        assert_eq!(decode(0x4200_001F), Deret);
        assert_eq!(decode(0x4200_0020), Wait);
        assert_eq!(decode(0x4212_3460), Wait);
        // eretnc (release 5) and tlbinv (release 5) are reserved on a 24Kc.
        assert_eq!(decode(0x4200_0058), Reserved);
        assert_eq!(decode(0x4200_0003), Reserved);
        assert_eq!(decode(0x4200_0004), Reserved);
    }

    #[test]
    fn mfmc0() {
        // di $t0 = 0x41686000, ei $t0 = 0x41686020, di (rt=0) = 0x41606000
        assert_eq!(decode(0x4168_6000), Di { rt: 8 });
        assert_eq!(decode(0x4168_6020), Ei { rt: 8 });
        assert_eq!(decode(0x4160_6000), Di { rt: 0 });
        assert_eq!(decode(0x4168_6800), Reserved);
        assert_eq!(decode(0x4168_6001), Reserved);
    }

    #[test]
    fn shadow_register_moves() {
        // rdpgpr $v0, $sp: 0x41401000 | rt=29<<16 | rd=2<<11
        assert_eq!(decode(0x415D_1000), Rdpgpr { rd: 2, rt: 29 });
        assert_eq!(decode(0x41DD_1000), Wrpgpr { rd: 2, rt: 29 });
    }

    #[test]
    fn cache_and_rdhwr() {
        // cache 0x15, -32($a0)
        assert_eq!(
            decode(0xBC95_FFE0),
            Cache {
                op: 0x15,
                base: 4,
                offset: -32
            }
        );
        // rdhwr $v1, $29 = 0x7c03e83b
        assert_eq!(decode(0x7C03_E83B), Rdhwr { rt: 3, rd: 29 });
        assert_eq!(decode(0x7C23_E83B), Reserved);
        assert_eq!(decode(0x7C03_E87B), Reserved);
        // lwc1 / cop1 / addu are not ours.
        assert_eq!(decode(0xC480_0000), Other);
        assert_eq!(decode(0x4600_0000), Other);
        assert_eq!(decode(0x0000_0021), Other);
    }
}
