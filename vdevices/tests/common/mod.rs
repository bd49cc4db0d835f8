//! A model guest for the tests: RAM as a `Vec<u8>` laid out like a real guest's, and the guest
//! side of each driver written after the guest sources (`setup.c`, `hvc_meta.c`, `mtveth.c`,
//! metaDIE, `metafs/inode.c`), so the host side is tested against what guests really do.
#![allow(dead_code)]

pub mod metafs;

use guest_mem::{GuestRam, Gva};
use vdevices::abi::DONE;
use vdevices::GuestDevices;

pub const MIPS_BASE: u32 = 0xC000_0000;

/// Guest RAM plus a bump allocator for placing rings and buffers.
pub struct Guest {
    pub mem: Vec<u8>,
    pub base: u32,
    brk: u32,
}

impl Guest {
    pub fn new(size: usize) -> Self {
        Self::with_base(size, MIPS_BASE)
    }

    pub fn with_base(size: usize, base: u32) -> Self {
        // Start past the first page, as a kernel image would.
        Self {
            mem: vec![0; size],
            base,
            brk: base + 0x1000,
        }
    }

    pub fn ram(&mut self) -> GuestRam<'_> {
        GuestRam::new(&mut self.mem, Gva::new(self.base)).unwrap()
    }

    pub fn end(&self) -> u32 {
        self.base + self.mem.len() as u32
    }

    pub fn alloc(&mut self, size: u32, align: u32) -> u32 {
        let at = (self.brk + align - 1) & !(align - 1);
        self.brk = at + size;
        assert!(self.brk <= self.end(), "model guest out of RAM");
        at
    }

    fn off(&self, gva: u32) -> usize {
        (gva - self.base) as usize
    }

    pub fn w32(&mut self, gva: u32, v: u32) {
        let o = self.off(gva);
        self.mem[o..o + 4].copy_from_slice(&v.to_be_bytes());
    }

    pub fn r32(&self, gva: u32) -> u32 {
        let o = self.off(gva);
        u32::from_be_bytes(self.mem[o..o + 4].try_into().unwrap())
    }

    pub fn write(&mut self, gva: u32, bytes: &[u8]) {
        let o = self.off(gva);
        self.mem[o..o + bytes.len()].copy_from_slice(bytes);
    }

    pub fn read(&self, gva: u32, len: u32) -> Vec<u8> {
        let o = self.off(gva);
        self.mem[o..o + len as usize].to_vec()
    }

    // Descriptor fields.
    pub fn d_addr(&self, d: u32) -> u32 {
        self.r32(d)
    }
    pub fn d_size(&self, d: u32) -> u32 {
        self.r32(d + 4)
    }
    pub fn d_next(&self, d: u32) -> u32 {
        self.r32(d + 8)
    }
    pub fn set_desc(&mut self, d: u32, addr: u32, size: u32, next: u32) {
        self.w32(d, addr);
        self.w32(d + 4, size);
        self.w32(d + 8, next);
    }

    /// `count` descriptors in an array, linked in a circle (as every guest driver does), each
    /// with its own buffer of `buf` bytes (if any) and `size` set to `size`.
    pub fn ring(&mut self, count: u32, buf: u32, size: u32) -> Ring {
        let head = self.alloc(16 * count, 16);
        let mut bufs = Vec::new();
        for i in 0..count {
            let b = if buf > 0 { self.alloc(buf, 16) } else { 0 };
            bufs.push(b);
            let next = if i + 1 == count {
                head
            } else {
                head + 16 * (i + 1)
            };
            self.set_desc(head + 16 * i, b, size, next);
        }
        Ring { head, count, bufs }
    }

    /// Hypercall 14 with a fresh virq word; returns its address.
    pub fn setup_irqs(&mut self, dev: &mut GuestDevices) -> u32 {
        let word = self.alloc(4, 4);
        assert_eq!(self.hypercall(dev, 14, [word, 32, 0, 0]), 0);
        word
    }

    pub fn hypercall(&mut self, dev: &mut GuestDevices, nr: u32, args: [u32; 4]) -> i32 {
        dev.hypercall(&mut self.ram(), nr, args)
    }

    pub fn create_queue(
        &mut self,
        dev: &mut GuestDevices,
        id: u32,
        irq: u32,
        tx: u32,
        rx: u32,
    ) -> i32 {
        self.hypercall(dev, 4, [id, irq, tx, rx])
    }
}

pub struct Ring {
    pub head: u32,
    pub count: u32,
    pub bufs: Vec<u32>,
}

impl Ring {
    pub fn desc(&self, i: u32) -> u32 {
        self.head + 16 * (i % self.count)
    }
}

