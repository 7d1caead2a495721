//! The rows the statements return, decoded by sqlx and turned into the `auth_core` models.
//! Each row type is generic over the database's timestamp type ([`Stamp`]).

use auth_core::{
    Account, AdapterError, Authenticator, Extra, Operation, Session, User, VerificationToken,
};
use chrono::{DateTime, Utc};

use auth_core::serde_json::{self, Value};
use auth_sql::Stamp;

fn instant<T: Stamp>(
    op: Operation,
    column: &str,
    stored: T,
) -> Result<DateTime<Utc>, AdapterError> {
    stored.to_utc().ok_or_else(|| {
        AdapterError::backend(
            op,
            format!("the stored {column} is not a representable instant"),
        )
    })
}

/// The extra object of a `table` row from its stored JSON text (`NULL`: none). Whatever is
/// not a JSON object (another program wrote the column) is a backend error, never a panic.
pub(crate) fn extra_from(
    op: Operation,
    table: &str,
    stored: Option<String>,
) -> Result<Extra, AdapterError> {
    auth_sql::extra_column::read(stored.as_deref()).map_err(|why| {
        AdapterError::backend(
            op,
            format!("the stored extra fields of a {table} row: {why}"),
        )
    })
}

/// The JSON text an extra object is stored as: `None` (SQL `NULL`) when it is empty (one
/// writer for every SQL crate, see [`auth_sql::extra_column`]).
pub(crate) fn extra_text(extra: &Extra) -> Option<String> {
    auth_sql::extra_column::write(extra)
}

/// `id, email, email_verified, name, image, extra`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow<T> {
    id: String,
    email: Option<String>,
    email_verified: Option<T>,
    name: Option<String>,
    image: Option<String>,
    extra: Option<String>,
}

impl<T: Stamp> UserRow<T> {
    pub(crate) fn into_model(self, op: Operation) -> Result<User, AdapterError> {
        Ok(User {
            extra: extra_from(op, "user", self.extra)?,
            id: self.id,
            email: self.email,
            email_verified: self
                .email_verified
                .map(|t| instant(op, "email_verified", t))
                .transpose()?,
            name: self.name,
            image: self.image,
        })
    }
}

/// A session joined with its user.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionUserRow<T> {
    session_token: String,
    expires: T,
    session_extra: Option<String>,
    #[sqlx(flatten)]
    user: UserRow<T>,
}

impl<T: Stamp> SessionUserRow<T> {
    pub(crate) fn into_model(self, op: Operation) -> Result<(Session, User), AdapterError> {
        let user = self.user.into_model(op)?;
        let session = Session {
            extra: extra_from(op, "session", self.session_extra)?,
            session_token: self.session_token,
            user_id: user.id.clone(),
            expires: instant(op, "expires", self.expires)?,
        };
        Ok((session, user))
    }
}

/// `session_token, user_id, expires, extra`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow<T> {
    session_token: String,
    user_id: String,
    expires: T,
    extra: Option<String>,
}

impl<T: Stamp> SessionRow<T> {
    pub(crate) fn into_model(self, op: Operation) -> Result<Session, AdapterError> {
        Ok(Session {
            extra: extra_from(op, "session", self.extra)?,
            session_token: self.session_token,
            user_id: self.user_id,
            expires: instant(op, "expires", self.expires)?,
        })
    }
}

/// `identifier, token, expires`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TokenRow<T> {
    identifier: String,
    token: String,
    expires: T,
}

impl<T: Stamp> TokenRow<T> {
    pub(crate) fn into_model(self, op: Operation) -> Result<VerificationToken, AdapterError> {
        Ok(VerificationToken {
            identifier: self.identifier,
            token: self.token,
            expires: instant(op, "expires", self.expires)?,
        })
    }
}

/// Every column of an account.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AccountRow {
    user_id: String,
    account_type: String,
    provider: String,
    provider_account_id: String,
    refresh_token: Option<String>,
    access_token: Option<String>,
    expires_at: Option<i64>,
    token_type: Option<String>,
    scope: Option<String>,
    id_token: Option<String>,
    session_state: Option<String>,
    extra: Option<String>,
}

impl AccountRow {
    pub(crate) fn into_model(self, op: Operation) -> Result<Account, AdapterError> {
        let account_type = self.account_type.parse().map_err(|e| {
            AdapterError::backend(op, "the stored account type is unknown").with_source(e)
        })?;
        Ok(Account {
            extra: extra_from(op, "account", self.extra)?,
            user_id: self.user_id,
            account_type,
            provider: self.provider,
            provider_account_id: self.provider_account_id,
            refresh_token: self.refresh_token,
            access_token: self.access_token,
            expires_at: self.expires_at,
            token_type: self.token_type,
            scope: self.scope,
            id_token: self.id_token,
            session_state: self.session_state,
        })
    }
}

/// Every column of an authenticator.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuthenticatorRow {
    credential_id: String,
    user_id: String,
    provider_account_id: String,
    credential_public_key: String,
    counter: i64,
    credential_device_type: String,
    credential_backed_up: bool,
    transports: Option<String>,
}

