//! The raw floor of `bench`: the session read an adapter performs, done with the bare driver
//! on the same server and the same tables, so the report can say how close the adapter
//! comes to what the driver can do.
//!
//! - SQL backends (adapter-sqlx, and adapter-diesel / adapter-seaorm, which use its tables):
//!   adapter-sqlx's joined `SELECT` with sqlx, prepared once per connection (sqlx's
//!   statement cache), on as many dedicated connections as the fixture's adapter pool holds.
//!   Caller `w` uses connection `w % connections` behind a local lock: no pool, no ping.
//!   For diesel and SeaORM backends the floor is therefore sqlx's, not their own driver's.
//! - Redis: adapter-redis's `get_session_and_user.lua` by `EVALSHA`, and a plain `GET` of
//!   the session key, on one multiplexed connection (the adapter's `ConnectionManager`
//!   holds one too).
//! - Redis Cluster / Valkey Cluster (a location whose URL lists several nodes): the cluster
//!   mode's two steps on a bare redis-rs cluster connection (`raw-cluster`): `GET` and
//!   `PEXPIRETIME` of the session key in one pipeline, the owner's id read from the JSON
//!   record, then `cluster/owner_read.lua` by `EVALSHA` on the owner's user key and
//!   sessions index; and a plain `GET` of the session key (`raw-get`).

use adapter_conformance::{BoxError, StorageLocation};

/// One raw way to read a session, ready to be called by many callers at once.
#[derive(Debug)]
pub struct RawProbe {
    /// What it measures, as the report names it: `raw-sql`, `raw-script`, `raw-cluster` or
    /// `raw-get`.
    pub name: &'static str,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Postgres(sql::Conns<adapter_sqlx::sqlx::PgConnection>),
    MySql(sql::Conns<adapter_sqlx::sqlx::MySqlConnection>),
    Sqlite(sql::Conns<adapter_sqlx::sqlx::SqliteConnection>),
    Script(kv::ScriptProbe),
    Get(kv::GetProbe<adapter_redis::redis::aio::MultiplexedConnection>),
    Cluster(kv::ClusterProbe),
    ClusterGet(kv::GetProbe<adapter_redis::redis::cluster_async::ClusterConnection>),
}

impl RawProbe {
    /// Opens the raw probes of `target`: one for SQL (`raw-sql`), two for Redis
    /// (`raw-script`, then `raw-get`) and for a cluster (`raw-cluster`, then `raw-get`).
    /// The first is the floor the adapter is compared with.
    ///
    /// The fixture's [`StorageLocation`] says where: a `redis:` URL and its key prefix are
    /// adapter-redis's layout (several URLs, comma-separated: its cluster layout); a
    /// `postgres:`, `mysql:` or `sqlite:` URL and its table prefix are adapter-sqlx's
    /// tables.
    pub async fn open(target: &StorageLocation) -> Result<Vec<RawProbe>, BoxError> {
        let scheme = target.url.split(':').next().unwrap_or_default();
        match scheme {
            "redis" | "rediss" if target.url.contains(',') => {
                kv::open_cluster(&target.url, &target.namespace).await
            }
            "redis" | "rediss" => kv::open(&target.url, &target.namespace).await,
            "postgres" | "postgresql" | "mysql" | "mariadb" | "sqlite" => Ok(vec![
                sql::open(&target.url, &target.namespace, target.connections).await?,
            ]),
            other => Err(format!("no raw floor for {other:?} URLs").into()),
        }
    }

    /// Reads the session `token` as caller `worker`; `true` when it was found.
    pub async fn read(&self, worker: usize, token: &str) -> Result<bool, BoxError> {
        match &self.inner {
            Inner::Postgres(conns) => conns.read_pg(worker, token).await,
            Inner::MySql(conns) => conns.read_mysql(worker, token).await,
            Inner::Sqlite(conns) => conns.read_sqlite(worker, token).await,
            Inner::Script(probe) => probe.read(token).await,
            Inner::Get(probe) => probe.read(token).await,
            Inner::Cluster(probe) => probe.read(token).await,
            Inner::ClusterGet(probe) => probe.read(token).await,
        }
    }
}

