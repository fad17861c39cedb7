//! The Windows implementation of [`LiveSystem`]: the registry API for Run values, services
//! and the `HKLM\SOFTWARE` keys of the patch assessment, a ToolHelp snapshot for processes,
//! `OpenMutexW` for mutexes and the IP Helper tables for listening sockets. Everything is
//! read-only.
//!
//! Built and type-checked with `cargo check --target x86_64-pc-windows-gnu`; it has not been
//! run on Windows yet (the development machines have none), which is why the logic it feeds
//! lives in `live.rs` behind the trait, tested with a fake system.

use std::ffi::c_void;
use std::mem::offset_of;
use std::path::PathBuf;

use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND, ERROR_INSUFFICIENT_BUFFER,
    ERROR_MORE_DATA, ERROR_NO_MORE_ITEMS, ERROR_SUCCESS, GetLastError, HANDLE,
    INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetExtendedTcpTable, GetExtendedUdpTable, MIB_TCP6ROW_OWNER_PID, MIB_TCP6TABLE_OWNER_PID,
    MIB_TCPROW_OWNER_PID, MIB_TCPTABLE_OWNER_PID, MIB_UDP6ROW_OWNER_PID, MIB_UDP6TABLE_OWNER_PID,
    MIB_UDPROW_OWNER_PID, MIB_UDPTABLE_OWNER_PID, TCP_TABLE_OWNER_PID_LISTENER,
    UDP_TABLE_OWNER_PID,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW, TH32CS_SNAPPROCESS,
};
use windows_sys::Win32::System::Registry::{
    HKEY, HKEY_LOCAL_MACHINE, HKEY_USERS, KEY_READ, KEY_WOW64_64KEY, REG_EXPAND_SZ, REG_SAM_FLAGS,
    REG_SZ, RegCloseKey, RegEnumKeyExW, RegEnumValueW, RegOpenKeyExW, RegQueryValueExW,
};
use windows_sys::Win32::System::Threading::{
    OpenMutexW, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION, QueryFullProcessImageNameW,
    SYNCHRONIZATION_SYNCHRONIZE,
};

use super::{LiveListener, LiveProcess, LiveRunValue, LiveService, LiveSystem, Proto};

/// The running system this program is on.
#[derive(Debug, Default)]
pub struct WindowsSystem;

/// Run and RunOnce, under HKLM and under each user's hive.
const RUN_KEYS: [&str; 2] = [
    "Software\\Microsoft\\Windows\\CurrentVersion\\Run",
    "Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce",
];

/// Largest string value read: Run commands and OS descriptions take a few hundred bytes, and
/// a bound keeps a huge value from exhausting memory.
const MAX_STRING_VALUE: usize = 4 << 20;

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// UTF-16 up to the first NUL.
fn narrow(units: &[u16]) -> String {
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
    String::from_utf16_lossy(&units[..end])
}

fn win32_error(what: &str, code: u32) -> String {
    format!("{what}: {}", std::io::Error::from_raw_os_error(code as i32))
}

/// An open registry key, closed on drop.
struct Key(HKEY);

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: the handle came from RegOpenKeyExW and is closed once.
        unsafe { RegCloseKey(self.0) };
    }
}

impl Key {
    /// `path` under `parent` for reading; `None` when it does not exist.
    fn open(parent: HKEY, path: &str) -> Result<Option<Key>, String> {
        Key::open_with(parent, path, KEY_READ)
    }

    /// `HKLM\SOFTWARE\<path>` for reading, in the 64-bit view of the registry (a 32-bit
    /// build on 64-bit Windows would otherwise read `Wow6432Node`, which holds neither the
    /// system's update markers nor its OS description).
    fn open_software(path: &str) -> Result<Option<Key>, String> {
        let path = path.trim_matches('\\');
        let full = if path.is_empty() {
            "SOFTWARE".to_owned()
        } else {
            format!("SOFTWARE\\{path}")
        };
        Key::open_with(HKEY_LOCAL_MACHINE, &full, KEY_READ | KEY_WOW64_64KEY)
    }

    /// `path` under `parent` with the access `sam` (read rights only).
    fn open_with(parent: HKEY, path: &str, sam: REG_SAM_FLAGS) -> Result<Option<Key>, String> {
        let mut key: HKEY = std::ptr::null_mut();
        let name = wide(path);
        // SAFETY: `name` is NUL-terminated and outlives the call; `key` receives the handle.
        let status = unsafe { RegOpenKeyExW(parent, name.as_ptr(), 0, sam, &mut key) };
        match status {
            ERROR_SUCCESS => Ok(Some(Key(key))),
            ERROR_FILE_NOT_FOUND => Ok(None),
            code => Err(win32_error(path, code)),
        }
    }

