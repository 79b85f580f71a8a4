//! The second half of writing an index: once every series is on disk, the
//! label indices, postings lists, both offset tables and the TOC, in the
//! order and with the padding Prometheus uses.

use super::super::codec::{put_be32, put_be64, put_uvarint, put_uvarint_bytes};
use super::super::symbols::Symbols;
use super::super::IndexError;
use super::{IndexWriter, PairCount, SeriesScan};

/// Refs encoded per write when streaming a long postings list.
const REFS_PER_WRITE: usize = 16 * 1024;

/// Writes everything after the series section; `keys` are the distinct label
/// pairs of the series with their counts, sorted.
pub(super) fn write_rest(
    w: &mut IndexWriter,
    map: &[u8],
    symbols: &Symbols,
    scan: &SeriesScan<'_>,
    keys: &[PairCount],
) -> Result<(), IndexError> {
    // Each label name's run of keys, in name order.
    let mut names: Vec<(u32, usize, usize)> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        match names.last_mut() {
            Some((n, _, end)) if *n == k.name => *end = i + 1,
            _ => names.push((k.name, i, i + 1)),
        }
    }

    let label_index_offsets = write_label_indices(w, keys, &names)?;

    w.toc.postings = w.pos;
    w.pad(4)?;
    // Every postings list is 4-aligned and a multiple of 4 long, so the
    // offset of each follows from the counts alone.
    let mut offsets: Vec<u64> = Vec::with_capacity(keys.len());
    let all_offset = w.pos;
    write_postings(w, scan.refs)?;
    let max_postings = scan.refs.len() as u64;

    let mut batch_start = 0;
    let mut flat: Vec<u32> = Vec::new();
    while batch_start < names.len() {
        // Bunch label names whose lists together hold no more refs than
        // there are series, as Prometheus does, to bound memory.
        let mut total = 0u64;
        let mut batch_end = batch_start;
        while batch_end < names.len() {
            let c = w.label_names.get(&names[batch_end].0).copied().unwrap_or(0);
            if batch_end > batch_start && total + c > max_postings {
                break;
            }
            total += c;
            batch_end += 1;
        }
        let (first_name, k0, _) = names[batch_start];
        let (last_name, _, k1) = names[batch_end - 1];
        let batch = &keys[k0..k1];

        let mut starts: Vec<usize> = Vec::with_capacity(batch.len() + 1);
        let mut acc = 0usize;
        for k in batch {
            starts.push(acc);
            acc += k.count as usize;
        }
        flat.clear();
        flat.resize(acc, 0);
        let mut fill = starts.clone();
        scan.for_each_label(|id, n, v| {
            if n < first_name || n > last_name {
                return Ok(());
            }
            let i = batch
                .binary_search_by_key(&(n, v), |k| (k.name, k.value))
                .map_err(|_| {
                    IndexError::corrupt("series", id as usize * 16, "label pair changed on disk")
                })?;
            let slot = flat.get_mut(fill[i]).ok_or_else(|| {
                IndexError::corrupt(
                    "series",
                    id as usize * 16,
                    "label pair count changed on disk",
                )
            })?;
            *slot = id;
            fill[i] += 1;
            Ok(())
        })?;
        for (i, _) in batch.iter().enumerate() {
            offsets.push(w.pos);
            let end = starts.get(i + 1).copied().unwrap_or(acc);
            write_postings(w, &flat[starts[i]..end])?;
        }
        batch_start = batch_end;
    }
    drop(flat);

    w.toc.label_indices_table = w.pos;
    write_label_offset_table(w, map, symbols, &label_index_offsets)?;

    w.toc.postings_table = w.pos;
    write_postings_offset_table(w, map, symbols, keys, all_offset, &offsets)?;

    write_toc(w)
}

/// One label index per name (values as symbol refs); returns each name's
/// symbol ref and the offset of its label index.
fn write_label_indices(
    w: &mut IndexWriter,
    keys: &[PairCount],
    names: &[(u32, usize, usize)],
) -> Result<Vec<(u32, u64)>, IndexError> {
    let mut out = Vec::with_capacity(names.len());
    for &(name, k0, k1) in names {
        w.pad(4)?;
        out.push((name, w.pos));
        let n = k1 - k0;
        w.buf1.clear();
        put_be32(&mut w.buf1, (8 + 4 * n) as u32);
        put_be32(&mut w.buf1, 1);
        put_be32(&mut w.buf1, n as u32);
        for k in &keys[k0..k1] {
            put_be32(&mut w.buf1, k.value);
        }
        let crc = crc32c::crc32c(&w.buf1[4..]);
        put_be32(&mut w.buf1, crc);
        w.write_buf1()?;
    }
    Ok(out)
}

