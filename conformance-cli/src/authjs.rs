//! The real Auth.js adapters, run by Node, for the cross-language tests: a record written by
//! one side must be read, used and deleted by the other.
//!
//! [`AuthJs::open`] starts `node compat/authjs/driver.mjs` with a layout (`pg`,
//! `drizzle-pg`, `drizzle-mysql`, `drizzle-sqlite`, `mongodb`, `unstorage-redis`) and where
//! its data lives; each call sends one request line and reads one answer line. The Node
//! packages come from `npm ci` in `compat/authjs` (on its lock file); [`AuthJs::available`]
//! says whether they are there.
//!
//! Records cross as Auth.js shapes them (camelCase, dates as ISO 8601) and come back as this
//! workspace's models: an id Node gives as a number (`SERIAL`) becomes its decimal string.
//!
//! ```no_run
//! use conformance_cli::authjs::AuthJs;
//! use serde_json::json;
//!
//! # async fn demo() -> Result<(), String> {
//! AuthJs::available()?;
//! let mut node = AuthJs::open(json!({"layout": "pg", "url": "postgres://…", "schema": "s1"})).await?;
//! let user = node.create_user("ada@example.com").await?;
//! assert!(node.get_user(&user.id).await?.is_some());
//! # Ok(()) }
//! ```

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use auth_core::chrono::{DateTime, SecondsFormat, Utc};
use auth_core::{Account, Session, User, VerificationToken};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// How long one call to Node may take before the test gives up on it.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// One Node process running one Auth.js adapter.
#[derive(Debug)]
pub struct AuthJs {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

/// `compat/authjs` of this workspace.
pub fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("compat")
        .join("authjs")
}

/// Prints why the cross-language test `test` is skipped (`SKIPPED <test>: <why>`), or panics
/// with the same reason when [`REQUIRE_VAR`](adapter_conformance::harness::REQUIRE_VAR) is set: in CI a
/// test that cannot run is a failure.
///
/// ```
/// # if std::env::var_os(adapter_conformance::harness::REQUIRE_VAR).is_none() {
/// conformance_cli::authjs::skip_or_fail("my_test", "the example has no server");
/// # }
/// ```
pub fn skip_or_fail(test: &str, why: &str) {
    assert!(
        std::env::var_os(adapter_conformance::harness::REQUIRE_VAR).is_none(),
        "{test}: {why}, and {} is set",
        adapter_conformance::harness::REQUIRE_VAR
    );
    println!("SKIPPED {test}: {why}");
}

/// What a cross-language test on a server needs: the server's URL from `var`, and Node with
/// the Auth.js packages ([`AuthJs::available`]). `None` after [`skip_or_fail`] said why.
///
/// ```no_run
/// use conformance_cli::authjs::server_or_skip;
/// let Some(url) = server_or_skip("my_test", "AUTH_TEST_POSTGRES_URL") else { return };
/// ```
pub fn server_or_skip(test: &str, var: &str) -> Option<String> {
    let why = match (
        adapter_conformance::harness::env_url(var),
        AuthJs::available(),
    ) {
        (Some(url), Ok(())) => return Some(url),
        (None, _) => format!("{var} is not set"),
        (Some(_), Err(why)) => why,
    };
    skip_or_fail(test, &why);
    None
}