    /// The names of the subkeys.
    fn subkeys(&self) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        let mut buf = vec![0u16; 256]; // key names are at most 255 characters
        for index in 0.. {
            let mut len = buf.len() as u32;
            // SAFETY: `buf` holds `len` units; the optional outputs are null.
            let status = unsafe {
                RegEnumKeyExW(
                    self.0,
                    index,
                    buf.as_mut_ptr(),
                    &mut len,
                    std::ptr::null(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            match status {
                ERROR_SUCCESS => {
                    // `len` excludes the NUL; never trust it past the buffer.
                    let len = (len as usize).min(buf.len());
                    names.push(String::from_utf16_lossy(&buf[..len]));
                }
                ERROR_NO_MORE_ITEMS => break,
                code => return Err(win32_error("enumerating subkeys", code)),
            }
        }
        Ok(names)
    }

    /// The string values (REG_SZ, REG_EXPAND_SZ unexpanded) as (name, data).
    fn string_values(&self) -> Result<Vec<(String, String)>, String> {
        let mut values = Vec::new();
        let mut name = vec![0u16; 16_384]; // value names are at most 16,383 characters
        let mut data = vec![0u8; 4096];
        let mut index = 0;
        loop {
            let mut name_len = name.len() as u32;
            let mut data_len = data.len() as u32;
            let mut kind = 0u32;
            // SAFETY: both buffers hold the lengths passed.
            let status = unsafe {
                RegEnumValueW(
                    self.0,
                    index,
                    name.as_mut_ptr(),
                    &mut name_len,
                    std::ptr::null(),
                    &mut kind,
                    data.as_mut_ptr(),
                    &mut data_len,
                )
            };
            match status {
                ERROR_SUCCESS => {
                    if kind == REG_SZ || kind == REG_EXPAND_SZ {
                        values.push((
                            String::from_utf16_lossy(&name[..name_len as usize]),
                            utf16_bytes(&data[..data_len as usize]),
                        ));
                    }
                    index += 1;
                }
                // A value larger than the buffer: grow it and read the same index again.
                ERROR_MORE_DATA => data.resize((data_len as usize).max(data.len() * 2), 0),
                ERROR_NO_MORE_ITEMS => break,
                code => return Err(win32_error("enumerating values", code)),
            }
        }
        Ok(values)
    }

    /// One string value, if present and a string.
    fn string(&self, value: &str) -> Option<String> {
        self.query_string(value).ok().flatten()
    }

    /// One string value (REG_SZ, REG_EXPAND_SZ unexpanded): `Ok(None)` when it does not
    /// exist or is of another type.
    fn query_string(&self, value: &str) -> Result<Option<String>, String> {
        let name = wide(value);
        let mut data = vec![0u8; 2048];
        // The value can grow between the call that sizes it and the one that reads it; a
        // few rounds settle it.
        for _ in 0..4 {
            let mut len = u32::try_from(data.len()).unwrap_or(u32::MAX);
            let mut kind = 0u32;
            // SAFETY: `name` is NUL-terminated, `data` holds `len` bytes.
            let status = unsafe {
                RegQueryValueExW(
                    self.0,
                    name.as_ptr(),
                    std::ptr::null(),
                    &mut kind,
                    data.as_mut_ptr(),
                    &mut len,
                )
            };
            match status {
                ERROR_SUCCESS => {
                    if kind != REG_SZ && kind != REG_EXPAND_SZ {
                        return Ok(None);
                    }
                    let len = (len as usize).min(data.len());
                    return Ok(Some(utf16_bytes(&data[..len])));
                }
                ERROR_MORE_DATA => {
                    let wanted = (len as usize).max(data.len() * 2);
                    if wanted > MAX_STRING_VALUE {
                        return Err(format!("{value}: larger than {MAX_STRING_VALUE} bytes"));
                    }
                    data.resize(wanted, 0);
                }
                ERROR_FILE_NOT_FOUND => return Ok(None),
                code => return Err(win32_error(value, code)),
            }
        }
        Err(format!("{value}: the value kept growing while it was read"))
    }
}

/// Registry string data (UTF-16LE bytes, NUL-terminated or not) as text.
fn utf16_bytes(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    narrow(&units)
}

/// A kernel handle, closed on drop.
struct Handle(HANDLE);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: a valid handle this process owns, closed once.
        unsafe { CloseHandle(self.0) };
    }
}

fn image_path(pid: u32) -> Option<String> {
    // SAFETY: plain call; a null handle means no access (system processes, other users).
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return None;
    }
    let process = Handle(process);
    let mut buf = vec![0u16; 32_768];
    let mut len = buf.len() as u32;
    // SAFETY: `buf` holds `len` units.
    let ok = unsafe { QueryFullProcessImageNameW(process.0, 0, buf.as_mut_ptr(), &mut len) };
    (ok != 0).then(|| String::from_utf16_lossy(&buf[..len as usize]))
}