/// One postings list: `len | count | refs | CRC`.
fn write_postings(w: &mut IndexWriter, refs: &[u32]) -> Result<(), IndexError> {
    let len = 4 + 4 * refs.len() as u64;
    let len = u32::try_from(len)
        .map_err(|_| IndexError::TooLarge(format!("postings list of {len} bytes exceeds 4 GiB")))?;
    w.buf1.clear();
    put_be32(&mut w.buf1, len);
    put_be32(&mut w.buf1, refs.len() as u32);
    let mut crc = crc32c::crc32c(&w.buf1[4..]);
    for part in refs.chunks(REFS_PER_WRITE) {
        for &r in part {
            put_be32(&mut w.buf1, r);
        }
        let start = w.buf1.len() - part.len() * 4;
        crc = crc32c::crc32c_append(crc, &w.buf1[start..]);
        w.write_buf1()?;
        w.buf1.clear();
    }
    put_be32(&mut w.buf1, crc);
    w.write_buf1()
}

fn write_label_offset_table(
    w: &mut IndexWriter,
    map: &[u8],
    symbols: &Symbols,
    entries: &[(u32, u64)],
) -> Result<(), IndexError> {
    w.buf1.clear();
    put_be32(&mut w.buf1, 0);
    put_be32(&mut w.buf1, entries.len() as u32);
    for &(name, off) in entries {
        put_uvarint(&mut w.buf1, 1);
        put_uvarint_bytes(&mut w.buf1, symbols.lookup(map, name)?.as_bytes());
        put_uvarint(&mut w.buf1, off);
    }
    let len = u32::try_from(w.buf1.len() - 4)
        .map_err(|_| IndexError::TooLarge("label offset table exceeds 4 GiB".into()))?;
    w.buf1[..4].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c::crc32c(&w.buf1[4..]);
    put_be32(&mut w.buf1, crc);
    w.write_buf1()
}

fn write_postings_offset_table(
    w: &mut IndexWriter,
    map: &[u8],
    symbols: &Symbols,
    keys: &[PairCount],
    all_offset: u64,
    offsets: &[u64],
) -> Result<(), IndexError> {
    let start = w.pos;
    // The length is patched in at the end, as the table is streamed.
    w.write(&[0; 4])?;
    w.buf1.clear();
    put_be32(&mut w.buf1, keys.len() as u32 + 1);
    put_uvarint(&mut w.buf1, 2);
    put_uvarint_bytes(&mut w.buf1, b"");
    put_uvarint_bytes(&mut w.buf1, b"");
    put_uvarint(&mut w.buf1, all_offset);
    let mut crc = crc32c::crc32c(&w.buf1);
    w.write_buf1()?;

    let mut name: (u32, &str) = (u32::MAX, "");
    for (k, &off) in keys.iter().zip(offsets) {
        if name.0 != k.name {
            name = (k.name, symbols.lookup(map, k.name)?);
        }
        w.buf1.clear();
        put_uvarint(&mut w.buf1, 2);
        put_uvarint_bytes(&mut w.buf1, name.1.as_bytes());
        put_uvarint_bytes(&mut w.buf1, symbols.lookup(map, k.value)?.as_bytes());
        put_uvarint(&mut w.buf1, off);
        crc = crc32c::crc32c_append(crc, &w.buf1);
        w.write_buf1()?;
    }
    let len = u32::try_from(w.pos - start - 4)
        .map_err(|_| IndexError::TooLarge("postings offset table exceeds 4 GiB".into()))?;
    w.write_at(&len.to_be_bytes(), start)?;
    w.write(&crc.to_be_bytes())
}

fn write_toc(w: &mut IndexWriter) -> Result<(), IndexError> {
    w.buf1.clear();
    for v in [
        w.toc.symbols,
        w.toc.series,
        w.toc.label_indices,
        w.toc.label_indices_table,
        w.toc.postings,
        w.toc.postings_table,
    ] {
        put_be64(&mut w.buf1, v);
    }
    let crc = crc32c::crc32c(&w.buf1);
    put_be32(&mut w.buf1, crc);
    w.write_buf1()
}
