//! [`Layout`]: which keys and values the adapter reads and writes.

/// The key layout of a [`RedisAdapter`](crate::RedisAdapter), chosen on the builder with
/// [`layout`](crate::RedisAdapterBuilder::layout).
///
/// - [`Layout::Native`] (the default): this crate's own layout (see the [crate docs](crate)),
///   every guarantee of the contract.
/// - [`Layout::AuthJsUnstorage`]: the keys and JSON values of `@auth/unstorage-adapter` on
///   unstorage's Redis driver, so a Rust service shares the Redis of a running Auth.js app.
///   Some guarantees are weaker there (the README's table lists them).
///
/// ```
/// use adapter_redis::{Layout, UnstorageLayout};
/// assert_eq!(Layout::default(), Layout::Native);
/// let authjs = Layout::AuthJsUnstorage(UnstorageLayout::new().base_key_prefix("myapp:"));
/// assert_ne!(authjs, Layout::Native);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// This crate's own layout: length-prefixed keys under the key prefix, index sets,
    /// expiry sorted sets.
    #[default]
    Native,
    /// `@auth/unstorage-adapter`'s layout (`user:{id}`, `user:email:{email}`,
    /// `user:session:{token}`, …) as unstorage's Redis driver stores it.
    AuthJsUnstorage(UnstorageLayout),
}

/// The options of the Auth.js unstorage layout: the two prefixes that decide where
/// `@auth/unstorage-adapter` on unstorage's Redis driver puts its keys. Set them as the
/// Node app sets them.
///
/// A record's Redis key is the driver's `base` (its trailing `:` dropped, then joined
/// with `:`), then the adapter's `baseKeyPrefix` followed by `user:`, `user:email:`, … and
/// the record's parts, normalized as unstorage normalizes keys (`/` and `\` become `:`,
/// repeated `:` collapse, anything from a `?` on is dropped, no `:` at either end).
///
/// ```
/// use adapter_redis::UnstorageLayout;
/// // UnstorageAdapter(createStorage({ driver: redisDriver({ url, base: "app" }) }),
/// //                  { baseKeyPrefix: "auth:" })
/// let layout = UnstorageLayout::new().driver_base("app").base_key_prefix("auth:");
/// assert_eq!(layout.redis_key("auth:user:u1"), "app:auth:user:u1");
/// assert_eq!(UnstorageLayout::new().redis_key("user:session:a/b?c"), "user:session:a:b");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnstorageLayout {
    base_key_prefix: String,
    driver_base: String,
}

impl UnstorageLayout {
    /// The defaults of `@auth/unstorage-adapter` and of the Redis driver: no
    /// `baseKeyPrefix`, no `base`.
    ///
    /// ```
    /// let layout = adapter_redis::UnstorageLayout::new();
    /// assert_eq!(layout.get_base_key_prefix(), "");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The adapter's `baseKeyPrefix` option (default empty), written in front of every
    /// key prefix of the adapter (`user:`, `user:email:`, …).
    ///
    /// ```
    /// let layout = adapter_redis::UnstorageLayout::new().base_key_prefix("p1:");
    /// assert_eq!(layout.get_base_key_prefix(), "p1:");
    /// ```
    pub fn base_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.base_key_prefix = prefix.into();
        self
    }

    /// The Redis driver's `base` option (default empty): every key the driver writes
    /// starts with it and a `:`.
    ///
    /// ```
    /// let layout = adapter_redis::UnstorageLayout::new().driver_base("app:");
    /// assert_eq!(layout.get_driver_base(), "app:");
    /// ```
    pub fn driver_base(mut self, base: impl Into<String>) -> Self {
        self.driver_base = base.into();
        self
    }

    /// The `baseKeyPrefix` set.
    ///
    /// ```
    /// assert_eq!(adapter_redis::UnstorageLayout::new().get_base_key_prefix(), "");
    /// ```
    pub fn get_base_key_prefix(&self) -> &str {
        &self.base_key_prefix
    }

    /// The driver `base` set.
    ///
    /// ```
    /// assert_eq!(adapter_redis::UnstorageLayout::new().get_driver_base(), "");
    /// ```
    pub fn get_driver_base(&self) -> &str {
        &self.driver_base
    }

    /// The Redis key under which unstorage's Redis driver stores the storage key
    /// `storage_key` (the adapter's key, `baseKeyPrefix` included): the driver base, then
    /// the key normalized as unstorage does.
    ///
    /// ```
    /// let layout = adapter_redis::UnstorageLayout::new().driver_base("b");
    /// assert_eq!(layout.redis_key("user:email:ada@example.com"), "b:user:email:ada@example.com");
    /// ```
    pub fn redis_key(&self, storage_key: &str) -> String {
        crate::unstorage::keys::redis_key(&self.driver_base, storage_key)
    }

    /// The start every Redis key of this layout shares: the driver base and the
    /// `baseKeyPrefix`, as unstorage normalizes keys.
    ///
    /// ```
    /// use adapter_redis::UnstorageLayout;
    /// let layout = UnstorageLayout::new().driver_base("{unstorage}").base_key_prefix("t1:");
    /// assert_eq!(layout.key_start(), "{unstorage}:t1:");
    /// assert_eq!(UnstorageLayout::new().base_key_prefix("t1:").key_start(), "t1:");
    /// ```
    pub fn key_start(&self) -> String {
        // A storage key of one letter after the prefix, the letter taken off again:
        // normalization drops a trailing `:` of the prefix alone.
        let mut key = self.redis_key(&format!("{}x", self.base_key_prefix));
        key.pop();
        key
    }

    /// The hash tag every key of this layout shares, if its [start](Self::key_start)
    /// holds one: a `{`, then a `}` with something between. A Redis Cluster puts keys with
    /// the same tag in one slot, so the layout's multi-key scripts run there; without one
    /// they would cross slots.
    ///
    /// ```
    /// use adapter_redis::UnstorageLayout;
    /// assert_eq!(UnstorageLayout::new().driver_base("{unstorage}").fixed_hash_tag(), Some("unstorage".to_owned()));
    /// assert_eq!(UnstorageLayout::new().base_key_prefix("{app}:auth:").fixed_hash_tag(), Some("app".to_owned()));
    /// assert_eq!(UnstorageLayout::new().fixed_hash_tag(), None);
    /// assert_eq!(UnstorageLayout::new().driver_base("{}x").fixed_hash_tag(), None);
    /// ```
    pub fn fixed_hash_tag(&self) -> Option<String> {
        let start = self.key_start();
        let open = start.find('{')?;
        let close = open + 1 + start[open + 1..].find('}')?;
        (close > open + 1).then(|| start[open + 1..close].to_owned())
    }
}
