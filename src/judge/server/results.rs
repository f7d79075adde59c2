//! A bounded, least-recently-used cache of completed reports. Reports that fall out of it are
//! read back from their journal line (the state keeps each result's byte offset).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

/// At most `capacity` reports, evicting the least recently used.
#[derive(Debug)]
pub struct ResultCache {
    capacity: usize,
    tick: u64,
    by_id: HashMap<String, (Arc<Value>, u64)>,
    by_age: BTreeMap<u64, String>,
}

impl ResultCache {
    /// An empty cache holding up to `capacity` reports (at least one).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            tick: 0,
            by_id: HashMap::new(),
            by_age: BTreeMap::new(),
        }
    }

    /// Stores (or refreshes) a report, evicting the oldest when full.
    pub fn insert(&mut self, id: &str, report: Arc<Value>) {
        self.remove(id);
        while self.by_id.len() >= self.capacity {
            let Some((_, oldest)) = self.by_age.pop_first() else {
                break;
            };
            self.by_id.remove(&oldest);
        }
        self.tick += 1;
        self.by_age.insert(self.tick, id.to_owned());
        self.by_id.insert(id.to_owned(), (report, self.tick));
    }

    /// The report, marking it as recently used.
    pub fn get(&mut self, id: &str) -> Option<Arc<Value>> {
        let report = self.remove(id)?;
        self.insert(id, Arc::clone(&report));
        Some(report)
    }

    /// How many reports are held.
    #[cfg(test)]
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    fn remove(&mut self, id: &str) -> Option<Arc<Value>> {
        let (report, tick) = self.by_id.remove(id)?;
        self.by_age.remove(&tick);
        Some(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evicts_least_recently_used() {
        let mut cache = ResultCache::new(2);
        cache.insert("a", Arc::new(json!(1)));
        cache.insert("b", Arc::new(json!(2)));
        assert_eq!(cache.get("a").as_deref(), Some(&json!(1)));
        cache.insert("c", Arc::new(json!(3)));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("b").is_none());
        assert!(cache.get("a").is_some());
        assert!(cache.get("c").is_some());
    }
}
