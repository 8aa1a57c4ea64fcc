//! AES-256-GCM under the master key: tenants' provider keys and the private halves of
//! signing keys are stored only sealed. The master key comes from `KEYSTEAD_MASTER_KEY`
//! (base64 of 32 bytes) or from a key file beside the database (mode 0600), created only
//! for a database that holds no sealed value yet.
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use super::secret::{Secret, random_bytes};
use crate::error::Error;

pub struct MasterKey(LessSafeKey);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// Where the key file of a database lives: `keystead.db` → `keystead.db.key`.
pub fn key_file(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

impl MasterKey {
    /// The configured key, else the key file beside the database. The file is created only
    /// when `holds_sealed` is None: a database holding sealed values (`holds_sealed` names
    /// one) needs the key they were sealed with, and a new one would never open them.
    pub fn load(configured: Option<&Secret>, db_path: &Path, holds_sealed: Option<&str>) -> Result<Self, Error> {
        let encoded = match (configured, holds_sealed) {
            (Some(k), _) => k.expose().trim().to_owned(),
            (None, None) => read_or_create(&key_file(db_path))?,
            (None, Some(what)) => read(&key_file(db_path))?.ok_or_else(|| {
                let (db, file) = (db_path.display(), key_file(db_path));
                Error::internal(format!(
                    "{db} holds values sealed under a master key ({what}), but no key is given: \
                     KEYSTEAD_MASTER_KEY and --master-key are unset and {} does not exist. Set \
                     KEYSTEAD_MASTER_KEY to the key this database was created with, or restore {}.",
                    file.display(),
                    file.display()
                ))
            })?,
        };
        Self::decode(&encoded)
    }

    /// The configured key, else the key file's, else None: never creates a file.
    pub fn existing(configured: Option<&Secret>, db_path: &Path) -> Result<Option<Self>, Error> {
        match configured {
            Some(k) => Self::decode(k.expose().trim()).map(Some),
            None => read(&key_file(db_path))?.map(|encoded| Self::decode(&encoded)).transpose(),
        }
    }

    fn decode(encoded: &str) -> Result<Self, Error> {
        let bytes =
            STANDARD.decode(encoded).map_err(|_| Error::invalid("the master key must be base64 of 32 bytes"))?;
        let key =
            UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| Error::invalid("the master key must be 32 bytes"))?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// `nonce || ciphertext || tag`. `context` binds the ciphertext to its row (e.g. the
    /// tenant id), so a sealed value copied to another row does not open.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, Error> {
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes()[..NONCE_LEN].try_into().map_err(Error::internal)?;
        let mut sealed = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| Error::internal("sealing failed"))?;
        let mut out = nonce_bytes.to_vec();
        out.append(&mut sealed);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, Error> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::internal("sealed value too short"));
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::internal("bad nonce"))?;
        let mut buf = rest.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| Error::internal("a sealed value does not open with this master key"))?;
        Ok(plain.to_vec())
    }
}

/// The key file's text, or None when there is no such file.
fn read(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::internal(format!("cannot read {}: {e}", path.display()))),
    }
}

fn read_or_create(path: &Path) -> Result<String, Error> {
    if let Some(encoded) = read(path)? {
        return Ok(encoded);
    }
    let encoded = STANDARD.encode(random_bytes());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(encoded.as_bytes()).and_then(|()| file.sync_all()).map_err(Error::internal)?;
    log::info!("created master key file {}", path.display());
    Ok(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_context() -> Result<(), Error> {
        let key = MasterKey::load(Some(&Secret::new(STANDARD.encode([7u8; 32]))), Path::new("unused"), None)?;
        let sealed = key.seal(b"sk-provider-secret", "tenant-a")?;
        assert!(!sealed.windows(6).any(|w| w == b"sk-pro"));
        assert_eq!(key.open(&sealed, "tenant-a")?, b"sk-provider-secret");
        assert!(key.open(&sealed, "tenant-b").is_err());
        Ok(())
    }

    #[test]
    fn the_key_file_is_created_once_with_mode_0600() -> Result<(), Error> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("keystead-aead-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(Error::internal)?;
        let db = dir.join("k.db");
        let first = MasterKey::load(None, &db, None)?.seal(b"x", "c")?;
        let mode = std::fs::metadata(key_file(&db)).map_err(Error::internal)?.permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(MasterKey::load(None, &db, None)?.open(&first, "c")?, b"x", "the second start reads the same key");
        assert_eq!(MasterKey::load(None, &db, Some("a signing key"))?.open(&first, "c")?, b"x");
        Ok(())
    }

    #[test]
    fn no_key_file_is_created_for_a_database_that_holds_sealed_values() -> Result<(), Error> {
        let dir = std::env::temp_dir().join(format!("keystead-aead-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(Error::internal)?;
        let db = dir.join("k.db");
        let refused = MasterKey::load(None, &db, Some("signing key abc"));
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("signing key abc") && message.contains("KEYSTEAD_MASTER_KEY"), "{message}");
        assert!(!key_file(&db).exists(), "a fresh key file would never open the sealed values");
        std::fs::remove_dir_all(&dir).map_err(Error::internal)?;
        Ok(())
    }
}
