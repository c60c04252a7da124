//! RS256 signing with WebCrypto (`crypto.subtle`), present in browsers, Node ≥ 19 as a global,
//! and workerd. Used for Google service-account JWTs (Vertex AI).

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::{Error, ErrorKind, Result};

#[wasm_bindgen]
extern "C" {
    // Only the two methods used, instead of web-sys's SubtleCrypto with its many overloads.
    type Subtle;
    #[wasm_bindgen(method, catch, js_name = importKey)]
    fn import_key(
        this: &Subtle,
        format: &str,
        key_data: &Uint8Array,
        algorithm: &Object,
        extractable: bool,
        usages: &Array,
    ) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn sign(
        this: &Subtle,
        algorithm: &JsValue,
        key: &JsValue,
        data: &Uint8Array,
    ) -> std::result::Result<Promise, JsValue>;
}

const ALGORITHM: &str = "RSASSA-PKCS1-v1_5";

fn subtle() -> Result<Subtle> {
    let get = |o: &JsValue, k: &str| Reflect::get(o, &k.into()).ok().filter(JsValue::is_object);
    get(&js_sys::global(), "crypto")
        .and_then(|c| get(&c, "subtle"))
        .map(JsCast::unchecked_into)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::BadRequest,
                "this runtime has no WebCrypto (`crypto.subtle`) to sign RS256 JWTs",
            )
        })
}

/// WebCrypto rejects with a `DOMException` (its `message`); a bare string is taken as it is.
/// Not `{e:?}`: `JsValue`'s `Debug` brings wasm-bindgen's `debugString` into the JS glue.
fn describe(e: &JsValue) -> String {
    Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "no error message".into())
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over `data`, with a PKCS#8 DER private key.
pub(crate) async fn sign_rs256(pkcs8_der: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    let subtle = subtle()?;
    let algorithm = Object::new();
    let set = |k: &str, v: &str| Reflect::set(&algorithm, &k.into(), &v.into());
    // Setting properties on a fresh plain object cannot fail.
    let _ = set("name", ALGORITHM).and_then(|_| set("hash", "SHA-256"));
    let usages = Array::of1(&"sign".into());
    let bad_key = |e: JsValue| {
        Error::new(
            ErrorKind::Authentication,
            format!(
                "cannot import the RS256 private key (PKCS#8): {}",
                describe(&e)
            ),
        )
    };
    let key = subtle
        .import_key(
            "pkcs8",
            &Uint8Array::from(pkcs8_der),
            &algorithm,
            false,
            &usages,
        )
        .map_err(bad_key)?;
    let key = JsFuture::from(key).await.map_err(bad_key)?;
    let failed = |e: JsValue| {
        Error::new(
            ErrorKind::Authentication,
            format!("RS256 signing failed: {}", describe(&e)),
        )
    };
    let sig = subtle
        .sign(&ALGORITHM.into(), &key, &Uint8Array::from(data))
        .map_err(failed)?;
    let sig = JsFuture::from(sig).await.map_err(failed)?;
    Ok(Uint8Array::new(&sig).to_vec())
}
