//! The symbol table of an index, read in place: only the file offset of every
//! 32nd symbol is kept in memory, and a lookup walks at most 31 entries from
//! there, returning a `&str` borrowed from the file.

use super::codec::{section_at, Decbuf};
use super::{IndexError, SAMPLING};

const WHAT: &str = "symbol table";

/// Positions of sampled symbols within one index's bytes.
#[derive(Debug)]
pub(crate) struct Symbols {
    /// File offset of every `SAMPLING`th symbol.
    sampled: Vec<usize>,
    /// File offset just past the last symbol.
    end: usize,
    count: u32,
}

impl Symbols {
    /// Reads the table at `off`, checking its CRC, that every symbol is
    /// UTF-8 and that they are strictly ascending (lookups binary search).
    pub(crate) fn new(data: &[u8], off: usize) -> Result<Symbols, IndexError> {
        let mut d = section_at(data, off, WHAT)?;
        let count = d.be32()?;
        // Each symbol takes at least a byte: a corrupt count cannot make us
        // reserve more than the table could hold.
        let mut sampled = Vec::with_capacity((count as usize).min(d.len()) / SAMPLING + 1);
        let mut prev: Option<&[u8]> = None;
        for i in 0..count as usize {
            if i % SAMPLING == 0 {
                sampled.push(d.pos());
            }
            let at = d.pos();
            let s = d.uvarint_bytes()?;
            if std::str::from_utf8(s).is_err() {
                return Err(IndexError::corrupt(WHAT, at, "symbol is not UTF-8"));
            }
            if prev.is_some_and(|p| p >= s) {
                return Err(IndexError::corrupt(WHAT, at, "symbols not sorted"));
            }
            prev = Some(s);
        }
        Ok(Symbols {
            sampled,
            end: d.pos(),
            count,
        })
    }

    /// Number of symbols.
    pub(crate) fn len(&self) -> u32 {
        self.count
    }

    /// Bytes of memory the sampled positions take.
    pub(crate) fn size(&self) -> usize {
        self.sampled.len() * std::mem::size_of::<usize>()
    }

    fn cursor<'a>(&self, data: &'a [u8], from: usize) -> Result<Decbuf<'a>, IndexError> {
        let b = data
            .get(from..self.end)
            .ok_or_else(|| IndexError::corrupt(WHAT, from, "symbol table out of file bounds"))?;
        Ok(Decbuf::new(b, from, WHAT))
    }

    /// The string with symbol ref `r`.
    pub(crate) fn lookup<'a>(&self, data: &'a [u8], r: u32) -> Result<&'a str, IndexError> {
        if r >= self.count {
            return Err(IndexError::corrupt(
                WHAT,
                self.end,
                format!("unknown symbol ref {r} (table has {})", self.count),
            ));
        }
        let i = r as usize;
        let start = self.sampled.get(i / SAMPLING).copied().unwrap_or(self.end);
        let mut d = self.cursor(data, start)?;
        for _ in 0..i % SAMPLING {
            d.uvarint_bytes()?;
        }
        let at = d.pos();
        let s = d.uvarint_bytes()?;
        std::str::from_utf8(s).map_err(|_| IndexError::corrupt(WHAT, at, "symbol is not UTF-8"))
    }

    /// The symbol ref of `sym`, if it is in the table.
    pub(crate) fn reverse_lookup(&self, data: &[u8], sym: &str) -> Result<Option<u32>, IndexError> {
        // The first sampled block whose first symbol is greater than `sym`;
        // `sym` can only be in the block before it.
        let mut err = None;
        let block = self.sampled.partition_point(|&off| {
            match self.cursor(data, off).and_then(|mut d| d.uvarint_bytes()) {
                Ok(s) => s <= sym.as_bytes(),
                Err(e) => {
                    err = Some(e);
                    false
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        if block == 0 {
            return Ok(None);
        }
        let first = (block - 1) * SAMPLING;
        let mut d = self.cursor(data, self.sampled[block - 1])?;
        let n = (self.count as usize - first).min(SAMPLING);
        for i in 0..n {
            let s = d.uvarint_bytes()?;
            match s.cmp(sym.as_bytes()) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Ok(Some((first + i) as u32)),
                std::cmp::Ordering::Greater => return Ok(None),
            }
        }
        Ok(None)
    }

    /// All symbols in order.
    pub(crate) fn iter<'a>(
        &self,
        data: &'a [u8],
    ) -> impl Iterator<Item = Result<&'a str, IndexError>> + 'a {
        let start = self.sampled.first().copied().unwrap_or(self.end);
        let mut d = self.cursor(data, start);
        let mut left = self.count;
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            left -= 1;
            let r = match &mut d {
                Ok(d) => {
                    let at = d.pos();
                    d.uvarint_bytes().and_then(|s| {
                        std::str::from_utf8(s)
                            .map_err(|_| IndexError::corrupt(WHAT, at, "symbol is not UTF-8"))
                    })
                }
                Err(e) => Err(IndexError::corrupt(WHAT, 0, e.to_string())),
            };
            if r.is_err() {
                left = 0;
            }
            Some(r)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::codec::{put_be32, put_uvarint_bytes};
    use super::*;

    fn table(syms: &[String]) -> Vec<u8> {
        let mut body = Vec::new();
        put_be32(&mut body, syms.len() as u32);
        for s in syms {
            put_uvarint_bytes(&mut body, s.as_bytes());
        }
        let mut f = vec![0xBA, 0xAA, 0xD7, 0x00, 2];
        put_be32(&mut f, body.len() as u32);
        f.extend_from_slice(&body);
        put_be32(&mut f, crc32c::crc32c(&body));
        f
    }

    #[test]
    fn lookups_across_sampling_blocks() {
        let syms: Vec<String> = (0..100).map(|i| format!("s{i:03}")).collect();
        let f = table(&syms);
        let t = Symbols::new(&f, 5).unwrap();
        assert_eq!(t.len(), 100);
        for (i, s) in syms.iter().enumerate() {
            assert_eq!(t.lookup(&f, i as u32).unwrap(), s);
            assert_eq!(t.reverse_lookup(&f, s).unwrap(), Some(i as u32));
        }
        assert!(t.lookup(&f, 100).is_err());
        assert_eq!(t.reverse_lookup(&f, "a").unwrap(), None);
        assert_eq!(t.reverse_lookup(&f, "s0315").unwrap(), None);
        assert_eq!(t.reverse_lookup(&f, "z").unwrap(), None);
        let all: Vec<&str> = t.iter(&f).map(Result::unwrap).collect();
        assert_eq!(all, syms);
    }

    #[test]
    fn refuses_unsorted_symbols() {
        let f = table(&["b".into(), "a".into()]);
        assert!(Symbols::new(&f, 5).is_err());
    }

    #[test]
    fn empty_table() {
        let f = table(&[]);
        let t = Symbols::new(&f, 5).unwrap();
        assert_eq!(t.reverse_lookup(&f, "").unwrap(), None);
        assert_eq!(t.iter(&f).count(), 0);
    }
}
