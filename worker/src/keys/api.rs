//! LiteLLM's management API over the stores: `/key/generate`, `/key/info`, `/key/update`,
//! `/key/delete`, `/key/list`, `/key/block`, `/key/unblock`, `/user/new`, `/user/info`,
//! `/team/new`, `/team/info`, `/spend/logs`, `/global/spend`, `/global/spend/logs`, and the
//! dashboard page `/ui`. Request and response field names are LiteLLM's; amounts are float
//! dollars as in LiteLLM, plus exact decimal strings (`*_exact`).
//!
//! Records go to KV after their counter object is configured, so a new key works at once
//! wherever it is used (the counter object is the authority; KV may lag).

use std::future::Future;

use futures_util::future::join_all;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use edgellm::{Error, ErrorKind, Host, Result};

use super::counter::{Limits, Op, Outcome, Snapshot};
use super::errors::{self, proxy_error};
use super::model::{self, Fields, KeyRecord, Policy, SpendLog, TeamRecord, UserRecord};
use super::secret;
use super::store::{Counters, Kv};
use super::{time, KeyBytes, Keys};
use crate::app::{auth, Gateway, Head, Reply};

/// Largest management request body.
const MAX_BODY: usize = 1 << 20;

/// Whether `path` is a management route (answered by this module).
///
/// ```
/// use edgellm_worker::keys::api::is_management;
/// assert!(is_management("/key/generate") && is_management("/ui") && is_management("/global/spend"));
/// assert!(!is_management("/v1/chat/completions") && !is_management("/keys"));
/// ```
pub fn is_management(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    p == "/ui"
        || ["/key/", "/user/", "/team/", "/spend/", "/global/", "/ui/"]
            .iter()
            .any(|pre| p.starts_with(pre))
}

/// Decodes `a=1&b=x%20y` (`+` is a space).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    let hex = |c: u8| (c as char).to_digit(16);
                    match (hex(b[i + 1]), hex(b[i + 2])) {
                        (Some(h), Some(l)) => {
                            out.push((h * 16 + l) as u8);
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

struct Query(Vec<(String, String)>);

impl Query {
    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn num(&self, k: &str, default: u64) -> Result<u64> {
        match self.get(k) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| Error::bad_request(format!("`{k}` must be a number")).with_param(k)),
        }
    }

    fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "True" | "1"))
    }
}

fn ok(v: Value) -> Result<Reply> {
    Ok(Reply::json(200, &v))
}

fn missing(field: &str) -> Error {
    Error::bad_request(format!("missing required parameter `{field}`")).with_param(field)
}

fn store_err(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InternalServer, format!("key store: {e}"))
}

