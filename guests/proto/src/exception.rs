//! MIPS32 exception codes (Cause.ExcCode) and their conventional short names.

/// Interrupt.
pub const INT: u32 = 0;
/// TLB modification.
pub const MOD: u32 = 1;
/// TLB miss on load or fetch.
pub const TLBL: u32 = 2;
/// TLB miss on store.
pub const TLBS: u32 = 3;
/// Address error on load or fetch.
pub const ADEL: u32 = 4;
/// Address error on store.
pub const ADES: u32 = 5;
/// Bus error on fetch.
pub const IBE: u32 = 6;
/// Bus error on data.
pub const DBE: u32 = 7;
/// System call.
pub const SYS: u32 = 8;
/// Breakpoint.
pub const BP: u32 = 9;
/// Reserved instruction.
pub const RI: u32 = 10;
/// Coprocessor unusable.
pub const CPU: u32 = 11;

/// The short name of an exception code (`AdEL`, `TLBL`, `CpU`, ...; `Exc<n>` when unnamed).
pub fn name(code: u32) -> ExceptionName {
    ExceptionName(code)
}

/// Whether BadVAddr is meaningful for this code (TLB and address-error exceptions).
pub const fn has_bad_vaddr(code: u32) -> bool {
    matches!(code, MOD | TLBL | TLBS | ADEL | ADES)
}

/// Display of an exception code's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExceptionName(pub u32);

impl core::fmt::Display for ExceptionName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        const NAMES: [&str; 14] = [
            "Int", "Mod", "TLBL", "TLBS", "AdEL", "AdES", "IBE", "DBE", "Sys", "Bp", "RI", "CpU",
            "Ov", "Tr",
        ];
        match self.0 {
            c @ 0..=13 => f.write_str(NAMES[c as usize]),
            15 => f.write_str("FPE"),
            23 => f.write_str("WATCH"),
            24 => f.write_str("MCheck"),
            c => write!(f, "Exc{c}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Text;

    #[test]
    fn names() {
        let show = |c| Text::<8>::format(format_args!("{}", name(c)));
        assert_eq!(show(ADEL).as_str(), "AdEL");
        assert_eq!(show(CPU).as_str(), "CpU");
        assert_eq!(show(23).as_str(), "WATCH");
        assert_eq!(show(30).as_str(), "Exc30");
        assert!(has_bad_vaddr(TLBS) && !has_bad_vaddr(RI));
    }
}