impl AuthJs {
    /// Whether Node and the packages of `compat/authjs` are here; `Err` says what is
    /// missing and how to get it.
    pub fn available() -> Result<(), String> {
        let dir = compat_dir();
        if !dir.join("node_modules").join("@auth").is_dir() {
            return Err(format!(
                "the Auth.js packages are not installed: run `npm ci` in {}",
                dir.display()
            ));
        }
        match std::process::Command::new("node")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
        {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("`node --version` failed: {status}")),
            Err(e) => Err(format!("Node.js is not on PATH: {e}")),
        }
    }

    /// Starts the driver on `config` (see `compat/authjs/driver.mjs` for its fields).
    pub async fn open(config: Value) -> Result<Self, String> {
        let dir = compat_dir();
        let mut child = Command::new("node")
            .arg(dir.join("driver.mjs"))
            .arg(config.to_string())
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("could not start node: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("node started without pipes".to_owned());
        };
        Ok(Self {
            child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
            next_id: 1,
        })
    }

    /// Calls `method` of the Auth.js adapter with `args`; its result as JSON (`null` for
    /// `null`/`undefined`), or the error Node threw.
    pub async fn call(&mut self, method: &str, args: Value) -> Result<Value, String> {
        let id = self.next_id;
        self.next_id += 1;
        let mut line = json!({"id": id, "method": method, "args": args}).to_string();
        line.push('\n');
        let exchange = async {
            self.stdin
                .write_all(line.as_bytes())
                .await
                .map_err(|e| format!("writing to node: {e}"))?;
            self.stdin
                .flush()
                .await
                .map_err(|e| format!("writing to node: {e}"))?;
            self.stdout
                .next_line()
                .await
                .map_err(|e| format!("reading from node: {e}"))?
                .ok_or_else(|| "node exited before answering".to_owned())
        };
        let answer = tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .map_err(|_| format!("node did not answer {method} within {CALL_TIMEOUT:?}"))??;
        let mut answer: Value = serde_json::from_str(&answer)
            .map_err(|e| format!("node answered {method} with bad JSON ({e}): {answer}"))?;
        if answer["id"] != json!(id) {
            return Err(format!("node answered request {} for {id}", answer["id"]));
        }
        match answer.get_mut("error").map(Value::take) {
            Some(Value::String(error)) => Err(format!("Auth.js {method}: {error}")),
            _ => Ok(answer.get_mut("ok").map(Value::take).unwrap_or(Value::Null)),
        }
    }

    /// Stops the driver, letting it close its connections first.
    pub async fn close(mut self) -> Result<(), String> {
        drop(self.stdin);
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(format!("node exited with {status}")),
            Ok(Err(e)) => Err(format!("waiting for node: {e}")),
            Err(_) => {
                let _ = self.child.kill().await;
                Err("node did not exit within 10 s of stdin closing".to_owned())
            }
        }
    }

    /// `createUser` as Auth.js calls it when an email signs in: with a fresh random id
    /// (which layouts that assign ids ignore) and `emailVerified` now.
    pub async fn create_user(&mut self, email: &str) -> Result<User, String> {
        let user = self
            .call(
                "createUser",
                json!([{
                    "id": uuid::Uuid::now_v7().to_string(),
                    "email": email,
                    "emailVerified": iso(Utc::now()),
                    "name": "From Node",
                    "image": null,
                }]),
            )
            .await?;
        user_from_json(&user)
    }

    /// `getUser`.
    pub async fn get_user(&mut self, id: &str) -> Result<Option<User>, String> {
        optional(self.call("getUser", json!([id])).await?, user_from_json)
    }

    /// `getUserByEmail`.
    pub async fn get_user_by_email(&mut self, email: &str) -> Result<Option<User>, String> {
        optional(
            self.call("getUserByEmail", json!([email])).await?,
            user_from_json,
        )
    }

    /// `getUserByAccount`.
    pub async fn get_user_by_account(
        &mut self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>, String> {
        let args = json!([{"provider": provider, "providerAccountId": provider_account_id}]);
        optional(self.call("getUserByAccount", args).await?, user_from_json)
    }

    /// `linkAccount` (Auth.js's result is not used: some adapters return nothing).
    pub async fn link_account(&mut self, account: &Account) -> Result<(), String> {
        self.call("linkAccount", json!([account_to_json(account)]))
            .await
            .map(drop)
    }

    /// `createSession`.
    pub async fn create_session(&mut self, session: &Session) -> Result<(), String> {
        let args = json!([{
            "sessionToken": session.session_token,
            "userId": session.user_id,
            "expires": iso(session.expires),
        }]);
        self.call("createSession", args).await.map(drop)
    }

    /// `getSessionAndUser`.
    pub async fn get_session_and_user(
        &mut self,
        session_token: &str,
    ) -> Result<Option<(Session, User)>, String> {
        let found = self
            .call("getSessionAndUser", json!([session_token]))
            .await?;
        optional(found, |both| {
            Ok((
                session_from_json(&both["session"])?,
                user_from_json(&both["user"])?,
            ))
        })
    }

    /// `deleteSession`.
    pub async fn delete_session(&mut self, session_token: &str) -> Result<(), String> {
        self.call("deleteSession", json!([session_token]))
            .await
            .map(drop)
    }

    /// `createVerificationToken`.
    pub async fn create_verification_token(
        &mut self,
        token: &VerificationToken,
    ) -> Result<(), String> {
        let args = json!([{
            "identifier": token.identifier,
            "token": token.token,
            "expires": iso(token.expires),
        }]);
        self.call("createVerificationToken", args).await.map(drop)
    }

    /// `useVerificationToken`.
    pub async fn use_verification_token(
        &mut self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, String> {
        let used = self
            .call(
                "useVerificationToken",
                json!([{"identifier": identifier, "token": token}]),
            )
            .await?;
        optional(used, |v| {
            Ok(VerificationToken {
                identifier: text(v, "identifier")?,
                token: text(v, "token")?,
                expires: date(v, "expires")?,
            })
        })
    }

    /// `deleteUser`.
    pub async fn delete_user(&mut self, id: &str) -> Result<(), String> {
        self.call("deleteUser", json!([id])).await.map(drop)
    }

    /// `unlinkAccount`.
    pub async fn unlink_account(
        &mut self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<(), String> {
        let args = json!([{"provider": provider, "providerAccountId": provider_account_id}]);
        self.call("unlinkAccount", args).await.map(drop)
    }
}

/// A date as Auth.js serializes it (`Date.prototype.toJSON`: milliseconds, `Z`).
pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn optional<T>(
    value: Value,
    parse: impl FnOnce(&Value) -> Result<T, String>,
) -> Result<Option<T>, String> {
    match value {
        Value::Null => Ok(None),
        value => parse(&value).map(Some),
    }
}

/// An id as the other side gives it: a string, or a number for `SERIAL` ids.
fn id(value: &Value, field: &str) -> Result<String, String> {
    match &value[field] {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("{field} is {other} in {value}")),
    }
}

fn text(value: &Value, field: &str) -> Result<String, String> {
    opt_text(value, field)?.ok_or_else(|| format!("{field} is missing in {value}"))
}

fn opt_text(value: &Value, field: &str) -> Result<Option<String>, String> {
    match &value[field] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(format!("{field} is {other} in {value}")),
    }
}