/// Guest side of `arch/mips/rb/vm/setup.c`: 4 x 256 bytes each way.
pub struct LinuxControl {
    pub tx: Ring,
    pub rx: Ring,
    cur_tx: u32,
    cur_rx: u32,
}

impl LinuxControl {
    pub fn setup(g: &mut Guest, dev: &mut GuestDevices) -> Self {
        let rx = g.ring(4, 256, 256);
        let tx = g.ring(4, 256, 0);
        assert_eq!(g.create_queue(dev, 0, 0, tx.head, rx.head), 0);
        Self {
            tx,
            rx,
            cur_tx: 0,
            cur_rx: 0,
        }
    }

    /// `send_message`; returns false where the guest would `wait` for the host.
    pub fn send(&mut self, g: &mut Guest, msg: &[u8]) -> bool {
        let d = self.tx.desc(self.cur_tx);
        if g.d_size(d) & DONE != 0 {
            return false;
        }
        let len = msg.len().min(256) as u32;
        g.write(self.tx.bufs[self.cur_tx as usize], &msg[..len as usize]);
        g.w32(d + 4, len | DONE);
        self.cur_tx = (self.cur_tx + 1) % 4;
        true
    }

    /// `ctrl_interrupt`: what the guest makes of the next host message.
    pub fn receive(&mut self, g: &mut Guest) -> Option<&'static str> {
        let d = self.rx.desc(self.cur_rx);
        if g.d_size(d) & DONE == 0 {
            return None;
        }
        let len = (g.d_size(d) & !DONE).min(256);
        let buf = g.read(self.rx.bufs[self.cur_rx as usize], len);
        g.w32(d + 4, 256);
        self.cur_rx = (self.cur_rx + 1) % 4;
        // strncmp(buf, "restart", len) == 0, as the guest does.
        let strncmp_eq = |word: &[u8]| {
            for (i, &a) in buf.iter().enumerate() {
                let b = word.get(i).copied().unwrap_or(0);
                if a != b {
                    return false;
                }
                if a == 0 {
                    return true;
                }
            }
            true
        };
        if strncmp_eq(b"restart") {
            Some("restart")
        } else if strncmp_eq(b"halt") {
            Some("halt")
        } else {
            Some("other")
        }
    }
}

/// Guest side of `hvc_meta.c`: one 4096-byte descriptor each way, self-linked.
pub struct LinuxConsole {
    pub tx: u32,
    pub rx: u32,
    pub tx_buf: u32,
    pub rx_buf: u32,
    rx_offset: u32,
}

pub const CONSOLE_BUF: u32 = 4096;

impl LinuxConsole {
    pub fn setup(g: &mut Guest, dev: &mut GuestDevices) -> Self {
        let rx = g.alloc(16, 16);
        let tx = g.alloc(16, 16);
        let rx_buf = g.alloc(CONSOLE_BUF, 16);
        let tx_buf = g.alloc(CONSOLE_BUF, 16);
        g.set_desc(rx, rx_buf, CONSOLE_BUF, rx);
        g.set_desc(tx, tx_buf, 0, tx);
        assert_eq!(g.create_queue(dev, 1, 1, tx, rx), 0);
        Self {
            tx,
            rx,
            tx_buf,
            rx_buf,
            rx_offset: 0,
        }
    }

    /// `put_chars`, one pass of its loop (the guest would `wait` and retry when full).
    pub fn put_chars(&mut self, g: &mut Guest, buf: &[u8]) -> usize {
        // size = xchg(&tx_descr.size, 0)
        let size = g.d_size(self.tx);
        g.w32(self.tx + 4, 0);
        if size & DONE == 0 {
            let count = buf.len().min(CONSOLE_BUF as usize);
            g.write(self.tx_buf, &buf[..count]);
            g.w32(self.tx + 4, count as u32 | DONE);
            return count;
        }
        if size == CONSOLE_BUF | DONE {
            // Full: the guest puts it back and yields.
            g.w32(self.tx + 4, size);
            return 0;
        }
        let size = size & !DONE;
        let count = ((CONSOLE_BUF - size) as usize).min(buf.len());
        g.write(self.tx_buf + size, &buf[..count]);
        g.w32(self.tx + 4, (size + count as u32) | DONE);
        count
    }

    /// `get_chars`.
    pub fn get_chars(&mut self, g: &mut Guest, count: usize) -> Option<Vec<u8>> {
        let size = g.d_size(self.rx);
        if size & DONE == 0 {
            return None;
        }
        let avail = (size & !DONE) - self.rx_offset;
        let n = (count as u32).min(avail);
        let out = g.read(self.rx_buf + self.rx_offset, n);
        if n == avail {
            g.w32(self.rx + 4, CONSOLE_BUF);
            self.rx_offset = 0;
        } else {
            self.rx_offset += n;
        }
        Some(out)
    }
}