impl<K: Kv + Clone + 'static, C: Counters + Clone + 'static> Keys<K, C> {
    /// Answers a management route. Only the master key may call them, except `/ui` (the page
    /// asks for the key itself) and `/key/info` about the presented key.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn management<H, F, Fut>(
        &self,
        host: &H,
        gw: &Gateway,
        head: &Head,
        query: &str,
        presented: Option<&str>,
        random_key: &dyn Fn() -> KeyBytes,
        read_body: F,
    ) -> Reply
    where
        H: Host,
        F: FnOnce(usize) -> Fut,
        Fut: Future<Output = std::result::Result<Vec<u8>, Reply>>,
    {
        let path = head.path.trim_end_matches('/');
        let method = head.method.as_str();
        if path == "/ui" || path.starts_with("/ui/") {
            return super::ui::page(method);
        }
        let Some(master) = gw.config().general_settings.master_key.as_ref() else {
            return proxy_error(
                400,
                "bad_request_error",
                "virtual keys need a master key: set general_settings.master_key (or LITELLM_MASTER_KEY)",
                None,
            );
        };
        let admin = presented
            .is_some_and(|k| auth::constant_time_eq(master.expose().as_bytes(), k.as_bytes()));
        let q = Query(parse_query(query));
        if !admin {
            return match (method, path, presented) {
                ("GET", "/key/info", Some(own)) => self
                    .own_info(own, &q)
                    .await
                    .unwrap_or_else(|e| errors::from_error(&e)),
                (_, _, None) => errors::from_error(&Error::new(
                    ErrorKind::Authentication,
                    "Authentication error: no API key passed. Send `Authorization: Bearer <key>`.",
                )),
                _ => errors::not_admin(),
            };
        }
        let body = if method == "POST" {
            let bytes = match read_body(MAX_BODY).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(m)) => m,
                _ if bytes.iter().all(u8::is_ascii_whitespace) => Map::new(),
                _ => {
                    return errors::from_error(&Error::bad_request(
                        "the request body must be a JSON object",
                    ))
                }
            }
        } else {
            Map::new()
        };
        let f = Fields(&body);
        let result = match (method, path) {
            ("POST", "/key/generate") => self.generate(&f, None, random_key).await,
            ("POST", "/key/update") => self.update(&f).await,
            ("POST", "/key/delete") => self.delete(&f).await,
            ("POST", "/key/block") => self.set_blocked(&f, true).await,
            ("POST", "/key/unblock") => self.set_blocked(&f, false).await,
            ("GET", "/key/info") => match q.get("key") {
                Some(k) => self.key_info(k).await,
                None => Err(missing("key")),
            },
            ("GET", "/key/list") => self.list(&q).await,
            ("POST", "/user/new") => self.user_new(host, &f, random_key).await,
            ("GET", "/user/info") => self.user_info(&q).await,
            ("POST", "/team/new") => self.team_new(host, &f).await,
            ("GET", "/team/info") => self.team_info(&q).await,
            ("GET", "/spend/logs") => self.spend_logs(&q).await,
            ("GET", "/global/spend") => self.global_spend().await,
            ("GET", "/global/spend/logs") => self.global_spend_logs(&q).await,
            (_, p) if ROUTES.iter().any(|(_, r)| *r == p) => {
                let allowed = ROUTES
                    .iter()
                    .find(|(_, r)| *r == p)
                    .map_or("GET", |(m, _)| m);
                Ok(proxy_error(
                    405,
                    "bad_request_error",
                    &format!("{method} is not allowed on {p}; use {allowed}"),
                    None,
                )
                .with_header("allow", allowed.to_string()))
            }
            _ => Ok(errors::not_found(&format!("Invalid URL ({method} {path})"))),
        };
        result.unwrap_or_else(|e| errors::from_error(&e))
    }

    async fn get_json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        match self.kv.get(name).await? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text).map(Some).map_err(store_err),
        }
    }

    async fn put_json<T: serde::Serialize>(
        &self,
        name: &str,
        value: &T,
        metadata: Option<Value>,
    ) -> Result<()> {
        let text = serde_json::to_string(value).map_err(store_err)?;
        self.kv.put(name, &text, metadata, None).await
    }

    async fn counter(&self, name: &str, op: Op) -> Result<Snapshot> {
        match self.counters.call(name, &op).await? {
            Outcome::Ok(s) => Ok(*s),
            Outcome::Refused(r) => Err(Error::new(ErrorKind::InternalServer, r.message)),
        }
    }

    async fn configure(&self, name: &str, limits: Limits) -> Result<Snapshot> {
        let now_ms = self.now();
        self.counter(name, Op::Configure { limits, now_ms }).await
    }

    async fn live(&self, name: &str) -> Option<Snapshot> {
        let now_ms = self.now();
        self.counter(name, Op::Info { now_ms }).await.ok()
    }

    /// Every key record (KV listing, then one read per key).
    async fn all_keys(&self) -> Result<Vec<KeyRecord>> {
        let mut names = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.kv.list("key:", cursor, 1000).await?;
            names.extend(page.entries.into_iter().map(|e| e.name));
            match page.cursor {
                Some(c) if names.len() < 100_000 => cursor = Some(c),
                _ => break,
            }
        }
        let records = join_all(names.iter().map(|n| self.get_json::<KeyRecord>(n))).await;
        Ok(records
            .into_iter()
            .filter_map(|r| r.ok().flatten())
            .collect())
    }

    async fn key_json(&self, rec: &KeyRecord) -> Value {
        let live = self.live(&model::key_counter(&rec.token)).await;
        rec.to_json(live.as_ref())
    }

    /// `POST /key/generate` (and the key `/user/new` makes): returns the key, once.
    async fn generate(
        &self,
        f: &Fields<'_>,
        user_id: Option<String>,
        random_key: &dyn Fn() -> KeyBytes,
    ) -> Result<Reply> {
        let key = match f.string("key")? {
            Some(k)
                if k.starts_with("sk-") && k.len() >= 8 && !k.chars().any(char::is_whitespace) =>
            {
                k
            }
            Some(_) => return Err(Error::bad_request(
                "a custom `key` must start with `sk-`, be at least 8 characters and hold no spaces",
            )
            .with_param("key")),
            None => secret::new_key(&random_key()),
        };
        let hash = secret::hash_key(&key);
        if self.kv.get(&model::key_kv(&hash)).await?.is_some() {
            return Err(Error::bad_request("this key already exists").with_param("key"));
        }
        let now = self.now();
        let mut policy = Policy::default();
        f.apply_policy(&mut policy)?;
        let user_id = user_id.or(f.string("user_id")?);
        let rec = KeyRecord {
            token: hash.clone(),
            key_name: secret::abbreviate(&key),
            key_alias: f.string("key_alias")?,
            user_id: user_id.clone(),
            team_id: f.string("team_id")?,
            expires_ms: f.duration("duration")?.map(|d| now.saturating_add(d)),
            policy,
            created_ms: now,
            updated_ms: now,
        };
        if let Some(u) = &user_id {
            // LiteLLM creates the user a key is generated for, without a budget.
            if self.kv.get(&model::user_kv(u)).await?.is_none() {
                let user = UserRecord {
                    user_id: u.clone(),
                    created_ms: now,
                    updated_ms: now,
                    ..Default::default()
                };
                self.put_json(&model::user_kv(u), &user, None).await?;
            }
        }
        let snap = self
            .configure(&model::key_counter(&hash), rec.limits())
            .await?;
        self.put_json(
            &model::key_kv(&hash),
            &rec,
            Some(json!({"alias": rec.key_alias, "created_ms": now})),
        )
        .await?;
        let mut out = rec.to_json(Some(&snap));
        let o = out.as_object_mut().expect("object");
        o.insert("key".into(), json!(key));
        o.insert("token_id".into(), json!(hash));
        o.insert("duration".into(), json!(f.string("duration")?));
        ok(out)
    }

    async fn load_key(&self, key_or_hash: &str) -> Result<Option<KeyRecord>> {
        self.get_json(&model::key_kv(&secret::to_hash(key_or_hash)))
            .await
    }

    async fn key_info(&self, key: &str) -> Result<Reply> {
        match self.load_key(key).await? {
            None => Ok(errors::not_found("Key not found in database")),
            Some(rec) => ok(json!({"key": key, "info": self.key_json(&rec).await})),
        }
    }

    /// `GET /key/info` with a virtual key: about itself only.
    async fn own_info(&self, own: &str, q: &Query) -> Result<Reply> {
        let asked = q.get("key").unwrap_or(own);
        if secret::to_hash(asked) != secret::hash_key(own) {
            return Ok(proxy_error(
                403,
                "auth_error",
                "You are not allowed to access this key's info.",
                Some("key"),
            ));
        }
        match self.load_key(own).await? {
            Some(rec)
                if self
                    .live(&model::key_counter(&rec.token))
                    .await
                    .is_some_and(|s| !s.revoked) =>
            {
                ok(json!({"key": asked, "info": self.key_json(&rec).await}))
            }
            _ => Ok(errors::refusal(
                &super::counter::Refusal {
                    reason: super::counter::Reason::Unknown,
                    message: String::new(),
                    retry_after_ms: None,
                    limit: None,
                    crossed: Vec::new(),
                    limits: None,
                },
                &secret::hash_key(own),
            )),
        }
    }

    async fn save_key(&self, rec: &KeyRecord) -> Result<Snapshot> {
        let snap = self
            .configure(&model::key_counter(&rec.token), rec.limits())
            .await?;
        self.put_json(
            &model::key_kv(&rec.token),
            rec,
            Some(json!({"alias": rec.key_alias, "created_ms": rec.created_ms})),
        )
        .await?;
        Ok(snap)
    }

    /// `POST /key/update`: the fields present change, the others stay.
    async fn update(&self, f: &Fields<'_>) -> Result<Reply> {
        let key = f.string("key")?.ok_or_else(|| missing("key"))?;
        let Some(mut rec) = self.load_key(&key).await? else {
            return Ok(errors::not_found("Key not found in database"));
        };
        f.apply_policy(&mut rec.policy)?;
        if f.has("key_alias") {
            rec.key_alias = f.string("key_alias")?;
        }
        if f.has("user_id") {
            rec.user_id = f.string("user_id")?;
        }
        if f.has("team_id") {
            rec.team_id = f.string("team_id")?;
        }
        let now = self.now();
        if f.has("duration") {
            rec.expires_ms = f.duration("duration")?.map(|d| now.saturating_add(d));
        }
        rec.updated_ms = now;
        let snap = self.save_key(&rec).await?;
        let mut out = rec.to_json(Some(&snap));
        out.as_object_mut()
            .expect("object")
            .insert("key".into(), json!(key));
        ok(out)
    }

    async fn set_blocked(&self, f: &Fields<'_>, blocked: bool) -> Result<Reply> {
        let key = f.string("key")?.ok_or_else(|| missing("key"))?;
        let Some(mut rec) = self.load_key(&key).await? else {
            return Ok(errors::not_found("Key not found in database"));
        };
        rec.policy.blocked = blocked;
        rec.updated_ms = self.now();
        let snap = self.save_key(&rec).await?;
        ok(rec.to_json(Some(&snap)))
    }

    /// `POST /key/delete` with `keys` (keys or hashes) or `key_aliases`: all exist, or none is
    /// deleted.
    async fn delete(&self, f: &Fields<'_>) -> Result<Reply> {
        let keys = f.strings("keys")?.unwrap_or_default();
        let aliases = f.strings("key_aliases")?.unwrap_or_default();
        if keys.is_empty() && aliases.is_empty() {
            return Err(missing("keys"));
        }
        let mut targets: Vec<(String, String)> = Vec::new();
        for k in &keys {
            let hash = secret::to_hash(k);
            if self.kv.get(&model::key_kv(&hash)).await?.is_none() {
                return Ok(errors::not_found(&format!(
                    "Failed to delete all keys. Key not found in database: {}",
                    if secret::is_hash(k) {
                        k.clone()
                    } else {
                        secret::abbreviate(k)
                    }
                )));
            }
            targets.push((k.clone(), hash));
        }
        if !aliases.is_empty() {
            let all = self.all_keys().await?;
            for a in &aliases {
                let found: Vec<&KeyRecord> = all
                    .iter()
                    .filter(|r| r.key_alias.as_deref() == Some(a))
                    .collect();
                if found.is_empty() {
                    return Ok(errors::not_found(&format!(
                        "Failed to delete all keys. No key with alias {a}"
                    )));
                }
                targets.extend(found.into_iter().map(|r| (a.clone(), r.token.clone())));
            }
        }
        let now_ms = self.now();
        for (_, hash) in &targets {
            // The counter object refuses the key from now on; then the record goes.
            self.counter(&model::key_counter(hash), Op::Revoke { now_ms })
                .await?;
            self.kv.delete(&model::key_kv(hash)).await?;
        }
        let mut out = json!({"deleted_keys": keys});
        if !aliases.is_empty() {
            out["deleted_key_aliases"] = json!(aliases);
        }
        ok(out)
    }

    /// `GET /key/list`: hashes (or full objects with `return_full_object=true`), filtered by
    /// `user_id`, `team_id`, `key_alias`, paged by `page` and `size`.
    async fn list(&self, q: &Query) -> Result<Reply> {
        let page = q.num("page", 1)?.max(1);
        let size = q.num("size", 10)?.clamp(1, 1000);
        let mut recs = self.all_keys().await?;
        recs.retain(|r| {
            q.get("user_id")
                .is_none_or(|u| r.user_id.as_deref() == Some(u))
                && q.get("team_id")
                    .is_none_or(|t| r.team_id.as_deref() == Some(t))
                && q.get("key_alias")
                    .is_none_or(|a| r.key_alias.as_deref() == Some(a))
        });
        recs.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then(a.token.cmp(&b.token)));
        let total = recs.len() as u64;
        let start = ((page - 1) * size).min(total) as usize;
        let end = (start + size as usize).min(recs.len());
        let chosen = &recs[start..end];
        let keys: Vec<Value> = if q.flag("return_full_object") {
            join_all(chosen.iter().map(|r| self.key_json(r))).await
        } else {
            chosen.iter().map(|r| json!(r.token)).collect()
        };
        ok(json!({
            "keys": keys,
            "total_count": total,
            "current_page": page,
            "total_pages": total.div_ceil(size),
        }))
    }

    /// `POST /user/new`: the user, and (unless `auto_create_key: false`) a key for it.
    async fn user_new<H: Host>(
        &self,
        host: &H,
        f: &Fields<'_>,
        random_key: &dyn Fn() -> KeyBytes,
    ) -> Result<Reply> {
        let user_id = f
            .string("user_id")?
            .unwrap_or_else(|| crate::app::request_id(None, || host.random()));
        if self.kv.get(&model::user_kv(&user_id)).await?.is_some() {
            return Err(
                Error::bad_request(format!("User {user_id} already exists")).with_param("user_id")
            );
        }
        let now = self.now();
        let mut policy = Policy::default();
        f.apply_policy(&mut policy)?;
        let rec = UserRecord {
            user_id: user_id.clone(),
            user_email: f.string("user_email")?,
            user_alias: f.string("user_alias")?,
            user_role: f.string("user_role")?,
            teams: f.strings("teams")?.unwrap_or_default(),
            policy,
            created_ms: now,
            updated_ms: now,
        };
        let snap = self
            .configure(&model::user_counter(&user_id), rec.limits())
            .await?;
        self.put_json(&model::user_kv(&user_id), &rec, None).await?;
        let mut out = rec.to_json(Some(&snap));
        if f.bool("auto_create_key")?.unwrap_or(true) {
            // The key gets the user's models but not its budget: the user's counter holds that.
            let mut key_fields = Map::new();
            for k in ["key_alias", "duration", "models", "team_id"] {
                if let Some(v) = f.0.get(k) {
                    key_fields.insert(k.into(), v.clone());
                }
            }
            let key_reply = self
                .generate(&Fields(&key_fields), Some(user_id.clone()), random_key)
                .await?;
            let k = key_reply.json_body().unwrap_or_default();
            let o = out.as_object_mut().expect("object");
            for field in ["key", "key_name", "expires", "token", "token_id"] {
                o.insert(field.into(), k[field].clone());
            }
        }
        ok(out)
    }

    async fn user_info(&self, q: &Query) -> Result<Reply> {
        let user_id = q.get("user_id").ok_or_else(|| missing("user_id"))?;
        let Some(rec) = self
            .get_json::<UserRecord>(&model::user_kv(user_id))
            .await?
        else {
            return Ok(errors::not_found(&format!("User {user_id} not found")));
        };
        let live = self.live(&model::user_counter(user_id)).await;
        let keys: Vec<KeyRecord> = self
            .all_keys()
            .await?
            .into_iter()
            .filter(|k| k.user_id.as_deref() == Some(user_id))
            .collect();
        let keys = join_all(keys.iter().map(|k| self.key_json(k))).await;
        let mut teams = Vec::new();
        for t in &rec.teams {
            if let Some(team) = self.get_json::<TeamRecord>(&model::team_kv(t)).await? {
                teams.push(team.to_json(None));
            }
        }
        ok(json!({
            "user_id": user_id,
            "user_info": rec.to_json(live.as_ref()),
            "keys": keys,
            "teams": teams,
        }))
    }

    /// `POST /team/new`.
    async fn team_new<H: Host>(&self, host: &H, f: &Fields<'_>) -> Result<Reply> {
        let team_id = f
            .string("team_id")?
            .unwrap_or_else(|| crate::app::request_id(None, || host.random()));
        if self.kv.get(&model::team_kv(&team_id)).await?.is_some() {
            return Err(Error::bad_request(format!(
                "Team id = {team_id} already exists. Please use a different team id."
            ))
            .with_param("team_id"));
        }
        let now = self.now();
        let mut policy = Policy::default();
        f.apply_policy(&mut policy)?;
        let members = match f.0.get("members_with_roles") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(_) => {
                return Err(Error::bad_request("`members_with_roles` must be a list")
                    .with_param("members_with_roles"))
            }
        };
        let rec = TeamRecord {
            team_id: team_id.clone(),
            team_alias: f.string("team_alias")?,
            members_with_roles: members,
            policy,
            created_ms: now,
            updated_ms: now,
        };
        let snap = self
            .configure(&model::team_counter(&team_id), rec.limits())
            .await?;
        self.put_json(&model::team_kv(&team_id), &rec, None).await?;
        ok(rec.to_json(Some(&snap)))
    }

    async fn team_info(&self, q: &Query) -> Result<Reply> {
        let team_id = q.get("team_id").ok_or_else(|| missing("team_id"))?;
        let Some(rec) = self
            .get_json::<TeamRecord>(&model::team_kv(team_id))
            .await?
        else {
            return Ok(errors::not_found(&format!(
                "Team not found, passed team_id={team_id}"
            )));
        };
        let live = self.live(&model::team_counter(team_id)).await;
        let keys: Vec<KeyRecord> = self
            .all_keys()
            .await?
            .into_iter()
            .filter(|k| k.team_id.as_deref() == Some(team_id))
            .collect();
        let keys = join_all(keys.iter().map(|k| self.key_json(k))).await;
        ok(json!({
            "team_id": team_id,
            "team_info": rec.to_json(live.as_ref()),
            "keys": keys,
            "team_memberships": [],
        }))
    }

    /// `GET /spend/logs`: newest first, filtered by `api_key` (key or hash), `user_id`,
    /// `team_id`, `request_id`, `start_date`/`end_date` (`YYYY-MM-DD` or ISO 8601), at most
    /// `limit` (100) entries.
    async fn spend_logs(&self, q: &Query) -> Result<Reply> {
        let limit = q.num("limit", 100)?.clamp(1, 10_000) as usize;
        let api_key = q.get("api_key").map(secret::to_hash);
        let parse_date = |k: &str| -> Result<Option<u64>> {
            q.get(k)
                .map(|v| {
                    time::parse(v).ok_or_else(|| {
                        Error::bad_request(format!("`{k}` must be a date (YYYY-MM-DD)"))
                            .with_param(k)
                    })
                })
                .transpose()
        };
        let start = parse_date("start_date")?;
        // A bare end date includes that whole day.
        let end = parse_date("end_date")?.map(|e| {
            if q.get("end_date").is_some_and(|v| v.len() == 10) {
                e + 86_400_000 - 1
            } else {
                e
            }
        });
        let mut out: Vec<Value> = Vec::new();
        let mut cursor = None;
        'pages: loop {
            let page = self.kv.list("log:", cursor, 1000).await?;
            for entry in page.entries {
                let at = model::log_kv_time(&entry.name).unwrap_or(0);
                if end.is_some_and(|e| at > e) {
                    continue;
                }
                if start.is_some_and(|s| at < s) {
                    break 'pages;
                }
                let log: SpendLog =
                    match entry.metadata.and_then(|m| serde_json::from_value(m).ok()) {
                        Some(l) => l,
                        None => match self.get_json::<SpendLog>(&entry.name).await? {
                            Some(l) => l,
                            None => continue,
                        },
                    };
                let keep = api_key.as_deref().is_none_or(|k| log.api_key == k)
                    && q.get("user_id")
                        .is_none_or(|u| log.user.as_deref() == Some(u))
                    && q.get("team_id")
                        .is_none_or(|t| log.team_id.as_deref() == Some(t))
                    && q.get("request_id").is_none_or(|r| log.request_id == r);
                if keep {
                    out.push(serde_json::to_value(&log).map_err(store_err)?);
                    if out.len() >= limit {
                        break 'pages;
                    }
                }
            }
            match page.cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        ok(Value::Array(out))
    }

    /// `GET /global/spend`: the gateway's spend since it started counting, exact.
    async fn global_spend(&self) -> Result<Reply> {
        let s = self.live(model::GLOBAL_COUNTER).await.unwrap_or_default();
        ok(json!({
            "spend": s.total_spend.to_f64(),
            "spend_exact": model::exact(s.total_spend),
            "max_budget": null,
            "requests": s.requests,
            "prompt_tokens": s.prompt_tokens,
            "completion_tokens": s.completion_tokens,
            "tpm_current": s.tpm_used,
        }))
    }

    /// `GET /global/spend/logs`: spend per day (or per hour with `granularity=hour`) over the
    /// last 7 days, oldest first.
    async fn global_spend_logs(&self, q: &Query) -> Result<Reply> {
        let s = self.live(model::GLOBAL_COUNTER).await.unwrap_or_default();
        let hourly = q.get("granularity") == Some("hour");
        let mut rows: Vec<(String, edgellm::cost::Usd, u64, u64)> = Vec::new();
        for h in &s.hours {
            let label = if hourly {
                time::iso(h.hour * 3_600_000)
            } else {
                time::day(h.hour * 3_600_000)
            };
            match rows.last_mut() {
                Some(r) if r.0 == label => {
                    r.1 += h.spend;
                    r.2 += h.requests;
                    r.3 += h.tokens;
                }
                _ => rows.push((label, h.spend, h.requests, h.tokens)),
            }
        }
        ok(Value::Array(
            rows.into_iter()
                .map(|(date, spend, requests, tokens)| {
                    json!({"date": date, "spend": spend.to_f64(), "spend_exact": model::exact(spend),
                           "requests": requests, "total_tokens": tokens})
                })
                .collect(),
        ))
    }
}

/// Every management route and its method (for 405 answers).
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/key/generate"),
    ("POST", "/key/update"),
    ("POST", "/key/delete"),
    ("POST", "/key/block"),
    ("POST", "/key/unblock"),
    ("GET", "/key/info"),
    ("GET", "/key/list"),
    ("POST", "/user/new"),
    ("GET", "/user/info"),
    ("POST", "/team/new"),
    ("GET", "/team/info"),
    ("GET", "/spend/logs"),
    ("GET", "/global/spend"),
    ("GET", "/global/spend/logs"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        let q = parse_query("?key=sk-a%2Bb&x=&user_id=jane+doe&bad=%zz%4");
        assert_eq!(q[0], ("key".into(), "sk-a+b".into()));
        assert_eq!(q[2], ("user_id".into(), "jane doe".into()));
        assert_eq!(q[3], ("bad".into(), "%zz%4".into()));
        assert!(Query(q).get("x").is_none());
    }
}
