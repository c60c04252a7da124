//! Virtual keys as text: a new key from random bytes the host supplies, its SHA-256 (the only
//! form that is stored, as LiteLLM's `hash_token`), and the abbreviation shown in listings.

/// Random bytes in a generated key (256 bits).
pub const KEY_BYTES: usize = 32;

const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A new key: `sk-` and the bytes in unpadded URL-safe base64 (43 characters for 32 bytes).
/// The bytes must come from a CSPRNG (`crypto.getRandomValues` at the edge).
///
/// ```
/// let k = edgellm_worker::keys::secret::new_key(&[0u8; 32]);
/// assert!(k.starts_with("sk-") && k.len() == 46);
/// ```
pub fn new_key(random: &[u8; KEY_BYTES]) -> String {
    let mut out = String::with_capacity(3 + KEY_BYTES * 4 / 3 + 1);
    out.push_str("sk-");
    for chunk in random.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(URL_SAFE[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The stored form of a key: lowercase hex SHA-256 of its text (LiteLLM's `hash_token`).
pub fn hash_key(key: &str) -> String {
    edgellm::aws::sha256_hex(key.as_bytes())
}

/// Whether `s` already is a key hash (64 lowercase hex digits), as `/key/info` and
/// `/key/delete` accept either form.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The hash for a key given in either form.
pub fn to_hash(key_or_hash: &str) -> String {
    if is_hash(key_or_hash) {
        key_or_hash.to_string()
    } else {
        hash_key(key_or_hash)
    }
}

/// LiteLLM's `key_name`: `sk-...` and the last four characters.
pub fn abbreviate(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("sk-...{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_base64url_of_the_random_bytes() {
        let mut r = [0u8; 32];
        r[..3].copy_from_slice(b"Man");
        let k = new_key(&r);
        assert!(k.starts_with("sk-TWFu"), "{k}");
        assert_eq!(k.len(), 46);
        r[31] = 0xff;
        assert!(new_key(&r).ends_with("AP8"), "{}", new_key(&r));
        assert!(new_key(&[0xfb; 32])
            .chars()
            .skip(3)
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn hashing_matches_sha256_hex() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_hash(&hash_key("x")));
        assert!(!is_hash("sk-abc"));
        assert_eq!(to_hash(&hash_key("k")), hash_key("k"));
        assert_eq!(to_hash("k"), hash_key("k"));
        assert_eq!(abbreviate("sk-abcdefgh"), "sk-...efgh");
    }
}
