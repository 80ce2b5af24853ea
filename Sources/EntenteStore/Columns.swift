import EntenteCore
import GRDB
import GRDBSQLite

/// The current row of a statement being stepped, read straight from SQLite: blobs are copied once into byte
/// arrays (ids not even that), never through `Data`, whose per-byte iteration dominated loading objects.
struct Columns {
    let statement: SQLiteStatement

    /// Runs `sql` (a cached statement) with `arguments` and calls `body` with each row.
    static func forEach(
        _ db: Database,
        cached: Bool = true,
        sql: String,
        arguments: StatementArguments,
        _ body: (Columns) throws -> Void
    ) throws {
        try step(db, cached: cached, sql: sql, arguments: arguments) { columns in
            try body(columns)
            return true
        }
    }

    /// Runs `sql` with `arguments` and calls `body` with each row until it returns false (the rest is not
    /// read). Use `cached: false` when stopping early, so that the unfinished statement is not reused.
    static func step(
        _ db: Database,
        cached: Bool = true,
        sql: String,
        arguments: StatementArguments,
        _ body: (Columns) throws -> Bool
    ) throws {
        let statement = cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        let columns = Columns(statement: statement.sqliteStatement)
        while try cursor.next() != nil {
            guard try body(columns) else { return }
        }
    }

    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(statement, index) == SQLITE_NULL }

    func int(_ index: Int32) -> Int64 { sqlite3_column_int64(statement, index) }

    func bool(_ index: Int32) -> Bool { int(index) != 0 }

    /// The column's bytes (a blob, or text as UTF-8); empty for NULL.
    func withBytes<T>(_ index: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        // Ask for the pointer first: sqlite3_column_bytes then reports the length of that form.
        let pointer = sqlite3_column_blob(statement, index)
        let count = Int(sqlite3_column_bytes(statement, index))
        return try body(UnsafeRawBufferPointer(start: pointer, count: pointer == nil ? 0 : count))
    }

    func bytes(_ index: Int32) -> [UInt8] { withBytes(index) { [UInt8]($0) } }

    func text(_ index: Int32) -> String { withBytes(index) { String(decoding: $0, as: UTF8.self) } }

    /// A 16-byte id, or nil if the column holds anything else.
    func id<ID: TypedID>(_ index: Int32, _: ID.Type = ID.self) -> ID? { withBytes(index) { ID(bytes: $0) } }
}
