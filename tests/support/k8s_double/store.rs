//! TEST DOUBLE: the in-memory object store of the Kubernetes API double: namespaced pods, secrets,
//! network policies and events with uid, resourceVersion and creationTimestamp, a history of
//! every change, and watch subscriptions that replay from a resourceVersion and then go live.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};

/// The kinds of object the double stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Pod,
    Secret,
    NetworkPolicy,
    Event,
}

impl Kind {
    /// The kind served at the plural resource name `plural` of the group `group` ("" = core).
    #[must_use]
    pub fn from_plural(group: &str, plural: &str) -> Option<Self> {
        match (group, plural) {
            ("", "pods") => Some(Self::Pod),
            ("", "secrets") => Some(Self::Secret),
            ("", "events") => Some(Self::Event),
            ("networking.k8s.io", "networkpolicies") => Some(Self::NetworkPolicy),
            _ => None,
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Pod => "Pod",
            Self::Secret => "Secret",
            Self::NetworkPolicy => "NetworkPolicy",
            Self::Event => "Event",
        }
    }

    #[must_use]
    pub fn plural(self) -> &'static str {
        match self {
            Self::Pod => "pods",
            Self::Secret => "secrets",
            Self::NetworkPolicy => "networkpolicies",
            Self::Event => "events",
        }
    }

    #[must_use]
    pub fn api_version(self) -> &'static str {
        match self {
            Self::NetworkPolicy => "networking.k8s.io/v1",
            _ => "v1",
        }
    }
}

/// One change, as a watch stream reports it.
#[derive(Debug, Clone)]
pub struct Change {
    pub kind: Kind,
    pub namespace: String,
    pub rv: u64,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub verb: &'static str,
    pub object: Value,
}

type Key = (Kind, String, String);

#[derive(Default)]
struct Inner {
    rv: u64,
    objects: BTreeMap<Key, Value>,
    history: Vec<Change>,
    watchers: Vec<Sender<Change>>,
}

/// The store; every method takes the one lock, so changes are totally ordered by resourceVersion.
#[derive(Default)]
pub struct Store {
    inner: Mutex<Inner>,
    uids: AtomicU64,
}

/// Why a write was refused.
#[derive(Debug)]
pub enum StoreError {
    AlreadyExists,
    NotFound,
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current resourceVersion (of the latest change).
    #[must_use]
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// Stores a new object (metadata filled in) and returns it.
    pub fn create(
        &self,
        kind: Kind,
        namespace: &str,
        mut object: Value,
    ) -> Result<Value, StoreError> {
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut inner = self.lock();
        let key = (kind, namespace.to_owned(), name);
        if inner.objects.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        let uid = format!(
            "00000000-0000-4000-8000-{:012x}",
            self.uids.fetch_add(1, Ordering::Relaxed) + 1
        );
        object["kind"] = json!(kind.name());
        object["apiVersion"] = json!(kind.api_version());
        let meta = &mut object["metadata"];
        meta["namespace"] = json!(namespace);
        meta["uid"] = json!(uid);
        meta["creationTimestamp"] = json!(now_rfc3339());
        if kind == Kind::Pod || kind == Kind::NetworkPolicy {
            meta["generation"] = json!(1);
        }
        Ok(commit(&mut inner, key, "ADDED", object))
    }

    /// The object `name`, if stored.
    #[must_use]
    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Value> {
        let key = (kind, namespace.to_owned(), name.to_owned());
        self.lock().objects.get(&key).cloned()
    }

    /// Every object of `kind` (in `namespace`, or all when `None`) accepted by `keep`, and the
    /// resourceVersion the list is consistent with.
    pub fn list(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        keep: impl Fn(&Value) -> bool,
    ) -> (Vec<Value>, u64) {
        let inner = self.lock();
        let items = inner
            .objects
            .iter()
            .filter(|((k, ns, _), _)| *k == kind && namespace.is_none_or(|want| want == ns))
            .map(|(_, object)| object)
            .filter(|object| keep(object))
            .cloned()
            .collect();
        (items, inner.rv)
    }

    /// Applies `change` to the stored object (a MODIFIED event) and returns the new version.
    pub fn update(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) -> Result<Value, StoreError> {
        let mut inner = self.lock();
        let key = (kind, namespace.to_owned(), name.to_owned());
        let mut object = inner
            .objects
            .get(&key)
            .cloned()
            .ok_or(StoreError::NotFound)?;
        change(&mut object);
        Ok(commit(&mut inner, key, "MODIFIED", object))
    }

    /// Like [`Store::update`], but only while the object still has the uid `uid`.
    pub fn update_uid(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        uid: &str,
        change: impl FnOnce(&mut Value),
    ) -> Option<Value> {
        let mut inner = self.lock();
        let key = (kind, namespace.to_owned(), name.to_owned());
        let mut object = inner.objects.get(&key).cloned()?;
        if object["metadata"]["uid"] != uid {
            return None;
        }
        change(&mut object);
        Some(commit(&mut inner, key, "MODIFIED", object))
    }

    /// Removes the object (a DELETED event) and returns its last version.
    pub fn remove(&self, kind: Kind, namespace: &str, name: &str) -> Result<Value, StoreError> {
        let mut inner = self.lock();
        let key = (kind, namespace.to_owned(), name.to_owned());
        let object = inner.objects.remove(&key).ok_or(StoreError::NotFound)?;
        inner.rv += 1;
        let mut object = object;
        object["metadata"]["resourceVersion"] = json!(inner.rv.to_string());
        let change = Change {
            kind,
            namespace: key.1,
            rv: inner.rv,
            verb: "DELETED",
            object: object.clone(),
        };
        publish(&mut inner, change);
        Ok(object)
    }

    /// Subscribes to changes of `kind`: the past changes after `since` (when given), then a
    /// receiver of every later change. Without `since`, the current objects as ADDED changes.
    pub fn watch(&self, kind: Kind, since: Option<u64>) -> (Vec<Change>, Receiver<Change>) {
        let mut inner = self.lock();
        let replay = match since {
            Some(rv) => inner
                .history
                .iter()
                .filter(|change| change.kind == kind && change.rv > rv)
                .cloned()
                .collect(),
            None => inner
                .objects
                .iter()
                .filter(|((k, _, _), _)| *k == kind)
                .map(|((_, ns, _), object)| Change {
                    kind,
                    namespace: ns.clone(),
                    rv: inner.rv,
                    verb: "ADDED",
                    object: object.clone(),
                })
                .collect(),
        };
        let (sender, receiver) = channel();
        inner.watchers.push(sender);
        (replay, receiver)
    }
}

fn commit(inner: &mut Inner, key: Key, verb: &'static str, mut object: Value) -> Value {
    inner.rv += 1;
    object["metadata"]["resourceVersion"] = json!(inner.rv.to_string());
    inner.objects.insert(key.clone(), object.clone());
    let change = Change {
        kind: key.0,
        namespace: key.1,
        rv: inner.rv,
        verb,
        object: object.clone(),
    };
    publish(inner, change);
    object
}

fn publish(inner: &mut Inner, change: Change) {
    inner
        .watchers
        .retain(|watcher| watcher.send(change.clone()).is_ok());
    inner.history.push(change);
}

/// The current time as Kubernetes writes timestamps (`2024-01-02T03:04:05Z`).
#[must_use]
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
