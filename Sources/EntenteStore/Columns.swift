import EntenteCore
import GRDB
import GRDBSQLite

/// The current row of a statement being stepped, read straight from SQLite: blobs are copied once into byte
/// arrays (ids not even that), never through `Data`, whose per-byte iteration dominated loading objects.
struct Columns {
    let statement: SQLiteStatement

    /// Runs `sql` with the parameters `bind` sets and calls `body` with each row until it returns false (the rest
    /// is not read). Parameters are bound and rows stepped straight through SQLite: no `StatementArguments`, no
    /// GRDB cursor, which cost more than the query itself when one record is read.
    static func step(
        _ db: Database,
        cached: Bool = true,
        sql: String,
        bind: (inout Bindings) -> Void,
        _ body: (Columns) throws -> Bool
    ) throws {
        var bindings = try Bindings(db, sql: sql, cached: cached)
        bind(&bindings)
        try bindings.rows(body)
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

/// One execution of a statement with its parameters bound straight through SQLite (no `Data`, no
/// `StatementArguments`): the hot writes (fields, memberships, envelope parts) bind thousands of rows per import.
struct Bindings {
    /// Keeps a statement that is not cached alive while it is used.
    private let owner: Statement
    private let statement: SQLiteStatement
    private let db: Database
    private var index: Int32 = 1

    /// Prepares the statement for `sql` (cached: compiled once per connection), cleared of earlier bindings.
    init(_ db: Database, sql: String, cached: Bool = true) throws {
        self.db = db
        owner = cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        statement = owner.sqliteStatement
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    /// SQLite copies what it is given (`SQLITE_TRANSIENT`), so the buffers need not outlive the call.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    mutating func bind(_ bytes: [UInt8]) {
        // An empty blob is still a blob, not NULL: SQLite wants a non-null pointer for it.
        bytes.withUnsafeBytes { raw in
            let start = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)
            _ = sqlite3_bind_blob(statement, index, start, Int32(raw.count), Self.transient)
        }
        index += 1
    }

    mutating func bind(_ id: ID128) {
        withUnsafeBytes(of: (id.high.bigEndian, id.low.bigEndian)) { raw in
            _ = sqlite3_bind_blob(statement, index, raw.baseAddress, 16, Self.transient)
        }
        index += 1
    }

    mutating func bind(text: String) {
        var text = text
        text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { chars in
                if let start = chars.baseAddress {
                    _ = sqlite3_bind_text(statement, index, start, Int32(chars.count), Self.transient)
                } else {
                    _ = sqlite3_bind_text(statement, index, "", 0, Self.transient)
                }
            }
        }
        index += 1
    }

    mutating func bind(_ number: Int64) {
        _ = sqlite3_bind_int64(statement, index, number)
        index += 1
    }

    mutating func bind(_ flag: Bool) { bind(flag ? 1 : 0) }

    mutating func bindNull() {
        _ = sqlite3_bind_null(statement, index)
        index += 1
    }

    /// Runs the statement to completion and resets it; a failure throws SQLite's error.
    func run() throws {
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard code == SQLITE_DONE else { throw failure(code) }
    }

    /// Steps through the rows, calling `body` with each until it returns false, then resets the statement.
    func rows(_ body: (Columns) throws -> Bool) throws {
        defer { sqlite3_reset(statement) }
        let columns = Columns(statement: statement)
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw failure(code) }
            guard try body(columns) else { return }
        }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code),
            message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
            sql: String(cString: sqlite3_sql(statement))
        )
    }
}
