//! Values kept per time window (an observation bin, a source hour), so that closing a window
//! empties its sets whole instead of picking its entries out of sets shared with the open
//! windows, and the emptied sets are reused with their capacity.

/// Open windows in time order, and emptied values ready for reuse.
pub(crate) struct Windows<T> {
    open: Vec<(i64, T)>,
    spare: Vec<T>,
}

impl<T: Default> Windows<T> {
    pub(crate) fn new() -> Self {
        Self {
            open: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// The value of `window`, created (from a spare) if needed. Usually the newest window,
    /// so the search from the back ends at once.
    #[inline]
    pub(crate) fn get(&mut self, window: i64) -> &mut T {
        let at = match self.open.iter().rposition(|(w, _)| *w == window) {
            Some(at) => at,
            None => {
                let value = self.spare.pop().unwrap_or_default();
                let at = self.open.partition_point(|(w, _)| *w < window);
                self.open.insert(at, (window, value));
                at
            }
        };
        &mut self.open[at].1
    }

    /// Hand the values of the windows `closed` selects to `empty`, which must leave them
    /// empty for reuse.
    pub(crate) fn close(&mut self, closed: impl Fn(i64) -> bool, mut empty: impl FnMut(&mut T)) {
        let mut kept = 0;
        for at in 0..self.open.len() {
            if closed(self.open[at].0) {
                empty(&mut self.open[at].1);
            } else {
                self.open.swap(kept, at);
                kept += 1;
            }
        }
        self.spare
            .extend(self.open.drain(kept..).map(|(_, value)| value));
    }

    /// The open windows' values.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.open.iter().map(|(_, value)| value)
    }
}

/// The window of a timestamp, `ts.div_euclid(width)`, without a division for timestamps in the
/// same window as the last one: consecutive packets nearly always share their bin, and a 64-bit
/// division by a width known only at run time costs tens of cycles, once per packet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WindowOf {
    width: i64,
    /// The last window, and the timestamps `start..end` it covers.
    window: i64,
    start: i64,
    end: i64,
}

impl WindowOf {
    pub(crate) fn new(width: i64) -> Self {
        assert!(width > 0, "window width must be positive");
        Self {
            width,
            window: 0,
            start: 0,
            end: 0,
        }
    }

    #[inline]
    pub(crate) fn of(&mut self, ts: i64) -> i64 {
        if self.start <= ts && ts < self.end {
            return self.window;
        }
        self.move_to(ts)
    }

    #[cold]
    fn move_to(&mut self, ts: i64) -> i64 {
        self.window = ts.div_euclid(self.width);
        // Saturating keeps `start..end` inside the window at both ends of the i64 range, where
        // the window's true bounds overflow: timestamps there take the division (still right).
        self.start = self.window.saturating_mul(self.width);
        self.end = self.window.saturating_add(1).saturating_mul(self.width);
        self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_stay_ordered_and_closed_ones_are_reused() {
        let mut windows: Windows<Vec<i64>> = Windows::new();
        for w in [5, 7, 6, 5, 9] {
            windows.get(w).push(w);
        }
        let open: Vec<&Vec<i64>> = windows.values().collect();
        assert_eq!(open, [&vec![5, 5], &vec![6], &vec![7], &vec![9]]);

        let mut emptied = Vec::new();
        windows.close(
            |w| w == 6 || w == 9,
            |v| emptied.append(&mut std::mem::take(v)),
        );
        assert_eq!(emptied, [6, 9]);
        let open: Vec<&Vec<i64>> = windows.values().collect();
        assert_eq!(open, [&vec![5, 5], &vec![7]]);
        assert_eq!(windows.spare.len(), 2);
        // A late packet reopens a closed window in its place, from a spare.
        windows.get(6).push(6);
        let open: Vec<&Vec<i64>> = windows.values().collect();
        assert_eq!(open, [&vec![5, 5], &vec![6], &vec![7]]);
        assert_eq!(windows.spare.len(), 1);
    }

    #[test]
    fn window_of_agrees_with_the_division() {
        for width in [1, 7, 300_000_000_000, i64::MAX] {
            let mut window_of = WindowOf::new(width);
            let mut timestamps = vec![0, -1, 1, i64::MIN, i64::MAX, i64::MAX - 1, i64::MIN + 1];
            for k in [-3i64, -1, 0, 1, 2, 1000] {
                let edge = k.saturating_mul(width);
                timestamps.extend([edge.saturating_sub(1), edge, edge.saturating_add(1), edge]);
            }
            // Forward, backward, and again, so that both the cached and the moving path run.
            let backward: Vec<i64> = timestamps.iter().rev().copied().collect();
            for ts in timestamps.iter().chain(&backward).chain(&timestamps) {
                assert_eq!(window_of.of(*ts), ts.div_euclid(width), "{ts} by {width}");
            }
        }
    }
}
