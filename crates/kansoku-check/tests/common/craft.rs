//! Hand-crafting regf structures libhivex never writes (`ri` index lists, `db` big data), to
//! test the reader and editor on them. Cells are carved from free cells of the hive, or from
//! a new hive bin appended to the file. Test-only; every crafted hive is checked against
//! nt-hive and libhivex before it is used.

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// A hive image under construction.
pub struct Craft {
    pub bytes: Vec<u8>,
}

impl Craft {
    pub fn new(bytes: Vec<u8>) -> Craft {
        Craft { bytes }
    }

    fn bins_size(&self) -> usize {
        u32_at(&self.bytes, 0x28) as usize
    }

    /// Appends a hive bin of `size` bytes (a multiple of 4096) holding one free cell.
    pub fn add_bin(&mut self, size: usize) {
        let rel = self.bins_size();
        let at = 4096 + rel;
        assert_eq!(self.bytes.len(), at, "the file has data after its bins");
        self.bytes.resize(at + size, 0);
        self.bytes[at..at + 4].copy_from_slice(b"hbin");
        self.bytes[at + 4..at + 8].copy_from_slice(&(rel as u32).to_le_bytes());
        self.bytes[at + 8..at + 12].copy_from_slice(&(size as u32).to_le_bytes());
        let free = (size - 32) as i32;
        self.bytes[at + 32..at + 36].copy_from_slice(&free.to_le_bytes());
        self.bytes[0x28..0x2c].copy_from_slice(&((rel + size) as u32).to_le_bytes());
    }

    /// Allocates a cell holding `payload` from the first free cell large enough.
    pub fn alloc(&mut self, payload: &[u8]) -> u32 {
        let need = (payload.len() + 4).div_ceil(8) * 8;
        let end = 4096 + self.bins_size();
        let mut bin = 4096;
        while bin < end {
            assert_eq!(&self.bytes[bin..bin + 4], b"hbin");
            let bin_end = bin + u32_at(&self.bytes, bin + 8) as usize;
            let mut cell = bin + 32;
            while cell < bin_end {
                let size = u32_at(&self.bytes, cell) as i32;
                let len = size.unsigned_abs() as usize;
                if size > 0 && len >= need {
                    let take = if len - need >= 16 { need } else { len };
                    if take < len {
                        let rest = (len - take) as i32;
                        self.bytes[cell + take..cell + take + 4]
                            .copy_from_slice(&rest.to_le_bytes());
                    }
                    self.bytes[cell..cell + 4].copy_from_slice(&(-(take as i32)).to_le_bytes());
                    self.bytes[cell + 4..cell + take].fill(0);
                    self.bytes[cell + 4..cell + 4 + payload.len()].copy_from_slice(payload);
                    return (cell - 4096) as u32;
                }
                assert!(len >= 8, "bad cell at {cell:#x}");
                cell += len;
            }
            bin = bin_end;
        }
        panic!("no free cell of {need} bytes; add a bin");
    }

    /// Marks an allocated cell free.
    pub fn free(&mut self, off: u32) {
        let at = 4096 + off as usize;
        let size = u32_at(&self.bytes, at) as i32;
        assert!(size < 0);
        self.bytes[at..at + 4].copy_from_slice(&(-size).to_le_bytes());
    }

    /// Writes a u32 field of the cell at `off`.
    pub fn put32(&mut self, off: u32, field: usize, v: u32) {
        let at = 4096 + off as usize + 4 + field;
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// Reads a u32 field of the cell at `off`.
    pub fn get32(&self, off: u32, field: usize) -> u32 {
        u32_at(&self.bytes, 4096 + off as usize + 4 + field)
    }

    /// The payload of the cell at `off`.
    pub fn cell(&self, off: u32) -> &[u8] {
        let at = 4096 + off as usize;
        let len = (u32_at(&self.bytes, at) as i32).unsigned_abs() as usize;
        &self.bytes[at + 4..at + len]
    }

    /// Recomputes the base block checksum.
    pub fn seal(&mut self) {
        let mut x = 0u32;
        for i in 0..127 {
            x ^= u32_at(&self.bytes, i * 4);
        }
        let x = match x {
            0 => 1,
            u32::MAX => u32::MAX - 1,
            x => x,
        };
        self.bytes[0x1fc..0x200].copy_from_slice(&x.to_le_bytes());
    }
}
