//! Listing every object under the source prefix, recursively, into the shape the backup
//! crate's discovery wants, keeping each object's ETag for change detection and resume.

use std::collections::HashMap;

use ferry_backup::discover::ObjectEntry;
use ferry_base::error::flatten;
use futures::TryStreamExt;

use crate::error::RestoreError;
use crate::source::Source;

pub struct Listing {
    pub objects: Vec<ObjectEntry>,
    pub etags: HashMap<String, Option<String>>,
}

pub async fn list(source: &Source) -> Result<Listing, RestoreError> {
    let metas: Vec<object_store::ObjectMeta> = source
        .store
        .list(source.prefix.as_ref())
        .try_collect()
        .await
        .map_err(|e| RestoreError::List {
            source_url: source.url.display(),
            reason: flatten(&e),
        })?;
    let mut objects = Vec::with_capacity(metas.len());
    let mut etags = HashMap::with_capacity(metas.len());
    for m in metas {
        let key = source.relative_key(m.location.as_ref()).to_string();
        if key.is_empty() {
            continue;
        }
        etags.insert(key.clone(), m.e_tag.clone());
        objects.push(ObjectEntry { key, size: m.size });
    }
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Listing { objects, etags })
}
