//! "Has any transaction committed since I last read the data version?", answered from the
//! WAL-index header instead of a query.
//!
//! In WAL mode every SQLite connection on a database, in any process, shares the WAL-index:
//! the `-shm` file beside the database, mapped into memory. Its first 96 bytes are two
//! copies of a 48-byte header that a writer rewrites at every commit (the number of frames
//! in the WAL grows, and when the WAL restarts its salts change), copy 2 first, then copy 1.
//! The layout is SQLite's documented unix/windows WAL-index format (sqlite.org/walformat.html,
//! "The WAL-Index Header"): native byte order, a version number, a change counter, an
//! `isInit` flag, and a checksum over the first 40 bytes.
//!
//! [`CommitProbe`] reads those 96 bytes with one `pread` (no lock, no SQLite call, no hand-off
//! to sqlx's worker thread) and pairs them with the data version read right after. A later
//! read that finds the very same header knows that no commit finished in between, so the
//! version it recorded is still current. Any doubt (the copies differ, a commit is being
//! written, the header is not initialised, the checksum is wrong, the file cannot be read)
//! makes the probe answer "don't know", and the caller reads the version with a query.
//!
//! The probe is sound only while the `-shm` file it opened is the one SQLite uses: SQLite
//! deletes and recreates that file only when the last connection to the database closes, so
//! the store keeps one connection open for as long as the probe lives (`SqliteStore::open`).

use std::fs::File;
use std::path::Path;
use std::sync::Mutex;

/// Bytes of one header copy.
const HEADER: usize = 48;
/// `iVersion` of the WAL-index format this probe understands (SQLite 3.7.0 and later).
const WALINDEX_VERSION: u32 = 3_007_000;

/// The two header copies, as read.
type Header = [u8; 2 * HEADER];

/// Reads the WAL-index header of one database and remembers the data version that was
/// current when a given header was seen.
#[derive(Debug)]
pub(crate) struct CommitProbe {
    shm: File,
    /// The last header seen before a data version read, and that version.
    last: Mutex<Option<(Header, i64)>>,
}

impl CommitProbe {
    /// Opens the WAL-index of the database at `db_path` (`<db_path>-shm`) for reading.
    /// `None` when it does not exist (not in WAL mode) or cannot be read.
    pub(crate) fn open(db_path: &Path) -> Option<CommitProbe> {
        let mut name = db_path.as_os_str().to_owned();
        name.push("-shm");
        let shm = File::open(Path::new(&name)).ok()?;
        let probe = CommitProbe {
            shm,
            last: Mutex::new(None),
        };
        // A probe that cannot read a valid header now would never help.
        probe.header()?;
        Some(probe)
    }

    /// The current header, when it is whole and valid.
    #[cfg(unix)]
    pub(crate) fn header(&self) -> Option<Header> {
        use std::os::unix::fs::FileExt as _;
        let mut buf = [0u8; 2 * HEADER];
        self.shm.read_exact_at(&mut buf, 0).ok()?;
        valid(&buf).then_some(buf)
    }

    /// Elsewhere the probe never answers, and every read is a query.
    #[cfg(not(unix))]
    pub(crate) fn header(&self) -> Option<Header> {
        None
    }

    /// The data version recorded with the current header, if the header has not changed
    /// since: then no transaction has committed since that version was read.
    pub(crate) fn unchanged(&self) -> Option<i64> {
        let now = self.header()?;
        let last = self.last.lock().ok()?;
        match *last {
            Some((seen, version)) if seen == now => Some(version),
            _ => None,
        }
    }

    /// Records that `version` was read after `header` was seen.
    pub(crate) fn record(&self, header: Header, version: i64) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some((header, version));
        }
    }
}

/// Both copies equal, initialised, of the known version, and with a right checksum.
fn valid(buf: &Header) -> bool {
    let (first, second) = buf.split_at(HEADER);
    if first != second {
        // A commit is being written (or SQLite is recovering the index).
        return false;
    }
    let word = |i: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&first[4 * i..4 * i + 4]);
        u32::from_ne_bytes(w)
    };
    let is_init = first[12];
    if word(0) != WALINDEX_VERSION || is_init != 1 {
        return false;
    }
    // WAL checksum over the first 40 bytes as native 32-bit words, stored in the last 8.
    let (mut s0, mut s1) = (0u32, 0u32);
    for pair in 0..5 {
        s0 = s0.wrapping_add(word(2 * pair)).wrapping_add(s1);
        s1 = s1.wrapping_add(word(2 * pair + 1)).wrapping_add(s0);
    }
    s0 == word(10) && s1 == word(11)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// A header as SQLite writes it: fields, then the checksum, twice.
    fn header(change: u32, max_frame: u32) -> Header {
        let mut one = [0u8; HEADER];
        one[0..4].copy_from_slice(&WALINDEX_VERSION.to_ne_bytes());
        one[8..12].copy_from_slice(&change.to_ne_bytes());
        one[12] = 1;
        one[14..16].copy_from_slice(&4096u16.to_ne_bytes());
        one[16..20].copy_from_slice(&max_frame.to_ne_bytes());
        one[32..36].copy_from_slice(&0x1234_5678u32.to_ne_bytes());
        let word = |b: &[u8], i: usize| u32::from_ne_bytes(b[4 * i..4 * i + 4].try_into().unwrap());
        let (mut s0, mut s1) = (0u32, 0u32);
        for pair in 0..5 {
            s0 = s0.wrapping_add(word(&one, 2 * pair)).wrapping_add(s1);
            s1 = s1.wrapping_add(word(&one, 2 * pair + 1)).wrapping_add(s0);
        }
        one[40..44].copy_from_slice(&s0.to_ne_bytes());
        one[44..48].copy_from_slice(&s1.to_ne_bytes());
        let mut both = [0u8; 2 * HEADER];
        both[..HEADER].copy_from_slice(&one);
        both[HEADER..].copy_from_slice(&one);
        both
    }

    #[test]
    fn a_whole_header_is_valid() {
        assert!(valid(&header(7, 42)));
    }

    #[test]
    fn a_header_being_written_is_not_trusted() {
        // SQLite writes the second copy first: mid-commit the copies differ.
        let mut torn = header(7, 42);
        torn[HEADER..].copy_from_slice(&header(8, 43)[HEADER..]);
        assert!(!valid(&torn));
    }

    #[test]
    fn a_wrong_checksum_or_an_uninitialised_header_is_not_trusted() {
        let mut bad = header(7, 42);
        bad[16] ^= 1;
        bad[HEADER + 16] ^= 1;
        assert!(!valid(&bad), "checksum no longer matches");
        let mut uninit = header(7, 42);
        uninit[12] = 0;
        uninit[HEADER + 12] = 0;
        assert!(!valid(&uninit));
        assert!(
            !valid(&[0u8; 2 * HEADER]),
            "a zeroed header (last connection closed)"
        );
    }
}