impl AuthenticatorRow {
    pub(crate) fn into_model(self) -> Authenticator {
        Authenticator {
            credential_id: self.credential_id,
            user_id: self.user_id,
            provider_account_id: self.provider_account_id,
            credential_public_key: self.credential_public_key,
            counter: self.counter,
            credential_device_type: self.credential_device_type,
            credential_backed_up: self.credential_backed_up,
            transports: self.transports,
        }
    }
}

/// A row with the Auth.js layouts' app-added columns beside it: every column aliased
/// `<tag>:<kind>:<name>` (see `authjs::columns::select_list`) is decoded by its kind into
/// the extra field `name` of the record `tag` names (`xu` user, `xa` account, `xs`
/// session). A `NULL` is an absent field. Native rows have no such column.
#[derive(Debug)]
pub(crate) struct WithExtra<R> {
    row: R,
    fields: Vec<(char, String, Value)>,
}

/// One app-added column's value by its kind letter, `None` for `NULL`.
fn column_value<'r, R>(row: &'r R, index: usize, kind: &str) -> Result<Option<Value>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let decode_err = |why: String| sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: why.into(),
    };
    Ok(match kind {
        "i" => row.try_get::<Option<i64>, _>(index)?.map(Value::from),
        "f" => match row.try_get::<Option<f64>, _>(index)? {
            None => None,
            Some(f) => Some(Value::Number(serde_json::Number::from_f64(f).ok_or_else(
                || decode_err(format!("the stored float {f} is not a JSON number")),
            )?)),
        },
        "b" => row.try_get::<Option<bool>, _>(index)?.map(Value::Bool),
        "j" => match row.try_get::<Option<String>, _>(index)? {
            None => None,
            Some(text) => Some(
                serde_json::from_str::<Value>(&text)
                    .map_err(|e| decode_err(format!("the stored JSON does not parse: {e}")))?,
            ),
        },
        _ => row.try_get::<Option<String>, _>(index)?.map(Value::String),
    }
    // A JSON `null` stored in a JSON column is an absent field too.
    .filter(|value| !value.is_null()))
}

impl<'r, R, T> sqlx::FromRow<'r, R> for WithExtra<T>
where
    R: sqlx::Row,
    T: sqlx::FromRow<'r, R>,
    usize: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let mut fields = Vec::new();
        for (index, column) in sqlx::Row::columns(row).iter().enumerate() {
            let alias = sqlx::Column::name(column);
            let mut parts = alias.splitn(3, ':');
            let (Some(tag), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let table = match tag {
                "xu" => 'u',
                "xa" => 'a',
                "xs" => 's',
                _ => continue,
            };
            if let Some(value) = column_value(row, index, kind)? {
                fields.push((table, name.to_owned(), value));
            }
        }
        Ok(Self {
            row: T::from_row(row)?,
            fields,
        })
    }
}

impl<R> WithExtra<R> {
    /// Adds the fields of the record `table` names to `extra`.
    fn add_to(fields: &[(char, String, Value)], table: char, extra: &mut Extra) {
        for (t, name, value) in fields {
            if *t == table {
                extra.insert(name.clone(), value.clone());
            }
        }
    }
}

impl<T: Stamp> WithExtra<UserRow<T>> {
    pub(crate) fn into_model(self, op: Operation) -> Result<User, AdapterError> {
        let mut user = self.row.into_model(op)?;
        Self::add_to(&self.fields, 'u', &mut user.extra);
        Ok(user)
    }
}

impl<T: Stamp> WithExtra<SessionRow<T>> {
    pub(crate) fn into_model(self, op: Operation) -> Result<Session, AdapterError> {
        let mut session = self.row.into_model(op)?;
        Self::add_to(&self.fields, 's', &mut session.extra);
        Ok(session)
    }
}

impl<T: Stamp> WithExtra<SessionUserRow<T>> {
    pub(crate) fn into_model(self, op: Operation) -> Result<(Session, User), AdapterError> {
        let (mut session, mut user) = self.row.into_model(op)?;
        Self::add_to(&self.fields, 's', &mut session.extra);
        Self::add_to(&self.fields, 'u', &mut user.extra);
        Ok((session, user))
    }
}

impl WithExtra<AccountRow> {
    pub(crate) fn into_model(self, op: Operation) -> Result<Account, AdapterError> {
        let mut account = self.row.into_model(op)?;
        Self::add_to(&self.fields, 'a', &mut account.extra);
        Ok(account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_text_round_trips_and_empty_is_null() {
        assert_eq!(extra_text(&Extra::new()), None);
        let object = serde_json::json!({"n": i64::MIN, "f": 5e-324, "s": "é", "z": [null]});
        let Value::Object(extra) = object else {
            unreachable!("an object literal")
        };
        let text = extra_text(&extra);
        assert_eq!(
            extra_from(Operation::GetUser, "user", text).ok(),
            Some(extra)
        );
        assert_eq!(
            extra_from(Operation::GetUser, "user", None).ok(),
            Some(Extra::new())
        );
    }

    #[test]
    fn a_stored_non_object_is_a_backend_error() {
        for stored in ["[1]", "\"text\"", "null", "{not json"] {
            let err = extra_from(Operation::GetSessionAndUser, "session", Some(stored.into()))
                .expect_err(stored);
            assert_eq!(err.kind(), auth_core::ErrorKind::Backend, "{stored}");
        }
    }
}
