//! The block device the store runs on: 4 KiB blocks, read, write, and a flush that makes every
//! earlier write durable.
//!
//! The store's power-cut guarantee rests on exactly this contract: a write that returned may
//! still sit in a volatile cache (lost, or torn, at a power cut) until a later `flush` returns;
//! writes issued after a flush are never made durable before it. A board adapts its driver
//! (virtio-blk: 8 sectors per block, `VIRTIO_BLK_T_FLUSH`) to this trait.

/// Bytes per block.
pub const BLOCK_SIZE: usize = 4096;

/// One block's bytes.
pub type Block = [u8; BLOCK_SIZE];

/// Why the device failed a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceError {
    /// The block number is past the end of the device.
    OutOfRange,
    /// The device reported an error (a bad sector, a failed request).
    Failed,
    /// The device did not answer in time.
    Timeout,
    /// Power was lost (the simulated device after a cut).
    PowerLost,
}

/// A device of `block_count` blocks of [`BLOCK_SIZE`] bytes.
pub trait BlockDevice {
    /// How many blocks the device holds.
    fn block_count(&self) -> u64;
    /// Read block `block` into `buf`.
    fn read(&mut self, block: u64, buf: &mut Block) -> Result<(), DeviceError>;
    /// Write `data` to block `block` (durable only after the next [`flush`](Self::flush)).
    fn write(&mut self, block: u64, data: &Block) -> Result<(), DeviceError>;
    /// Make every write issued so far durable.
    fn flush(&mut self) -> Result<(), DeviceError>;
}

impl<T: BlockDevice + ?Sized> BlockDevice for &mut T {
    fn block_count(&self) -> u64 {
        (**self).block_count()
    }
    fn read(&mut self, block: u64, buf: &mut Block) -> Result<(), DeviceError> {
        (**self).read(block, buf)
    }
    fn write(&mut self, block: u64, data: &Block) -> Result<(), DeviceError> {
        (**self).write(block, data)
    }
    fn flush(&mut self) -> Result<(), DeviceError> {
        (**self).flush()
    }
}

impl<T: BlockDevice + ?Sized> BlockDevice for alloc::boxed::Box<T> {
    fn block_count(&self) -> u64 {
        (**self).block_count()
    }
    fn read(&mut self, block: u64, buf: &mut Block) -> Result<(), DeviceError> {
        (**self).read(block, buf)
    }
    fn write(&mut self, block: u64, data: &Block) -> Result<(), DeviceError> {
        (**self).write(block, data)
    }
    fn flush(&mut self) -> Result<(), DeviceError> {
        (**self).flush()
    }
}
