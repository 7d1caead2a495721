// The real Auth.js adapters, driven from Rust tests over stdin/stdout.
//
//   node driver.mjs '<config JSON>'
//
// The config names the layout and where its data lives:
//   {"layout": "pg",             "url": "postgres://…", "schema": "s1"}   @auth/pg-adapter
//   {"layout": "drizzle-pg",     "url": "postgres://…", "schema": "s1"}   @auth/drizzle-adapter
//   {"layout": "drizzle-mysql",  "url": "mysql://…/db"}                   @auth/drizzle-adapter
//   {"layout": "drizzle-sqlite", "url": "file:/path/to.db"}               @auth/drizzle-adapter
//   {"layout": "mongodb",        "url": "mongodb://…", "database": "d1"}  @auth/mongodb-adapter
//   {"layout": "unstorage-redis","url": "redis://…", "baseKeyPrefix": "p1:"} @auth/unstorage-adapter
//     (optional "base": the Redis driver's `base`, in front of every key)
//
// Then one request per line, {"id": 1, "method": "createUser", "args": [{…}]}, answered by
// one line, {"id": 1, "ok": <result>} or {"id": 1, "error": "<message>"}, in order. Date
// fields (expires, emailVerified) travel as ISO 8601 strings both ways. The process ends
// when stdin closes, after closing its connections.
import readline from "node:readline"

const DATE_FIELDS = new Set(["expires", "emailVerified"])

function reviveDates(value) {
  if (Array.isArray(value)) return value.map(reviveDates)
  if (value && typeof value === "object") {
    const out = {}
    for (const [key, field] of Object.entries(value)) {
      out[key] =
        DATE_FIELDS.has(key) && typeof field === "string"
          ? new Date(field)
          : reviveDates(field)
    }
    return out
  }
  return value
}

/** The adapter of the configured layout and a function that closes its connections. */
async function open(config) {
  switch (config.layout) {
    case "pg": {
      const { default: PostgresAdapter } = await import("@auth/pg-adapter")
      const pool = await pgPool(config)
      return { adapter: PostgresAdapter(pool), close: () => pool.end() }
    }
    case "drizzle-pg": {
      const { DrizzleAdapter } = await import("@auth/drizzle-adapter")
      const { drizzle } = await import("drizzle-orm/node-postgres")
      const pool = await pgPool(config)
      return { adapter: DrizzleAdapter(drizzle(pool)), close: () => pool.end() }
    }
    case "drizzle-mysql": {
      const { DrizzleAdapter } = await import("@auth/drizzle-adapter")
      const { drizzle } = await import("drizzle-orm/mysql2")
      const mysql = await import("mysql2/promise")
      const pool = mysql.createPool({ uri: config.url, connectionLimit: 4 })
      return { adapter: DrizzleAdapter(drizzle(pool)), close: () => pool.end() }
    }
    case "drizzle-sqlite": {
      const { DrizzleAdapter } = await import("@auth/drizzle-adapter")
      const { drizzle } = await import("drizzle-orm/libsql")
      const { createClient } = await import("@libsql/client")
      const client = createClient({ url: config.url })
      return { adapter: DrizzleAdapter(drizzle(client)), close: async () => client.close() }
    }
    case "mongodb": {
      const { MongoDBAdapter } = await import("@auth/mongodb-adapter")
      const { MongoClient } = await import("mongodb")
      const client = new MongoClient(config.url, { serverSelectionTimeoutMS: 5000 })
      await client.connect()
      return {
        adapter: MongoDBAdapter(client, { databaseName: config.database }),
        close: () => client.close(),
      }
    }
    case "unstorage-redis": {
      const { UnstorageAdapter } = await import("@auth/unstorage-adapter")
      const { createStorage } = await import("unstorage")
      const { default: redisDriver } = await import("unstorage/drivers/redis")
      const storage = createStorage({
        driver: redisDriver({ url: config.url, base: config.base ?? "" }),
      })
      return {
        adapter: UnstorageAdapter(storage, { baseKeyPrefix: config.baseKeyPrefix ?? "" }),
        close: () => storage.dispose(),
      }
    }
    default:
      throw new Error(`unknown layout ${JSON.stringify(config.layout)}`)
  }
}

async function pgPool(config) {
  const { default: pg } = await import("pg")
  // Every connection of the pool works in the fixture's schema.
  const options = config.schema ? `-c search_path=${config.schema}` : undefined
  return new pg.Pool({ connectionString: config.url, options, max: 4 })
}

async function main() {
  const config = JSON.parse(process.argv[2] ?? "{}")
  const { adapter, close } = await open(config)
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of lines) {
    if (!line.trim()) continue
    let request
    try {
      request = JSON.parse(line)
    } catch (e) {
      process.stdout.write(JSON.stringify({ id: null, error: `bad request: ${e}` }) + "\n")
      continue
    }
    const { id, method, args = [] } = request
    let answer
    try {
      if (typeof adapter[method] !== "function") {
        throw new Error(`the ${config.layout} adapter has no method ${method}`)
      }
      const result = await adapter[method](...reviveDates(args))
      answer = { id, ok: result ?? null }
    } catch (e) {
      answer = { id, error: String(e?.stack ?? e) }
    }
    process.stdout.write(JSON.stringify(answer) + "\n")
  }
  await close()
}

main().catch((e) => {
  process.stderr.write(`driver: ${e?.stack ?? e}\n`)
  process.exit(1)
})
