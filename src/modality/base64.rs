//! OpenAI's `encoding_format: "base64"` for embeddings: the vector as little-endian f32 bytes,
//! standard base64 with padding. Used when a provider only returns floats.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648, with `=` padding).
pub fn encode(bytes: &[u8]) -> String {
    crate::auth::base64::encode_with(bytes, ALPHABET, true)
}

/// A float vector as OpenAI encodes it: each value rounded to f32, little-endian, base64.
pub fn encode_f32_le(values: &[f64]) -> String {
    let bytes: Vec<u8> = values
        .iter()
        .flat_map(|v| (*v as f32).to_le_bytes())
        .collect();
    encode(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(i.as_bytes()), o, "{i}");
        }
    }

    #[test]
    fn floats_are_little_endian_f32() {
        // 0.5f32 = 0x3F000000 → bytes 00 00 00 3F; -1.0f32 = 0xBF800000 → 00 00 80 BF.
        assert_eq!(encode_f32_le(&[0.5]), "AAAAPw==");
        assert_eq!(encode_f32_le(&[0.5, -1.0]), "AAAAPwAAgL8=");
    }
}
