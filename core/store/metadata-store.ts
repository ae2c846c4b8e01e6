import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { MetadataStore as MetadataStoreContract } from '../tokens';
import { fsyncPath } from './fsync-path';

// The daemon's metadata, in SQLite under `graph`. Records are JSON documents keyed by id; the
// services own their shapes. Durability is a group commit: each write is a WAL transaction that
// SQLite writes without syncing (synchronous=NORMAL, still crash-consistent), and `flush()`
// fsyncs the WAL off the event loop. The CRI server flushes before it answers any call, so an
// RPC that answers has its changes on disk, as with synchronous=FULL; but the daemon's one thread
// no longer waits in fsync once per write (2 to 3 ms each under load), and calls that finish
// together share one fsync. A daemon killed between a write and the flush loses nothing either:
// the WAL is in the page cache; only a power cut can take a write whose call had not answered.

const SCHEMA_VERSION = 2;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE sandboxes (id TEXT PRIMARY KEY, record TEXT NOT NULL);
    CREATE TABLE containers (
      id TEXT PRIMARY KEY,
      sandbox_id TEXT NOT NULL,
      record TEXT NOT NULL
    );
    CREATE INDEX containers_by_sandbox ON containers (sandbox_id);
  `,
  2: `
    CREATE TABLE images (id TEXT PRIMARY KEY, record TEXT NOT NULL);
    CREATE TABLE image_refs (
      ref TEXT PRIMARY KEY,
      image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE
    );
    CREATE INDEX image_refs_by_image ON image_refs (image_id);
  `,
};

export class MetadataStore implements MetadataStoreContract {
  private readonly db: Database.Database;
  private closed = false;
  /** Prepared once each: preparing a statement again on every write cost about 3 ms per pod. */
  private readonly statements = new Map<string, Database.Statement>();
  /** Writes made, and how many of them the last completed WAL fsync covered. */
  private writes = 0;
  private synced = 0;
  private syncing: Promise<void> | undefined;

  private constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    // The database and WAL files, and any migration, are on disk before the first call is served.
    for (const made of [`${file}-wal`, path.dirname(file)]) {
      const fd = fs.openSync(made, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }

  /** Opens (creating if needed) the store at `<graph>/metadata.db`. */
  static open(graphDir: string): MetadataStore {
    fs.mkdirSync(graphDir, { recursive: true, mode: 0o700 });
    return new MetadataStore(path.join(graphDir, 'metadata.db'));
  }

  getMeta(key: string): string | undefined {
    const row = this.statement('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.statement('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  putSandbox(id: string, record: object): void {
    this.statement('INSERT INTO sandboxes (id, record) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record').run(id, JSON.stringify(record));
  }

  deleteSandbox(id: string): void {
    this.statement('DELETE FROM sandboxes WHERE id = ?').run(id);
  }

  putContainer(id: string, sandboxId: string, record: object): void {
    this.statement('INSERT INTO containers (id, sandbox_id, record) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record, sandbox_id = excluded.sandbox_id')
      .run(id, sandboxId, JSON.stringify(record));
  }

  deleteContainer(id: string): void {
    this.statement('DELETE FROM containers WHERE id = ?').run(id);
  }

  getSandbox<T>(id: string): T | undefined {
    const row = this.statement('SELECT record FROM sandboxes WHERE id = ?').get(id) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as T) : undefined;
  }

  listSandboxes<T>(): T[] {
    return (this.statement('SELECT record FROM sandboxes ORDER BY id').all() as { record: string }[]).map((r) => JSON.parse(r.record) as T);
  }

  getContainer<T>(id: string): T | undefined {
    const row = this.statement('SELECT record FROM containers WHERE id = ?').get(id) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as T) : undefined;
  }

  listContainers<T>(sandboxId?: string): T[] {
    const rows = (
      sandboxId === undefined
        ? this.statement('SELECT record FROM containers ORDER BY id').all()
        : this.statement('SELECT record FROM containers WHERE sandbox_id = ? ORDER BY id').all(sandboxId)
    ) as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as T);
  }

  sandboxIds(): string[] {
    return (this.statement('SELECT id FROM sandboxes ORDER BY id').all() as { id: string }[]).map((r) => r.id);
  }

  containerIds(): string[] {
    return (this.statement('SELECT id FROM containers ORDER BY id').all() as { id: string }[]).map((r) => r.id);
  }

  /** The statement for `sql`, prepared on first use and kept for the store's life. */
  statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.countingWrites(this.db.prepare(sql));
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Resolves once every write made so far is on disk: one fsync of the WAL in the thread pool,
   * shared by every caller waiting at the time.
   */
  async flush(): Promise<void> {
    while (this.synced < this.writes && !this.closed) {
      if (!this.syncing) {
        const upTo = this.writes;
        this.syncing = fsyncPath(`${this.file}-wal`)
          .then(() => {
            this.synced = Math.max(this.synced, upTo);
          })
          .finally(() => {
            this.syncing = undefined;
          });
      }
      await this.syncing;
    }
  }

  /** A statement that writes bumps the write count, so flush() knows there is something to sync. */
  private countingWrites(statement: Database.Statement): Database.Statement {
    if (statement.reader) return statement;
    const run = statement.run.bind(statement);
    statement.run = (...parameters: unknown[]) => {
      const result = run(...parameters);
      this.writes += 1;
      return result;
    };
    return statement;
  }

  /** The SQLite connection, for the record classes of other services (images, …). */
  get connection(): Database.Database {
    return this.db;
  }

  /** Containers whose record names `imageId` as their image, and pause containers running it. */
  containersUsingImage(imageId: string): string[] {
    const containers = this.statement("SELECT id FROM containers WHERE json_extract(record, '$.imageId') = ? ORDER BY id").all(imageId) as { id: string }[];
    const pauses = this.statement("SELECT json_extract(record, '$.pause.id') AS id FROM sandboxes WHERE json_extract(record, '$.pause.imageId') = ? ORDER BY id")
      .all(imageId) as { id: string }[];
    return [...containers, ...pauses].map((r) => r.id);
  }

  /** Runs `work` as one transaction: all of its writes land, or none. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // SQLite checkpoints the WAL into the database, synced, as the last connection closes.
    this.db.close();
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      const sql = MIGRATIONS[version];
      if (sql === undefined) throw new Error(`metadata store: no migration to schema version ${version}`);
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.pragma(`user_version = ${version}`);
      })();
    }
  }
}
