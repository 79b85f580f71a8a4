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
}
