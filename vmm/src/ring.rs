//! A fixed-capacity byte ring for guest console traffic (output kept for the attached
//! terminal, input waiting for the guest's next posted buffer). When full, the oldest output is
//! dropped: a console shows the latest text, like a terminal's scrollback.

/// Bytes of console output kept per guest while nobody is attached.
pub const CONSOLE_OUT_CAPACITY: usize = 4096;
/// Bytes of console input waiting for the guest.
pub const CONSOLE_IN_CAPACITY: usize = 512;

/// A ring of at most `N` bytes.
pub struct ByteRing<const N: usize> {
    buf: [u8; N],
    head: usize,
    len: usize,
}

impl<const N: usize> Default for ByteRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ByteRing<N> {
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            head: 0,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Append, dropping the oldest bytes if needed.
    pub fn push_overwrite(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.len == N {
                self.head = (self.head + 1) % N;
                self.len -= 1;
            }
            self.buf[(self.head + self.len) % N] = b;
            self.len += 1;
        }
    }

    /// Append as much as fits; returns how many bytes were taken.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(N - self.len);
        for &b in &bytes[..n] {
            self.buf[(self.head + self.len) % N] = b;
            self.len += 1;
        }
        n
    }

    /// Remove up to `out.len()` bytes into `out`.
    pub fn pop(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len);
        for slot in &mut out[..n] {
            *slot = self.buf[self.head];
            self.head = (self.head + 1) % N;
        }
        self.len -= n;
        n
    }

    /// Copy up to `out.len()` bytes from the front without removing them.
    pub fn peek(&self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len);
        for (i, slot) in out[..n].iter_mut().enumerate() {
            *slot = self.buf[(self.head + i) % N];
        }
        n
    }

    /// Drop `n` bytes from the front.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % N;
        self.len -= n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_and_capacity() {
        let mut r: ByteRing<4> = ByteRing::new();
        assert_eq!(r.push(b"abcdef"), 4);
        let mut out = [0u8; 8];
        assert_eq!(r.pop(&mut out[..2]), 2);
        assert_eq!(&out[..2], b"ab");
        assert_eq!(r.push(b"xyz"), 2);
        assert_eq!(r.pop(&mut out), 4);
        assert_eq!(&out[..4], b"cdxy");
        assert!(r.is_empty());
    }

    #[test]
    fn overwrite_keeps_the_latest_bytes() {
        let mut r: ByteRing<4> = ByteRing::new();
        r.push_overwrite(b"abcdefg");
        let mut out = [0u8; 4];
        assert_eq!(r.peek(&mut out), 4);
        assert_eq!(&out, b"defg");
        r.consume(3);
        assert_eq!(r.pop(&mut out), 1);
        assert_eq!(out[0], b'g');
    }
}