/// Calls an IP Helper `GetExtended*Table` until the buffer is large enough; the table's
/// bytes, 8-byte aligned.
fn ip_table(call: impl Fn(*mut c_void, *mut u32) -> u32, what: &str) -> Result<Vec<u64>, String> {
    let mut size = 16 * 1024u32;
    // The table can grow between the call that sizes it and the one that fills it; a few
    // rounds settle it, and a bound keeps a churning system from holding the scan.
    for _ in 0..8 {
        let mut buf = vec![0u64; (size as usize).div_ceil(8)];
        match call(buf.as_mut_ptr().cast(), &mut size) {
            ERROR_SUCCESS => return Ok(buf),
            ERROR_INSUFFICIENT_BUFFER => size = size.saturating_add(4096),
            code => return Err(win32_error(what, code)),
        }
    }
    Err(format!("{what}: the table kept growing while it was read"))
}

/// The rows of a table laid out as `{ dwNumEntries: u32, table: [R; ANY] }`, the rows
/// starting `offset` bytes in (`offset_of!` the table type's `table` field).
///
/// # Safety
/// `buf` must hold such a table, as filled by the IP Helper call whose rows are `R`.
unsafe fn rows<R: Copy>(buf: &[u64], offset: usize, what: &str) -> Result<Vec<R>, String> {
    // SAFETY: the buffer starts with the row count (a u32; the buffer is 8-byte aligned).
    let count = unsafe { *buf.as_ptr().cast::<u32>() } as usize;
    if offset + count * std::mem::size_of::<R>() > buf.len() * 8 {
        return Err(format!(
            "{what}: {count} rows do not fit the table's buffer"
        ));
    }
    // SAFETY: in bounds (checked above) and aligned (rows hold u32s; `offset` is a field
    // offset of a type aligned like them); pointer derived from the whole buffer.
    let first = unsafe { buf.as_ptr().cast::<u8>().add(offset).cast::<R>() };
    // SAFETY: `count` initialised rows of plain data, written by the API.
    Ok(unsafe { std::slice::from_raw_parts(first, count) }.to_vec())
}

/// A row's local port (raw) and owning process.
type PortPid = (u32, u32);

/// A port of an IP Helper row: network byte order in the low 16 bits.
fn port(raw: u32) -> u16 {
    u16::from_be(raw as u16)
}

impl LiveSystem for WindowsSystem {
    fn system_root(&self) -> Result<PathBuf, String> {
        std::env::var_os("SystemRoot")
            .map(PathBuf::from)
            .ok_or_else(|| "the SystemRoot environment variable is not set".into())
    }

    fn run_values(&self) -> Result<Vec<LiveRunValue>, String> {
        let mut out = Vec::new();
        let mut roots = vec![("HKLM".to_owned(), Key::open(HKEY_LOCAL_MACHINE, "")?)];
        if let Some(users) = Key::open(HKEY_USERS, "")? {
            for sid in users.subkeys()? {
                roots.push((format!("HKU\\{sid}"), Key::open(HKEY_USERS, &sid)?));
            }
        }
        for (root, key) in roots {
            let Some(key) = key else { continue };
            for path in RUN_KEYS {
                let Some(run) = Key::open(key.0, path)? else {
                    continue;
                };
                for (name, data) in run.string_values()? {
                    out.push(LiveRunValue {
                        root: root.clone(),
                        key: path.to_owned(),
                        name,
                        data,
                    });
                }
            }
        }
        Ok(out)
    }

    fn services(&self) -> Result<Vec<LiveService>, String> {
        let path = "SYSTEM\\CurrentControlSet\\Services";
        let services = Key::open(HKEY_LOCAL_MACHINE, path)?
            .ok_or_else(|| format!("HKLM\\{path} does not exist"))?;
        let mut out = Vec::new();
        for name in services.subkeys()? {
            let Some(key) = Key::open(services.0, &name)? else {
                continue;
            };
            out.push(LiveService {
                image_path: key.string("ImagePath"),
                display_name: key.string("DisplayName"),
                name,
            });
        }
        Ok(out)
    }

