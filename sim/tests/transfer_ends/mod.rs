//! The terminal side's file ends shared by the transfer tests: a [`Source`] over bytes in
//! memory and a [`Sink`] that keeps every file that arrived whole.

use zmodem::{FileOffer, Refused, Sink, Source, Stop};

pub struct Data(pub Vec<u8>);

impl Source for Data {
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Stop> {
        let d = self.0.get(offset as usize..).ok_or(Stop)?;
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Ok(n)
    }
}

#[derive(Default)]
pub struct Kept {
    open: Option<Vec<u8>>,
    pub files: Vec<Vec<u8>>,
}

impl Sink for Kept {
    fn begin(&mut self, _offer: &FileOffer<'_>) -> Result<(), Refused> {
        self.open = Some(Vec::new());
        Ok(())
    }
    fn write(&mut self, _offset: u64, data: &[u8]) -> Result<(), Stop> {
        self.open.as_mut().ok_or(Stop)?.extend_from_slice(data);
        Ok(())
    }
    fn end(&mut self, _size: u64) -> Result<(), Stop> {
        let f = self.open.take().ok_or(Stop)?;
        self.files.push(f);
        Ok(())
    }
    fn discard(&mut self) {
        self.open = None;
    }
}