fn opt_date(value: &Value, field: &str) -> Result<Option<DateTime<Utc>>, String> {
    opt_text(value, field)?
        .map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| format!("{field} = {s:?}: {e}"))
        })
        .transpose()
}

fn date(value: &Value, field: &str) -> Result<DateTime<Utc>, String> {
    opt_date(value, field)?.ok_or_else(|| format!("{field} is missing in {value}"))
}

/// The extra fields of an Auth.js record: every non-null top-level field but `own` (what the
/// Auth.js adapters that keep the whole object, MongoDB's and unstorage's, give back).
fn extra_of(value: &Value, own: &[&str]) -> auth_core::Extra {
    value
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .filter(|(name, field)| !own.contains(&name.as_str()) && !field.is_null())
                .map(|(name, field)| (name.clone(), field.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// An Auth.js `AdapterUser` as a [`User`].
pub fn user_from_json(value: &Value) -> Result<User, String> {
    Ok(User {
        extra: extra_of(
            value,
            &["id", "_id", "email", "emailVerified", "name", "image"],
        ),
        id: id(value, "id")?,
        email: opt_text(value, "email")?,
        email_verified: opt_date(value, "emailVerified")?,
        name: opt_text(value, "name")?,
        image: opt_text(value, "image")?,
    })
}

/// An Auth.js `AdapterSession` as a [`Session`].
pub fn session_from_json(value: &Value) -> Result<Session, String> {
    Ok(Session {
        extra: extra_of(
            value,
            &["id", "_id", "sessionToken", "userId", "expires", "user"],
        ),
        session_token: text(value, "sessionToken")?,
        user_id: id(value, "userId")?,
        expires: date(value, "expires")?,
    })
}

/// An [`Account`] as Auth.js's `AdapterAccount` (snake_case token fields, camelCase keys).
pub fn account_to_json(account: &Account) -> Value {
    let mut out = Map::new();
    out.insert("userId".into(), json!(account.user_id));
    out.insert("type".into(), json!(account.account_type.as_str()));
    out.insert("provider".into(), json!(account.provider));
    out.insert(
        "providerAccountId".into(),
        json!(account.provider_account_id),
    );
    let tokens = [
        ("refresh_token", &account.refresh_token),
        ("access_token", &account.access_token),
        ("token_type", &account.token_type),
        ("scope", &account.scope),
        ("id_token", &account.id_token),
        ("session_state", &account.session_state),
    ];
    for (field, value) in tokens {
        if let Some(value) = value {
            out.insert(field.into(), json!(value));
        }
    }
    if let Some(expires_at) = account.expires_at {
        out.insert("expires_at".into(), json!(expires_at));
    }
    for (name, value) in &account.extra {
        out.entry(name.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_extra_fields() {
        let user = user_from_json(&json!({
            "id": "u1", "email": null, "role": "admin", "level": 3, "gone": null
        }))
        .unwrap();
        assert_eq!(
            Value::Object(user.extra),
            json!({"role": "admin", "level": 3})
        );
    }

    #[test]
    fn serial_ids_become_decimal_strings() {
        let user = user_from_json(&json!({
            "id": 42, "email": "a@example.com", "emailVerified": "2026-01-02T03:04:05.678Z",
            "name": null, "image": null
        }))
        .unwrap();
        assert_eq!(user.id, "42");
        assert_eq!(
            iso(user.email_verified.unwrap()),
            "2026-01-02T03:04:05.678Z"
        );
    }

    #[test]
    fn a_missing_session_field_is_an_error_not_a_default() {
        assert!(session_from_json(&json!({"sessionToken": "t", "userId": 1})).is_err());
    }
}
