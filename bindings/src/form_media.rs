//! Form media for the apps (issue 18, item 2): the files a form's labels
//! name, fetched with the form at sync, read by the form's hash and the
//! name a `Question` gives (`image`, `big_image`, `audio`, `video`).

use std::io::Write;

use crate::store::DeviceStore;
use crate::types::FormMediaInfo;
use crate::{EnumeraError, Result};

#[uniffi::export]
impl DeviceStore {
    /// The files a form version needs, each with whether it is here (a
    /// missing one is fetched again at the next sync).
    pub fn form_media_list(&self, form_hash: String) -> Result<Vec<FormMediaInfo>> {
        Ok(self
            .lock()
            .instrument_media(&form_hash)?
            .into_iter()
            .map(|m| FormMediaInfo {
                name: m.name,
                sha256: m.sha256,
                size: m.size,
                present: m.present,
            })
            .collect())
    }

    /// A form media file's bytes (an image or audio of a label); `None`
    /// when the form names no such file or it has not arrived.
    pub fn form_media(&self, form_hash: String, name: String) -> Result<Option<Vec<u8>>> {
        Ok(self.lock().read_form_media(&form_hash, &name)?)
    }

    /// Copies a form media file to `path` (a player's cache file for a
    /// video), streamed a chunk at a time; its size, or `None` as for
    /// `form_media`. The file is written whole or not at all.
    pub fn copy_form_media(
        &self,
        form_hash: String,
        name: String,
        path: String,
    ) -> Result<Option<u64>> {
        let io = |e: std::io::Error| EnumeraError::Storage { reason: format!("{path}: {e}") };
        let partial = format!("{path}.partial");
        let mut file = std::fs::File::create(&partial).map_err(io)?;
        let copied = self.lock().copy_form_media(&form_hash, &name, &mut file);
        let done = match copied {
            Ok(Some(n)) => {
                file.flush().and_then(|()| file.sync_all()).map(|()| Some(n)).map_err(io)
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e.into()),
        };
        drop(file);
        match done {
            Ok(Some(n)) => {
                std::fs::rename(&partial, &path).map_err(io)?;
                Ok(Some(n))
            }
            other => {
                let _ = std::fs::remove_file(&partial);
                other
            }
        }
    }
}
