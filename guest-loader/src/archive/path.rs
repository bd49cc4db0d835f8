//! Member names to tree paths: relative to the guest's root, `/`-separated, no `.` or empty
//! components, no trailing `/`, and never a `..` component (that would leave the root).

/// Why a name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathProblem {
    /// Longer than the output buffer allows.
    TooLong,
    /// A `..` component or a NUL byte.
    Bad,
}

/// Normalizes the concatenation of `parts` into `out`, returning the length used.
/// `out` must have room for the longest accepted path plus one byte.
pub(crate) fn normalize(parts: &[&[u8]], out: &mut [u8]) -> Result<usize, PathProblem> {
    let mut len = 0;
    let mut component = 0;
    let bytes = parts
        .iter()
        .flat_map(|p| p.iter().copied())
        .chain(core::iter::once(b'/'));
    for b in bytes {
        match b {
            0 => return Err(PathProblem::Bad),
            b'/' => {
                match &out[component..len] {
                    b"" | b"." => len = component,
                    b".." => return Err(PathProblem::Bad),
                    _ => {
                        *out.get_mut(len).ok_or(PathProblem::TooLong)? = b'/';
                        len += 1;
                    }
                }
                component = len;
            }
            _ => {
                *out.get_mut(len).ok_or(PathProblem::TooLong)? = b;
                len += 1;
            }
        }
    }
    // Drop the separator after the last component.
    let len = len.saturating_sub(1);
    if len >= out.len() {
        return Err(PathProblem::TooLong);
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(parts: &[&[u8]]) -> Result<alloc::vec::Vec<u8>, PathProblem> {
        let mut out = [0u8; 17];
        normalize(parts, &mut out).map(|n| out[..n].to_vec())
    }

    #[test]
    fn cleans_names() {
        assert_eq!(norm(&[b"./kernel"]).unwrap(), b"kernel");
        assert_eq!(norm(&[b"kernel"]).unwrap(), b"kernel");
        assert_eq!(norm(&[b"/etc//init.d/./rc/"]).unwrap(), b"etc/init.d/rc");
        assert_eq!(norm(&[b"./"]).unwrap(), b"");
        assert_eq!(norm(&[b"usr", b"/", b"bin"]).unwrap(), b"usr/bin");
        assert_eq!(norm(&[b"a..b/...c"]).unwrap(), b"a..b/...c");
    }

    #[test]
    fn refuses_escapes_nul_and_long_names() {
        assert_eq!(norm(&[b"../etc"]), Err(PathProblem::Bad));
        assert_eq!(norm(&[b"a/../../b"]), Err(PathProblem::Bad));
        assert_eq!(norm(&[b"a/.."]), Err(PathProblem::Bad));
        assert_eq!(norm(&[b"a\0b"]), Err(PathProblem::Bad));
        assert_eq!(norm(&[b"0123456789abcdef"]).unwrap().len(), 16);
        assert_eq!(norm(&[b"0123456789abcdefg"]), Err(PathProblem::TooLong));
        assert_eq!(norm(&[b"0123456789abcdef/"]).unwrap().len(), 16);
    }
}
