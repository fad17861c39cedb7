//! A minimal PE32 DLL builder for fixtures: headers, one `.rsrc` section, and an RT_VERSION
//! resource whose VS_FIXEDFILEINFO carries the requested file version. Enough for a real PE
//! parser (pelite) to read the version; no code, never a real Windows binary.

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The VS_VERSIONINFO block: header, "VS_VERSION_INFO", padding, VS_FIXEDFILEINFO.
fn version_info(v: [u16; 4]) -> Vec<u8> {
    let key: Vec<u8> = "VS_VERSION_INFO\0"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let mut b = vec![0u8; 6];
    b.extend_from_slice(&key);
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
    let fixed_at = b.len();
    b.resize(fixed_at + 52, 0);
    put32(&mut b, fixed_at, 0xfeef_04bd);
    put32(&mut b, fixed_at + 4, 0x0001_0000);
    let ms = (u32::from(v[0]) << 16) | u32::from(v[1]);
    let ls = (u32::from(v[2]) << 16) | u32::from(v[3]);
    put32(&mut b, fixed_at + 8, ms);
    put32(&mut b, fixed_at + 12, ls);
    put32(&mut b, fixed_at + 16, ms);
    put32(&mut b, fixed_at + 20, ls);
    put32(&mut b, fixed_at + 24, 0x3f);
    put32(&mut b, fixed_at + 32, 0x0004_0004); // VOS_NT_WINDOWS32
    put32(&mut b, fixed_at + 36, 2); // VFT_DLL
    let len = b.len() as u16;
    put16(&mut b, 0, len);
    put16(&mut b, 2, 52);
    put16(&mut b, 4, 0);
    b
}

/// The resource section: root -> RT_VERSION (16) -> id 1 -> language 0x409 -> data.
fn rsrc(section_rva: u32, v: [u16; 4]) -> Vec<u8> {
    let data = version_info(v);
    let mut b = vec![0u8; 88];
    // Three directories of one id entry each, at 0, 24 and 48; the data entry at 72.
    for (dir, id, target) in [
        (0usize, 16u32, 0x8000_0000 | 24),
        (24, 1, 0x8000_0000 | 48),
        (48, 0x409, 72),
    ] {
        put16(&mut b, dir + 14, 1);
        put32(&mut b, dir + 16, id);
        put32(&mut b, dir + 20, target);
    }
    put32(&mut b, 72, section_rva + 88);
    put32(&mut b, 76, data.len() as u32);
    b.extend_from_slice(&data);
    b
}

/// A PE32 DLL image whose file version is `v` (`[major, minor, build, revision]`).
pub fn dll_with_version(v: [u16; 4]) -> Vec<u8> {
    const FILE_ALIGN: usize = 0x200;
    const RSRC_RVA: u32 = 0x1000;
    let res = rsrc(RSRC_RVA, v);
    let raw_size = res.len().div_ceil(FILE_ALIGN) * FILE_ALIGN;
    let mut b = vec![0u8; FILE_ALIGN + raw_size];
    b[0..2].copy_from_slice(b"MZ");
    put32(&mut b, 0x3c, 0x40);
    b[0x40..0x44].copy_from_slice(b"PE\0\0");
    let coff = 0x44;
    put16(&mut b, coff, 0x14c); // i386
    put16(&mut b, coff + 2, 1); // one section
    put16(&mut b, coff + 16, 0xe0); // optional header size
    put16(&mut b, coff + 18, 0x2102); // DLL | 32-bit | executable
    let opt = coff + 20;
    put16(&mut b, opt, 0x10b); // PE32
    put32(&mut b, opt + 8, raw_size as u32); // SizeOfInitializedData
    put32(&mut b, opt + 20, RSRC_RVA); // BaseOfCode
    put32(&mut b, opt + 24, RSRC_RVA); // BaseOfData
    put32(&mut b, opt + 28, 0x1000_0000); // ImageBase
    put32(&mut b, opt + 32, 0x1000); // SectionAlignment
    put32(&mut b, opt + 36, FILE_ALIGN as u32);
    put16(&mut b, opt + 40, 5); // OS version 5.1
    put16(&mut b, opt + 42, 1);
    put16(&mut b, opt + 48, 5); // subsystem version 5.1
    put16(&mut b, opt + 50, 1);
    let image_size = RSRC_RVA as usize + res.len().div_ceil(0x1000) * 0x1000;
    put32(&mut b, opt + 56, image_size as u32);
    put32(&mut b, opt + 60, FILE_ALIGN as u32); // SizeOfHeaders
    put16(&mut b, opt + 68, 3); // console subsystem
    put32(&mut b, opt + 72, 0x40000); // stack reserve
    put32(&mut b, opt + 76, 0x1000);
    put32(&mut b, opt + 80, 0x100000); // heap reserve
    put32(&mut b, opt + 84, 0x1000);
    put32(&mut b, opt + 92, 16); // NumberOfRvaAndSizes
    let dirs = opt + 96;
    put32(&mut b, dirs + 2 * 8, RSRC_RVA); // resource directory
    put32(&mut b, dirs + 2 * 8 + 4, res.len() as u32);
    let sec = opt + 0xe0;
    b[sec..sec + 5].copy_from_slice(b".rsrc");
    put32(&mut b, sec + 8, res.len() as u32); // VirtualSize
    put32(&mut b, sec + 12, RSRC_RVA);
    put32(&mut b, sec + 16, raw_size as u32);
    put32(&mut b, sec + 20, FILE_ALIGN as u32);
    put32(&mut b, sec + 36, 0x4000_0040); // initialized data, readable
    b[FILE_ALIGN..FILE_ALIGN + res.len()].copy_from_slice(&res);
    b
}
