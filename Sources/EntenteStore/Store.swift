import EntenteCore
import EntenteCrypto
import EntenteWire
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// The SQLite database of one replica (through GRDB): object state, envelope log, counters, partners.
///
/// Every change happens inside `write`, one SQLite transaction: either all of it is committed (and
/// survives a crash, WAL mode, synchronous=FULL) or none of it is.
///
/// A pool of connections (GRDB `DatabasePool`): one writer, and readers that see the last committed state without
/// waiting for a write in progress, so reading a record is never blocked by an import. Reader connections are
/// opened read-only; a single connection would have to switch `PRAGMA query_only` on and off around every read,
/// and each switch expires every compiled statement, the import's as well (measured: re-compiling statements took
/// 15% of the benchmark and a single read took 260 µs instead of 100).
package final class Store: Sendable {
    private let queue: DatabasePool
    /// A connection of its own for checkpoints, which run after a write transaction, not inside its commit.
    private let checkpointer: DatabaseQueue
    private let log: WriteAheadLog
    /// The database file's path.
    package let path: String

    /// Write-ahead-log frames after which a write is followed by a checkpoint (SQLite's own default).
    static let checkpointFrames = 1000

    private init(queue: DatabasePool, checkpointer: DatabaseQueue, log: WriteAheadLog, path: String) {
        self.queue = queue
        self.checkpointer = checkpointer
        self.log = log
        self.path = path
    }

    /// Opens (creating if needed) and migrates the database at `path`.
    package static func open(path: String) throws(StoreError) -> Store {
        let log = WriteAheadLog()
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // The writer keeps 16 MiB of pages (SQLite's default is 2 MiB): an import reads the records it merges
            // from all over the file (`Specs/storage.md`, "Connections"). Readers keep the default.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA cache_size = -16384") }
            // The hook replaces SQLite's automatic checkpoint, which ran inside the commit that crossed 1,000
            // frames and so held the write lock for it (`Specs/storage.md`, "Checkpoints").
            log.observe(db.sqliteConnection)
        }
        do {
            let queue = try DatabasePool(path: path, configuration: configuration)
            let applied = try queue.read { db in try Schema.migrator.appliedIdentifiers(db) }
            try Schema.migrator.migrate(queue)
            // Upgrading to records frees the field table's pages, about half of the file: give them back once.
            if applied.contains("v6") && !applied.contains("v7") { try queue.vacuum() }
            var own = Configuration()
            own.busyMode = .timeout(10)
            let checkpointer = try DatabaseQueue(path: path, configuration: own)
            return Store(queue: queue, checkpointer: checkpointer, log: log, path: path)
        } catch {
            throw StoreError(.cannotOpen, "cannot open the database at \(path): \(Store.describe(error))")
        }
    }

    /// Runs `body` in one write transaction; any error rolls everything back. If the commit left the write-ahead
    /// log at `checkpointFrames` or more, a passive checkpoint follows, once the write lock is released: other
    /// writes and reads go on meanwhile (this call returns after it).
    package func write<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        let start = ContinuousClock.now
        let result: T
        do {
            defer {
                let elapsed = ContinuousClock.now - start
                statistics.withLock { $0.record(elapsed) }
            }
            result = try queue.write { db in try body(StoreTransaction(db: db)) }
        } catch let error as DatabaseError {
            throw StoreError(.sqlite, "database error: \(Store.describe(error))")
        }
        if log.frames >= Self.checkpointFrames { checkpoint() }
        return result
    }

    /// Copies the write-ahead log into the database file as far as readers allow (`PRAGMA wal_checkpoint(PASSIVE)`).
    /// A failure is not an error: the log keeps the data, and the next write tries again.
    package func checkpoint() {
        _ = try? checkpointer.writeWithoutTransaction { db in try db.checkpoint(.passive) }
    }

    /// How many write transactions ran and the longest one (from asking for the write lock to the end of the
    /// commit): what an import holds the writer for, so local edits wait at most that long.
    package struct WriteStatistics: Sendable {
        package var transactions = 0
        package var longest = Duration.zero

        mutating func record(_ elapsed: Duration) {
            transactions += 1
            longest = max(longest, elapsed)
        }
    }

    private let statistics = Mutex(WriteStatistics())

    /// The write transactions since the store was opened or the statistics were last taken, which resets them.
    package func takeWriteStatistics() -> WriteStatistics {
        statistics.withLock { statistics in
            defer { statistics = WriteStatistics() }
            return statistics
        }
    }

    /// Runs `body` with a consistent read-only view.
    package func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        do {
            return try queue.read { db in try body(StoreTransaction(db: db)) }
        } catch let error as DatabaseError {
            throw StoreError(.sqlite, "database error: \(Store.describe(error))")
        }
    }

    /// Runs SQLite's own integrity check; returns its findings (empty if the file is sound).
    package func integrityCheck() throws -> [String] {
        try read { tx in try String.fetchAll(tx.db, sql: "PRAGMA integrity_check").filter { $0 != "ok" } }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return "\(error)"
    }
}

