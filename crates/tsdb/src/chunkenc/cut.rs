//! When to cut a series' open chunk and start a new one.
//!
//! Prometheus aims at about 120 samples per chunk (near-optimal compression
//! by the Gorilla paper, small enough to decode quickly) without ever letting
//! a chunk cross a chunk-range boundary. Once a chunk holds a quarter of its
//! target, the time it took to fill that quarter predicts when it will be
//! full, and the remaining range is divided evenly among the chunks it will
//! take; a rate change that makes the prediction wrong is caught by a hard
//! cap of 240 samples. pharos cuts by the same rule (2.42's
//! `appendPreprocessor`), so it writes the same chunks as Prometheus for the
//! same samples — and blocks of the same size.

use super::XorChunk;

/// An encoded chunk with its first and last timestamps.
pub(crate) type TimedChunk = (i64, i64, XorChunk);

/// Target samples per chunk.
pub const SAMPLES_PER_CHUNK: u16 = 120;

/// The end of the chunk-range window that contains `t`: windows are aligned
/// to multiples of `width` (Go's truncating division, as Prometheus).
pub fn range_for_timestamp(t: i64, width: i64) -> i64 {
    (t / width) * width + width
}

/// Predicts the end time of a chunk that started at `start` and has reached a
/// quarter of its target at `cur`, so that the rest of the window up to `max`
/// splits into chunks of about equal sample counts.
pub fn compute_chunk_end_time(start: i64, cur: i64, max: i64) -> i64 {
    let span = (cur - start + 1).saturating_mul(4);
    let n = if span > 0 { (max - start) / span } else { 0 };
    if n <= 1 {
        return max;
    }
    start + (max - start) / n
}

/// Per-series cutting state: the time at which the open chunk must end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkCutter {
    next_at: i64,
}

impl ChunkCutter {
    /// State for a chunk whose first sample is at `mint`.
    pub fn new(mint: i64, chunk_range: i64) -> ChunkCutter {
        ChunkCutter {
            next_at: range_for_timestamp(mint, chunk_range),
        }
    }

    /// Whether a sample at `t` must go to a new chunk, given the open
    /// chunk's sample count and first and last timestamps. When it returns
    /// true the caller cuts and calls [`ChunkCutter::new`] with `t`.
    pub fn should_cut(&mut self, num_samples: u16, chunk_min: i64, chunk_max: i64, t: i64) -> bool {
        if num_samples == SAMPLES_PER_CHUNK / 4 {
            self.next_at = compute_chunk_end_time(chunk_min, chunk_max, self.next_at);
        }
        t >= self.next_at || num_samples >= SAMPLES_PER_CHUNK * 2
    }
}

/// Encodes time-ordered samples into XOR chunks cut as the head cuts them.
pub(crate) fn encode_chunks(samples: &[(i64, f64)], chunk_range: i64, out: &mut Vec<TimedChunk>) {
    out.clear();
    let mut c = XorChunk::new();
    let mut cutter = ChunkCutter::new(0, chunk_range.max(1));
    let (mut cmin, mut cmax) = (0, 0);
    for &(t, v) in samples {
        if c.num_samples() == 0 {
            cutter = ChunkCutter::new(t, chunk_range.max(1));
            cmin = t;
        } else if cutter.should_cut(c.num_samples(), cmin, cmax, t) {
            out.push((cmin, cmax, std::mem::take(&mut c)));
            cutter = ChunkCutter::new(t, chunk_range.max(1));
            cmin = t;
        }
        c.append(t, v);
        cmax = t;
    }
    if c.num_samples() > 0 {
        out.push((cmin, cmax, c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chunk sizes the rule produces for `n` samples `step` apart from 0.
    fn sizes(n: i64, step: i64, range: i64) -> Vec<usize> {
        let mut out = vec![0usize];
        let (mut cut, mut min) = (ChunkCutter::new(0, range), 0);
        for i in 0..n {
            let t = i * step;
            let len = *out.last().unwrap();
            if len > 0 && cut.should_cut(len as u16, min, t - step, t) {
                out.push(0);
                cut = ChunkCutter::new(t, range);
                min = t;
            }
            *out.last_mut().unwrap() += 1;
        }
        out
    }

    #[test]
    fn evenly_sized_chunks_within_a_range() {
        const H: i64 = 3_600_000;
        // 400 samples 15s apart at the start of a 4h range: the quarter-full
        // prediction gives 120-sample chunks.
        assert_eq!(sizes(400, 15_000, 4 * H), [120, 120, 120, 40]);
        // The same samples just before a window boundary 6000s after the
        // first: the rest of the window is split evenly.
        let s = sizes(400, 15_000, 6_400_000);
        assert_eq!(s.len(), 3, "{s:?}");
        // A window boundary always cuts.
        let s = sizes(100, 60_000, H);
        assert_eq!(s.iter().sum::<usize>(), 100);
        assert!(s.len() >= 2);
        // Dense samples hit the 240 cap only when the prediction fails;
        // at a steady rate chunks stay near 120.
        assert!(sizes(2000, 1_000, 24 * H).iter().all(|&n| n <= 240));
    }

    #[test]
    fn end_time_prediction() {
        assert_eq!(compute_chunk_end_time(0, 99, 1000), 500);
        assert_eq!(compute_chunk_end_time(0, 299, 1000), 1000);
        assert_eq!(compute_chunk_end_time(0, 9, 1000), 40);
        assert_eq!(range_for_timestamp(7, 5), 10);
        assert_eq!(range_for_timestamp(-7, 5), 0);
    }

    #[test]
    fn encode_chunks_cuts_like_the_head() {
        let mut out = Vec::new();
        encode_chunks(&[], 1000, &mut out);
        assert!(out.is_empty());
        // 300 samples one apart in a range of 1000: 120-ish per chunk,
        // never more than 240, never crossing a multiple of 1000.
        let s: Vec<(i64, f64)> = (0..1300).map(|t| (t, t as f64)).collect();
        encode_chunks(&s, 1000, &mut out);
        let n: usize = out.iter().map(|c| usize::from(c.2.num_samples())).sum();
        assert_eq!(n, 1300);
        assert!(
            out.iter().all(|c| c.0 / 1000 == c.1 / 1000),
            "crosses a range"
        );
        assert!(out.iter().all(|c| c.2.num_samples() <= 240));
        assert!(out.windows(2).all(|p| p[0].1 < p[1].0));
        let back: Vec<(i64, f64)> = out.iter().flat_map(|c| c.2.iter()).collect();
        assert_eq!(back, s);
    }
}