/// adapter-sqlx's session read (`dialect.rs`), the same text with `{p}` the table prefix and
/// `$n` placeholders on PostgreSQL.
///
/// ```
/// use conformance_cli::floor::session_read_sql;
/// let sql = session_read_sql("auth_", true);
/// assert!(sql.contains("FROM auth_sessions s JOIN auth_users u"));
/// assert!(sql.ends_with("WHERE s.session_token = $1 AND s.expires > $2"));
/// ```
pub fn session_read_sql(table_prefix: &str, numbered: bool) -> String {
    let sql = format!(
        "SELECT u.id, u.email, u.email_verified, u.name, u.image, \
         s.session_token, s.expires \
         FROM {table_prefix}sessions s JOIN {table_prefix}users u ON u.id = s.user_id \
         WHERE s.session_token = ? AND s.expires > ?"
    );
    if numbered {
        sql.replacen('?', "$1", 1).replacen('?', "$2", 1)
    } else {
        sql
    }
}

mod sql {
    use std::str::FromStr;

    use adapter_sqlx::sqlx::{
        self, mysql::MySqlConnectOptions, postgres::PgConnectOptions, sqlite::SqliteConnectOptions,
        ConnectOptions, SqlSafeStr, SqlStr,
    };
    use auth_core::chrono::{DateTime, NaiveDateTime, Utc};
    use tokio::sync::Mutex;

    use super::{session_read_sql, Inner, RawProbe};
    use adapter_conformance::BoxError;

    /// Dedicated connections and the statement they run.
    #[derive(Debug)]
    pub(super) struct Conns<C> {
        conns: Vec<Mutex<C>>,
        sql: SqlStr,
    }

    /// Opens `n` connections of one driver.
    async fn connect_all<O: ConnectOptions>(
        options: O,
        n: usize,
        sql: String,
    ) -> Result<Conns<O::Connection>, BoxError>
    where
        O::Connection: Sized,
    {
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n.max(1) {
            conns.push(Mutex::new(options.connect().await?));
        }
        Ok(Conns {
            conns,
            sql: sqlx::AssertSqlSafe(sql).into_sql_str(),
        })
    }

    pub(super) async fn open(
        url: &str,
        table_prefix: &str,
        connections: usize,
    ) -> Result<RawProbe, BoxError> {
        let scheme = url.split_once(':').map_or("", |(s, _)| s);
        let inner = match scheme {
            "postgres" | "postgresql" => Inner::Postgres(
                connect_all(
                    PgConnectOptions::from_str(url)?,
                    connections,
                    session_read_sql(table_prefix, true),
                )
                .await?,
            ),
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                // The session options adapter-sqlx sets too.
                let options = MySqlConnectOptions::from_str(&url)?
                    .charset("utf8mb4")
                    .timezone(Some("+00:00".to_owned()));
                Inner::MySql(
                    connect_all(options, connections, session_read_sql(table_prefix, false))
                        .await?,
                )
            }
            "sqlite" => {
                let options = SqliteConnectOptions::from_str(url)?
                    .foreign_keys(true)
                    .busy_timeout(std::time::Duration::from_secs(20));
                Inner::Sqlite(
                    connect_all(options, connections, session_read_sql(table_prefix, false))
                        .await?,
                )
            }
            other => return Err(format!("no raw floor for URL scheme {other:?}").into()),
        };
        Ok(RawProbe {
            name: "raw-sql",
            inner,
        })
    }

    /// The row the adapter decodes too, timestamps in each database's stored form.
    type Row<T> = (
        String,
        Option<String>,
        Option<T>,
        Option<String>,
        Option<String>,
        String,
        T,
    );

    macro_rules! read_with {
        ($name:ident, $conn:ty, $stamp:ty, $now:expr) => {
            impl Conns<$conn> {
                pub(super) async fn $name(
                    &self,
                    worker: usize,
                    token: &str,
                ) -> Result<bool, BoxError> {
                    let slot = &self.conns[worker % self.conns.len()];
                    let mut conn = slot.lock().await;
                    let row: Option<Row<$stamp>> = sqlx::query_as(self.sql.clone())
                        .bind(token)
                        .bind($now)
                        .fetch_optional(&mut *conn)
                        .await?;
                    Ok(row.is_some())
                }
            }
        };
    }

    read_with!(read_pg, sqlx::PgConnection, DateTime<Utc>, Utc::now());
    read_with!(
        read_mysql,
        sqlx::MySqlConnection,
        NaiveDateTime,
        Utc::now().naive_utc()
    );
    read_with!(
        read_sqlite,
        sqlx::SqliteConnection,
        i64,
        Utc::now().timestamp_millis()
    );
}

mod kv {
    use adapter_redis::keys::KeyLayout;
    use adapter_redis::redis::{
        self, aio::ConnectionLike, aio::MultiplexedConnection, cluster::ClusterClient,
        cluster_async::ClusterConnection, AsyncCommands, Script, Value,
    };

