//! Listing every object under the source prefix, recursively, into the shape the backup
//! crate's discovery wants, keeping each object's ETag for change detection and resume.

use std::collections::HashMap;
use std::sync::Arc;

use ferry_backup::discover::ObjectEntry;
use ferry_base::error::flatten;
use futures::TryStreamExt;

use crate::error::RestoreError;
use crate::source::Source;

pub struct Listing {
    /// Every object, sorted by key. Emptied once discovery has grouped them into sets.
    pub objects: Vec<ObjectEntry>,
    pub etags: HashMap<String, Option<String>>,
}

/// Decides, for each listed object's relative key, whether the restore may read it (the
/// control plane evaluates the ingestion role's `s3:GetObject` here): `Err(reason)` refuses
/// the object, and the restore fails before reading it.
#[derive(Clone)]
pub struct ObjectGate(pub Arc<GateFn>);

/// The decision of an [`ObjectGate`]: `Err` holds why the object may not be read.
pub type GateFn = dyn Fn(&str) -> Result<(), String> + Send + Sync;

impl std::fmt::Debug for ObjectGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ObjectGate")
    }
}

pub async fn list(source: &Source) -> Result<Listing, RestoreError> {
    list_each(source, None, |_, _| {}).await
}

/// Lists like [`list`], handing each object to `each` as its page arrives (keys in the
/// store's order, which for S3 is ascending), so work can start before the listing ends.
/// Every object passes `gate` (when given) before `each` sees it.
pub async fn list_each(
    source: &Source,
    gate: Option<&ObjectGate>,
    mut each: impl FnMut(&ObjectEntry, &Option<String>),
) -> Result<Listing, RestoreError> {
    let mut pages = source.store.list(source.prefix.as_ref());
    let mut objects = Vec::new();
    let mut etags = HashMap::new();
    while let Some(m) = pages.try_next().await.map_err(|e| RestoreError::List {
        source_url: source.url.display(),
        reason: flatten(&e),
    })? {
        let key = source.relative_key(m.location.as_ref()).to_string();
        if key.is_empty() {
            continue;
        }
        if let Some(ObjectGate(allows)) = gate {
            allows(&key).map_err(|reason| RestoreError::Refused {
                object: key.clone(),
                reason,
            })?;
        }
        let entry = ObjectEntry { key, size: m.size };
        each(&entry, &m.e_tag);
        etags.insert(entry.key.clone(), m.e_tag);
        objects.push(entry);
    }
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Listing { objects, etags })
}