/// Guest side of `mtveth.c`.
pub struct LinuxVeth {
    pub tx: Ring,
    pub rx: Ring,
    pub rx_size: u32,
    cur_tx: u32,
    last_tx: u32,
    cur_rx: u32,
    /// `devs[]`: the interfaces the guest has, with their MAC.
    pub devs: [Option<[u8; 6]>; 8],
    /// Frames received per interface, in order.
    pub received: Vec<(u16, Vec<u8>)>,
}

impl LinuxVeth {
    pub fn setup(
        g: &mut Guest,
        dev: &mut GuestDevices,
        tx_count: u32,
        rx_count: u32,
        rx_size: u32,
    ) -> Self {
        let me = Self::layout(g, tx_count, rx_count, rx_size);
        assert_eq!(g.create_queue(dev, 3, 3, me.tx.head, me.rx.head), 0);
        me
    }

    pub fn layout(g: &mut Guest, tx_count: u32, rx_count: u32, rx_size: u32) -> Self {
        let rx = g.ring(rx_count, rx_size, rx_size);
        let tx = g.ring(tx_count, 0, 0);
        Self {
            tx,
            rx,
            rx_size,
            cur_tx: 0,
            last_tx: 0,
            cur_rx: 0,
            devs: [None; 8],
            received: Vec::new(),
        }
    }

    /// `veth_xmit`: pads to 60, prefixes the id; false when the descriptor is still owned by
    /// the host (the guest drops the frame).
    pub fn xmit(&mut self, g: &mut Guest, id: u16, frame: &[u8]) -> bool {
        let d = self.tx.desc(self.cur_tx);
        if g.d_size(d) & DONE != 0 {
            return false;
        }
        let mut data = id.to_be_bytes().to_vec();
        data.extend_from_slice(frame);
        if data.len() < 62 {
            data.resize(62, 0);
        }
        // skb->data: a fresh buffer (sk_buffs are allocated by the guest kernel).
        let buf = g.alloc(data.len() as u32, 2);
        g.write(buf, &data);
        g.w32(d, buf);
        g.w32(d + 4, data.len() as u32 | DONE);
        self.cur_tx += 1;
        true
    }

    /// The TX part of `veth_interrupt`: frees the buffers the host has handed back.
    pub fn reclaim(&mut self, g: &Guest) -> u32 {
        let mut freed = 0;
        while self.last_tx != self.cur_tx {
            if g.d_size(self.tx.desc(self.last_tx)) & DONE != 0 {
                break;
            }
            self.last_tx += 1;
            freed += 1;
        }
        freed
    }

    /// The RX part of `veth_interrupt` plus `recv_ctrl_msg` (run synchronously here).
    pub fn interrupt(&mut self, g: &mut Guest) {
        loop {
            let d = self.rx.desc(self.cur_rx);
            let size = g.d_size(d);
            if size & DONE == 0 {
                break;
            }
            let len = size & !DONE;
            let data = g.read(g.d_addr(d), len);
            if data.len() >= 2 {
                let id = u16::from_be_bytes([data[0], data[1]]);
                let body = &data[2..];
                if id == 0 {
                    self.recv_ctrl_msg(body);
                } else if (id as usize) < 8 && self.devs[id as usize].is_some() {
                    self.received.push((id, body.to_vec()));
                }
            }
            // Re-post the same buffer (the real driver allocates a fresh skb).
            g.w32(d + 4, self.rx_size);
            self.cur_rx += 1;
        }
    }

    fn recv_ctrl_msg(&mut self, msg: &[u8]) {
        if msg.len() < 12 {
            return;
        }
        let cmd = u32::from_be_bytes(msg[0..4].try_into().unwrap());
        let id = u16::from_be_bytes([msg[4], msg[5]]) as usize;
        let mac: [u8; 6] = msg[6..12].try_into().unwrap();
        match cmd {
            0 if id < 8 && self.devs[id].is_none() => self.devs[id] = Some(mac),
            1 if id < 8 && self.devs[id].is_some() => self.devs[id] = None,
            _ => {}
        }
    }
}

/// A frame with the given addresses and a payload of `len` bytes in all.
pub fn frame(dst: [u8; 6], src: [u8; 6], len: usize, fill: u8) -> Vec<u8> {
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    while f.len() < len {
        f.push(fill.wrapping_add(f.len() as u8));
    }
    f
}