    use super::{Inner, RawProbe};
    use adapter_conformance::BoxError;

    /// The adapter's session-read script, by `EVALSHA`.
    #[derive(Debug)]
    pub(super) struct ScriptProbe {
        conn: MultiplexedConnection,
        script: Script,
        keys: KeyLayout,
    }

    /// A plain `GET` of the session key, on one server or a cluster.
    pub(super) struct GetProbe<C> {
        conn: C,
        keys: KeyLayout,
    }

    // redis-rs's cluster connection has no `Debug`.
    impl<C> std::fmt::Debug for GetProbe<C> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("GetProbe").finish_non_exhaustive()
        }
    }

    pub(super) async fn open(url: &str, key_prefix: &str) -> Result<Vec<RawProbe>, BoxError> {
        let client = redis::Client::open(url)?;
        let conn = client.get_multiplexed_async_connection().await?;
        let keys = KeyLayout::new(key_prefix)?;
        let script = Script::new(adapter_redis::bench_scripts::GET_SESSION_AND_USER);
        Ok(vec![
            RawProbe {
                name: "raw-script",
                inner: Inner::Script(ScriptProbe {
                    conn: conn.clone(),
                    script,
                    keys: keys.clone(),
                }),
            },
            RawProbe {
                name: "raw-get",
                inner: Inner::Get(GetProbe { conn, keys }),
            },
        ])
    }

    impl ScriptProbe {
        pub(super) async fn read(&self, token: &str) -> Result<bool, BoxError> {
            let mut conn = self.conn.clone();
            let reply: Value = self
                .script
                .key(self.keys.session(token))
                .arg(self.keys.prefix())
                .invoke_async(&mut conn)
                .await?;
            Ok(!matches!(reply, Value::Nil))
        }
    }

    impl<C: ConnectionLike + Clone + Send + Sync> GetProbe<C> {
        pub(super) async fn read(&self, token: &str) -> Result<bool, BoxError> {
            let mut conn = self.conn.clone();
            let reply: Option<String> = conn.get(self.keys.session(token)).await?;
            Ok(reply.is_some())
        }
    }

    /// The cluster mode's session read: the session and its expiry, then the owner's
    /// confirmation and user record.
    pub(super) struct ClusterProbe {
        conn: ClusterConnection,
        owner_read: Script,
        keys: KeyLayout,
    }

    impl std::fmt::Debug for ClusterProbe {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("ClusterProbe").finish_non_exhaustive()
        }
    }

    /// The probes of the cluster whose node URLs `urls` lists, comma-separated.
    pub(super) async fn open_cluster(
        urls: &str,
        key_prefix: &str,
    ) -> Result<Vec<RawProbe>, BoxError> {
        let nodes = adapter_redis::conformance::cluster_nodes(urls);
        let conn = ClusterClient::new(nodes)?.get_async_connection().await?;
        let keys = KeyLayout::clustered(key_prefix)?;
        Ok(vec![
            RawProbe {
                name: "raw-cluster",
                inner: Inner::Cluster(ClusterProbe {
                    conn: conn.clone(),
                    owner_read: Script::new(adapter_redis::bench_scripts::CLUSTER_OWNER_READ),
                    keys: keys.clone(),
                }),
            },
            RawProbe {
                name: "raw-get",
                inner: Inner::ClusterGet(GetProbe { conn, keys }),
            },
        ])
    }

    /// The owner named by a stored session record.
    #[derive(serde::Deserialize)]
    struct Owner {
        user_id: String,
    }

    impl ClusterProbe {
        pub(super) async fn read(&self, token: &str) -> Result<bool, BoxError> {
            let mut conn = self.conn.clone();
            let key = self.keys.session(token);
            let (raw, _expire_at): (Option<Vec<u8>>, i64) = redis::pipe()
                .cmd("GET")
                .arg(&key)
                .cmd("PEXPIRETIME")
                .arg(&key)
                .query_async(&mut conn)
                .await?;
            let Some(raw) = raw else { return Ok(false) };
            let owner: Owner = serde_json::from_slice(&raw)?;
            let user: Value = self
                .owner_read
                .key(self.keys.user(&owner.user_id))
                .key(self.keys.user_sessions(&owner.user_id))
                .arg(token)
                .invoke_async(&mut conn)
                .await?;
            Ok(!matches!(user, Value::Nil))
        }
    }
}
