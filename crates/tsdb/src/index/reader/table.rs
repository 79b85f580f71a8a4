//! The postings offset table as a reader holds it: every label name, and
//! for each only every 32nd value (plus the last), with the file offset of
//! its entry; lookups binary search those and walk the few entries between.

use super::super::codec::{section_at, Decbuf};
use super::super::{IndexError, SAMPLING};
use super::utf8;

/// One postings offset table entry kept in memory.
#[derive(Debug)]
pub(super) struct SampledEntry {
    pub(super) value: Box<str>,
    /// File offset of the entry in the postings offset table.
    pub(super) entry_off: usize,
}

/// One postings offset table entry: its value and postings offset. The name
/// is skipped: lookups walk only within one name's run of entries, whose
/// order was checked when the table was read.
pub(super) fn read_entry<'a>(d: &mut Decbuf<'a>) -> Result<(&'a [u8], u64), IndexError> {
    let k = d.uvarint64()?;
    if k != 2 {
        return Err(d.err(format!("entry with {k} keys, want 2")));
    }
    d.uvarint_bytes()?;
    let v = d.uvarint_bytes()?;
    Ok((v, d.uvarint64()?))
}

pub(super) type SampledNames = Vec<(Box<str>, Vec<SampledEntry>)>;

/// Reads the whole postings offset table (checking its CRC and order) and
/// keeps every 32nd value of each name plus the last.
pub(super) fn read_postings_table(
    data: &[u8],
    off: usize,
) -> Result<(SampledNames, (usize, usize)), IndexError> {
    const WHAT: &str = "postings offset table";
    let mut d = section_at(data, off, WHAT)?;
    let range = (d.pos() + 4, d.pos() + d.len());
    let count = d.be32()?;
    let mut names: SampledNames = Vec::new();
    let mut prev: Option<(&[u8], &[u8])> = None;
    let mut pending_last: Option<SampledEntry> = None;
    let mut value_count = 0usize;
    for _ in 0..count {
        let entry_off = d.pos();
        let k = d.uvarint64()?;
        if k != 2 {
            return Err(IndexError::corrupt(
                WHAT,
                entry_off,
                format!("entry with {k} keys, want 2"),
            ));
        }
        let name = d.uvarint_bytes()?;
        let value = d.uvarint_bytes()?;
        d.uvarint64()?;
        if prev.is_some_and(|p| p >= (name, value)) {
            return Err(IndexError::corrupt(WHAT, entry_off, "entries not sorted"));
        }
        let new_name = prev.is_none_or(|p| p.0 != name);
        prev = Some((name, value));
        let value = utf8(value, entry_off)?;
        if new_name {
            if let (Some(last), Some(n)) = (pending_last.take(), names.last_mut()) {
                n.1.push(last);
            }
            let name = std::str::from_utf8(name)
                .map_err(|_| IndexError::corrupt(WHAT, entry_off, "name is not UTF-8"))?;
            names.push((name.into(), Vec::new()));
            value_count = 0;
        }
        let e = SampledEntry {
            value: value.into(),
            entry_off,
        };
        if value_count % SAMPLING == 0 {
            if let Some(n) = names.last_mut() {
                n.1.push(e);
            }
            pending_last = None;
        } else {
            pending_last = Some(e);
        }
        value_count += 1;
    }
    if let (Some(last), Some(n)) = (pending_last.take(), names.last_mut()) {
        n.1.push(last);
    }
    for n in &mut names {
        n.1.shrink_to_fit();
    }
    names.shrink_to_fit();
    Ok((names, range))
}