    fn processes(&self) -> Result<Vec<LiveProcess>, String> {
        // SAFETY: plain call; the handle is checked and closed.
        let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
        if snapshot == INVALID_HANDLE_VALUE {
            // SAFETY: reads this thread's last error.
            return Err(win32_error("process snapshot", unsafe { GetLastError() }));
        }
        let snapshot = Handle(snapshot);
        // SAFETY: PROCESSENTRY32W is plain data; all zeroes is a valid value.
        let mut entry: PROCESSENTRY32W = unsafe { std::mem::zeroed() };
        entry.dwSize = std::mem::size_of::<PROCESSENTRY32W>() as u32;
        let mut out = Vec::new();
        // SAFETY: `entry` is initialised with its size, as the API requires.
        let mut more = unsafe { Process32FirstW(snapshot.0, &mut entry) } != 0;
        while more {
            out.push(LiveProcess {
                pid: entry.th32ProcessID,
                name: narrow(&entry.szExeFile),
                path: image_path(entry.th32ProcessID),
            });
            // SAFETY: as above.
            more = unsafe { Process32NextW(snapshot.0, &mut entry) } != 0;
        }
        Ok(out)
    }

    fn mutex_exists(&self, name: &str) -> Result<bool, String> {
        let wide_name = wide(name);
        // SAFETY: `wide_name` is NUL-terminated; the handle is closed if opened.
        let mutex = unsafe { OpenMutexW(SYNCHRONIZATION_SYNCHRONIZE, 0, wide_name.as_ptr()) };
        if !mutex.is_null() {
            drop(Handle(mutex));
            return Ok(true);
        }
        // SAFETY: reads this thread's last error.
        match unsafe { GetLastError() } {
            ERROR_FILE_NOT_FOUND => Ok(false),
            // It exists, owned by a user whose objects this one may not open.
            ERROR_ACCESS_DENIED => Ok(true),
            code => Err(win32_error(&format!("mutex {name}"), code)),
        }
    }

    fn software_text(&self, key: &str, value: &str) -> Result<Option<String>, String> {
        match Key::open_software(key)? {
            Some(k) => k.query_string(value),
            None => Ok(None),
        }
    }

    fn software_subkeys(&self, key: &str) -> Result<Vec<String>, String> {
        match Key::open_software(key)? {
            Some(k) => k.subkeys(),
            None => Ok(Vec::new()),
        }
    }

    fn listeners(&self) -> Result<Vec<LiveListener>, String> {
        let mut out = Vec::new();
        for family in [AF_INET, AF_INET6] {
            let tcp = ip_table(
                // SAFETY: the buffer and its size come from `ip_table`.
                |buf, size| unsafe {
                    GetExtendedTcpTable(
                        buf,
                        size,
                        0,
                        u32::from(family),
                        TCP_TABLE_OWNER_PID_LISTENER,
                        0,
                    )
                },
                "TCP listeners",
            )?;
            let udp = ip_table(
                // SAFETY: as above.
                |buf, size| unsafe {
                    GetExtendedUdpTable(buf, size, 0, u32::from(family), UDP_TABLE_OWNER_PID, 0)
                },
                "UDP endpoints",
            )?;
            // SAFETY (every `rows` call): the buffers were filled for these table types.
            let (tcp, udp): (Vec<PortPid>, Vec<PortPid>) = if family == AF_INET {
                let t = unsafe {
                    rows::<MIB_TCPROW_OWNER_PID>(
                        &tcp,
                        offset_of!(MIB_TCPTABLE_OWNER_PID, table),
                        "TCP listeners",
                    )
                }?;
                let u = unsafe {
                    rows::<MIB_UDPROW_OWNER_PID>(
                        &udp,
                        offset_of!(MIB_UDPTABLE_OWNER_PID, table),
                        "UDP endpoints",
                    )
                }?;
                (
                    t.iter().map(|r| (r.dwLocalPort, r.dwOwningPid)).collect(),
                    u.iter().map(|r| (r.dwLocalPort, r.dwOwningPid)).collect(),
                )
            } else {
                let t = unsafe {
                    rows::<MIB_TCP6ROW_OWNER_PID>(
                        &tcp,
                        offset_of!(MIB_TCP6TABLE_OWNER_PID, table),
                        "TCP listeners",
                    )
                }?;
                let u = unsafe {
                    rows::<MIB_UDP6ROW_OWNER_PID>(
                        &udp,
                        offset_of!(MIB_UDP6TABLE_OWNER_PID, table),
                        "UDP endpoints",
                    )
                }?;
                (
                    t.iter().map(|r| (r.dwLocalPort, r.dwOwningPid)).collect(),
                    u.iter().map(|r| (r.dwLocalPort, r.dwOwningPid)).collect(),
                )
            };
            for (proto, rows) in [(Proto::Tcp, tcp), (Proto::Udp, udp)] {
                out.extend(rows.into_iter().map(|(p, pid)| LiveListener {
                    proto,
                    port: port(p),
                    pid: Some(pid),
                }));
            }
        }
        Ok(out)
    }
}
