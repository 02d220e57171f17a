//! Listing every object under the source prefix, recursively, into the shape the backup
//! crate's discovery wants, keeping each object's ETag for change detection and resume.

use std::collections::HashMap;

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

pub async fn list(source: &Source) -> Result<Listing, RestoreError> {
    list_each(source, |_, _| {}).await
}

/// Lists like [`list`], handing each object to `each` as its page arrives (keys in the
/// store's order, which for S3 is ascending), so work can start before the listing ends.
pub async fn list_each(
    source: &Source,
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
        let entry = ObjectEntry { key, size: m.size };
        each(&entry, &m.e_tag);
        etags.insert(entry.key.clone(), m.e_tag);
        objects.push(entry);
    }
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Listing { objects, etags })
}