/// Counts the frames in the write-ahead log, as SQLite's WAL hook reports them after each commit. The store's
/// connection setup holds it for as long as the connections exist.
final class WriteAheadLog: Sendable {
    private let count = Atomic<Int>(0)

    var frames: Int { count.load(ordering: .relaxed) }

    /// Registers the hook on a connection (which must not outlive this object).
    func observe(_ connection: OpaquePointer?) {
        sqlite3_wal_hook(
            connection,
            { context, _, _, frames in
                guard let context else { return SQLITE_OK }
                let log = Unmanaged<WriteAheadLog>.fromOpaque(context).takeUnretainedValue()
                log.count.store(Int(frames), ordering: .relaxed)
                return SQLITE_OK
            },
            Unmanaged.passUnretained(self).toOpaque()
        )
    }
}

enum Schema {
    /// Schema versions are stable from the first release; until then `v1` is edited in place.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
                    CREATE TABLE company (
                        id BLOB PRIMARY KEY, name TEXT NOT NULL, card TEXT NOT NULL,
                        signing_key BLOB NOT NULL, encryption_key BLOB NOT NULL, address TEXT,
                        is_self INTEGER NOT NULL DEFAULT 0);
                    CREATE TABLE object (
                        id BLOB PRIMARY KEY, type TEXT NOT NULL, owner BLOB NOT NULL,
                        created BLOB NOT NULL, nonce BLOB NOT NULL,
                        archived INTEGER NOT NULL DEFAULT 0, archived_stamp BLOB);
                    CREATE INDEX object_type ON object(type, archived);
                    CREATE TABLE membership (
                        object BLOB NOT NULL, company BLOB NOT NULL, stamp BLOB NOT NULL, is_member INTEGER NOT NULL,
                        PRIMARY KEY (object, company, stamp)) WITHOUT ROWID;
                    CREATE TABLE field (
                        object BLOB NOT NULL, namespace BLOB NOT NULL, name TEXT NOT NULL,
                        value BLOB NOT NULL, stamp BLOB NOT NULL, visibility BLOB NOT NULL, writer BLOB NOT NULL,
                        extra BLOB NOT NULL DEFAULT x'', conflicted INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (object, namespace, name)) WITHOUT ROWID;
                    CREATE INDEX field_conflicted ON field(conflicted) WHERE conflicted = 1;
                    CREATE TABLE set_field (
                        object BLOB NOT NULL, namespace BLOB NOT NULL, name TEXT NOT NULL,
                        visibility BLOB NOT NULL, stamp BLOB NOT NULL,
                        PRIMARY KEY (object, namespace, name)) WITHOUT ROWID;
                    CREATE TABLE set_element (
                        object BLOB NOT NULL, namespace BLOB NOT NULL, name TEXT NOT NULL, element BLOB NOT NULL,
                        state BLOB NOT NULL,
                        PRIMARY KEY (object, namespace, name, element)) WITHOUT ROWID;
                    CREATE TABLE envelope (
                        rowid INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,
                        origin BLOB NOT NULL, replica BLOB NOT NULL, bytes BLOB NOT NULL);
                    CREATE TABLE envelope_part (
                        envelope INTEGER NOT NULL REFERENCES envelope(rowid), object BLOB NOT NULL,
                        status INTEGER NOT NULL, note TEXT,
                        PRIMARY KEY (envelope, object)) WITHOUT ROWID;
                    CREATE INDEX envelope_part_object ON envelope_part(object);
                    CREATE INDEX envelope_part_waiting ON envelope_part(status) WHERE status = 1;
                    CREATE TABLE envelope_address (
                        replica BLOB NOT NULL, recipient BLOB NOT NULL, sequence INTEGER NOT NULL,
                        envelope INTEGER NOT NULL REFERENCES envelope(rowid),
                        PRIMARY KEY (replica, recipient, sequence)) WITHOUT ROWID;
                    CREATE INDEX envelope_address_recipient ON envelope_address(recipient, envelope);
                    CREATE TABLE outgoing (recipient BLOB PRIMARY KEY, last_sequence INTEGER NOT NULL);
                    """
            )
        }
        // v2: this company's sharing policies (local only), and a lookup of objects by their CRM record id.
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    CREATE TABLE policy (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
                    CREATE INDEX field_crm_id ON field(value, namespace) WHERE name = 'crm_id';
                    """
            )
        }
        // v3: replica revocations (this company's and its partners', each signed by its company key).
        migrator.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    CREATE TABLE revocation (
                        company BLOB NOT NULL, replica BLOB NOT NULL, statement BLOB NOT NULL,
                        PRIMARY KEY (company, replica)) WITHOUT ROWID;
                    """
            )
        }
        // v4: what each origin company's envelopes take here (kept by triggers, so every way an envelope is
        // logged or removed counts), and a per-partner storage quota (NULL: the node's default).
        migrator.registerMigration("v4") { db in
            try db.execute(
                sql: """
                    CREATE TABLE origin_usage (
                        company BLOB PRIMARY KEY, envelopes INTEGER NOT NULL, bytes INTEGER NOT NULL) WITHOUT ROWID;
                    INSERT INTO origin_usage (company, envelopes, bytes)
                        SELECT origin, count(*), sum(length(bytes)) FROM envelope GROUP BY origin;
                    CREATE TRIGGER envelope_usage_insert AFTER INSERT ON envelope BEGIN
                        INSERT OR IGNORE INTO origin_usage (company, envelopes, bytes) VALUES (new.origin, 0, 0);
                        UPDATE origin_usage SET envelopes = envelopes + 1, bytes = bytes + length(new.bytes)
                            WHERE company = new.origin;
                    END;
                    CREATE TRIGGER envelope_usage_delete AFTER DELETE ON envelope BEGIN
                        UPDATE origin_usage SET envelopes = envelopes - 1, bytes = bytes - length(old.bytes)
                            WHERE company = old.origin;
                    END;
                    ALTER TABLE company ADD COLUMN quota_bytes INTEGER;
                    """
            )
        }
        // v5: objects get a local handle (an integer key assigned in arrival order), and their state rows are keyed
        // by it instead of the 16-byte random id. Random ids scattered every new record's rows across the whole
        // field table: each transaction dirtied (and read back) pages all over it, and the cost grew faster than
        // the pipeline (`Specs/storage.md`). The id stays unique in the object table; handles never leave it.
        migrator.registerMigration("v5") { db in
            try db.execute(
                sql: """
                    CREATE TABLE object5 (
                        handle INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, type TEXT NOT NULL, owner BLOB NOT NULL,
                        created BLOB NOT NULL, nonce BLOB NOT NULL,
                        archived INTEGER NOT NULL DEFAULT 0, archived_stamp BLOB);
                    INSERT INTO object5 (id, type, owner, created, nonce, archived, archived_stamp)
                        SELECT id, type, owner, created, nonce, archived, archived_stamp FROM object ORDER BY rowid;
                    CREATE TABLE membership5 (
                        object INTEGER NOT NULL, company BLOB NOT NULL, stamp BLOB NOT NULL, is_member INTEGER NOT NULL,
                        PRIMARY KEY (object, company, stamp)) WITHOUT ROWID;
                    INSERT INTO membership5 SELECT o.handle, m.company, m.stamp, m.is_member
                        FROM membership m JOIN object5 o ON o.id = m.object;
                    CREATE TABLE field5 (
                        object INTEGER NOT NULL, namespace BLOB NOT NULL, name TEXT NOT NULL,
                        value BLOB NOT NULL, stamp BLOB NOT NULL, visibility BLOB NOT NULL, writer BLOB NOT NULL,
                        extra BLOB NOT NULL DEFAULT x'', conflicted INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (object, namespace, name)) WITHOUT ROWID;
                    INSERT INTO field5 SELECT o.handle, f.namespace, f.name, f.value, f.stamp, f.visibility, f.writer,
                        f.extra, f.conflicted FROM field f JOIN object5 o ON o.id = f.object;
                    CREATE TABLE set_field5 (
                        object INTEGER NOT NULL, namespace BLOB NOT NULL, name TEXT NOT NULL,
                        visibility BLOB NOT NULL, stamp BLOB NOT NULL,
                        PRIMARY KEY (object, namespace, name)) WITHOUT ROWID;
                    INSERT INTO set_field5 SELECT o.handle, s.namespace, s.name, s.visibility, s.stamp
                        FROM set_field s JOIN object5 o ON o.id = s.object;
                    CREATE TABLE set_element5 (
                        object INTEGER NOT NULL, namespace BLOB NOT NULL, name TEXT NOT NULL, element BLOB NOT NULL,
                        state BLOB NOT NULL,
                        PRIMARY KEY (object, namespace, name, element)) WITHOUT ROWID;
                    INSERT INTO set_element5 SELECT o.handle, e.namespace, e.name, e.element, e.state
                        FROM set_element e JOIN object5 o ON o.id = e.object;
                    DROP TABLE object; DROP TABLE membership; DROP TABLE field; DROP TABLE set_field;
                    DROP TABLE set_element;
                    ALTER TABLE object5 RENAME TO object;
                    ALTER TABLE membership5 RENAME TO membership;
                    ALTER TABLE field5 RENAME TO field;
                    ALTER TABLE set_field5 RENAME TO set_field;
                    ALTER TABLE set_element5 RENAME TO set_element;
                    CREATE INDEX object_type ON object(type, archived);
                    CREATE INDEX field_conflicted ON field(conflicted) WHERE conflicted = 1;
                    CREATE INDEX field_crm_id ON field(value, namespace) WHERE name = 'crm_id';
                    """
            )
        }
        // v6: an envelope's applied parts are keyed by the object's handle, its waiting parts (usually none) by the
        // object id. The single part table's index on the random object id took a random page for every part
        // logged: as many dirty pages as the field rows themselves (`Specs/storage.md`).
        migrator.registerMigration("v6") { db in
            try db.execute(
                sql: """
                    CREATE TABLE applied_part (
                        object INTEGER NOT NULL, envelope INTEGER NOT NULL REFERENCES envelope(rowid),
                        PRIMARY KEY (object, envelope)) WITHOUT ROWID;
                    INSERT INTO applied_part SELECT o.handle, p.envelope
                        FROM envelope_part p JOIN object o ON o.id = p.object WHERE p.status = 0;
                    CREATE TABLE waiting_part (
                        envelope INTEGER NOT NULL REFERENCES envelope(rowid), object BLOB NOT NULL,
                        note TEXT NOT NULL, PRIMARY KEY (envelope, object)) WITHOUT ROWID;
                    INSERT INTO waiting_part SELECT envelope, object, coalesce(note, '')
                        FROM envelope_part WHERE status <> 0;
                    CREATE INDEX waiting_part_object ON waiting_part(object);
                    DROP TABLE envelope_part;
                    """
            )
        }
        // v7: an object's scalar fields are one row, a record (`RecordCoding`), instead of a row each. A merge
        // that changes three fields of a record reads and writes one row instead of three, and building or
        // receiving a record writes one instead of twenty (`Specs/storage.md`, "Records"). The CRM id lookup
        // the field table's partial index served is its own small table, kept in step by `saveRecord`.
        migrator.registerMigration("v7") { db in
            try db.execute(
                sql: """
                    CREATE TABLE record (
                        object INTEGER PRIMARY KEY, fields BLOB NOT NULL, conflicted INTEGER NOT NULL DEFAULT 0);
                    CREATE INDEX record_conflicted ON record(conflicted) WHERE conflicted = 1;
                    CREATE TABLE crm_key (
                        object INTEGER NOT NULL, namespace BLOB NOT NULL, value BLOB NOT NULL,
                        PRIMARY KEY (object, namespace)) WITHOUT ROWID;
                    CREATE INDEX crm_key_value ON crm_key(value, namespace);
                    INSERT INTO crm_key SELECT object, namespace, value FROM field WHERE name = 'crm_id';
                    """
            )
            try Self.recordsFromFieldRows(db)
            try db.execute(sql: "DROP TABLE field")
        }
        return migrator
    }

    /// Migration v7's copy: each object's field rows (v6) encoded as one record.
    static func recordsFromFieldRows(_ db: Database) throws {
        let insert = try db.makeStatement(sql: "INSERT INTO record (object, fields, conflicted) VALUES (?, ?, ?)")
        var handle: Int64?
        var changes: [(key: FieldKey, state: FieldState)] = []
        func flush() throws {
            guard let handle, !changes.isEmpty else { return }
            let record = try RecordCoding.encode(changes, onto: nil)
            try insert.execute(arguments: [handle, Data(record.bytes), record.conflicted])
            changes.removeAll(keepingCapacity: true)
        }
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT object, namespace, name, value, stamp, visibility, writer, extra FROM field ORDER BY object"
        )
        while let row = try rows.next() {
            let object: Int64 = row[0]
            if object != handle {
                try flush()
                handle = object
            }
            func bytes(_ index: Int) -> [UInt8] { [UInt8]((row[index] as Data?) ?? Data()) }
            let name: String = row[2]
            do {
                guard let writer = CompanyID(bytes: bytes(6)) else {
                    throw WireError(.malformed, "the writer is not 16 bytes")
                }
                let winner = Register(
                    value: try StorageCoding.decodeValue(bytes(3)),
                    timestamp: try StorageCoding.decodeTimestamp(bytes(4)),
                    visibility: try StorageCoding.decodeVisibility(bytes(5)),
                    writer: writer
                )
                changes.append(
                    (
                        FieldKey(try StorageCoding.decodeNamespace(bytes(1)), name),
                        try StorageCoding.decodeField(winner: winner, extra: bytes(7))
                    )
                )
            } catch {
                throw StoreError(
                    .corrupt,
                    "the field \(name) of object handle \(object) cannot be read (\(error)); the store cannot be upgraded"
                )
            }
        }
        try flush()
    }
}
