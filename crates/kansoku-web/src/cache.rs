//! Answers computed from the store, kept until the store changes. A page's queries take
//! tens of milliseconds (DataFusion plans and scans Parquet each time) while the data only
//! changes when an ingest commits, so a dashboard under load answers from memory. The
//! store's generation is the size and modification time of `manifest.json` (rewritten by
//! every ingest commit) and `alerts.parquet` (rewritten by every alert refresh): two
//! `stat` calls per request.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::WebError;
use crate::data::query;

/// Entries kept per cache; past this the cache starts over (periods picked by readers are
/// few; a crawler walking every period must not grow memory without bound).
const CAPACITY: usize = 512;

/// What identifies one state of the store.
pub type Generation = [(u64, Option<SystemTime>); 2];

pub fn generation(store_dir: &Path) -> Generation {
    let stat = |name: &str| {
        std::fs::metadata(store_dir.join(name))
            .map(|m| (m.len(), m.modified().ok()))
            .unwrap_or((0, None))
    };
    [stat("manifest.json"), stat("alerts.parquet")]
}

#[derive(Debug)]
pub struct Cache<T> {
    entries: Mutex<HashMap<String, (Generation, Arc<T>)>>,
}

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Cache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Send + Sync + 'static> Cache<T> {
    /// The answer for `key` in the store's current generation: kept, or computed on the
    /// blocking pool and kept. Errors are not kept.
    pub async fn get_or_compute(
        &self,
        key: String,
        store_dir: &Path,
        compute: impl FnOnce() -> Result<T, WebError> + Send + 'static,
    ) -> Result<Arc<T>, WebError> {
        let now = generation(store_dir);
        if let Some((g, value)) = self.lock().get(&key)
            && *g == now
        {
            return Ok(value.clone());
        }
        let value = Arc::new(query(compute).await?);
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, (now, value.clone()));
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Generation, Arc<T>)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn answers_are_kept_until_the_store_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manifest.json"), "{}").unwrap();
        let cache: Cache<usize> = Cache::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let ask = || {
            let calls = calls.clone();
            cache.get_or_compute("k".into(), dir.path(), move || {
                Ok(calls.fetch_add(1, Ordering::SeqCst))
            })
        };
        assert_eq!(*ask().await.unwrap(), 0);
        assert_eq!(*ask().await.unwrap(), 0, "kept");
        // An ingest rewrites the manifest (here: a different size).
        std::fs::write(dir.path().join("manifest.json"), "{\"entries\":[]}").unwrap();
        assert_eq!(*ask().await.unwrap(), 1, "recomputed after the change");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
