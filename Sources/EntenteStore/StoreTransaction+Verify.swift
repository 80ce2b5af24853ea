package import EntenteCore
import EntenteWire
import Foundation
import GRDB

/// One row of the envelope log as stored (the raw columns, for `entente verify` to check against the bytes).
package struct StoredEnvelope: Sendable {
    package let rowid: Int64
    package let hash: [UInt8]
    package let origin: [UInt8]
    package let replica: [UInt8]
    package let bytes: [UInt8]
}

/// One sequence number recorded for an envelope: (origin replica, recipient, sequence) -> envelope row.
package struct StoredAddress: Sendable {
    package let replica: [UInt8]
    package let recipient: [UInt8]
    package let sequence: Int64
    package let envelope: Int64
}

/// One envelope part as stored: the envelope row, the object, and whether it waits.
package struct StoredPart: Sendable {
    package let envelope: Int64
    package let object: [UInt8]
    package let isWaiting: Bool
}

/// Raw, whole-table reads for the integrity check: they decode nothing, so that a corrupt row is reported by the
/// caller instead of stopping the check.
extension StoreTransaction {
    /// Every logged envelope, in log order, one at a time (the log can be larger than memory allows to copy).
    package func forEachEnvelope(_ body: (StoredEnvelope) throws -> Void) throws {
        let cursor = try Row.fetchCursor(
            db,
            sql: "SELECT rowid, hash, origin, replica, bytes FROM envelope ORDER BY rowid"
        )
        while let row = try cursor.next() {
            try body(
                StoredEnvelope(
                    rowid: row[0],
                    hash: Self.blob(row[1]),
                    origin: Self.blob(row[2]),
                    replica: Self.blob(row[3]),
                    bytes: Self.blob(row[4])
                )
            )
        }
    }

    /// Every envelope's rowid (to find parts and addresses that point to no envelope).
    package func envelopeRowids() throws -> Set<Int64> {
        Set(try Int64.fetchAll(db, sql: "SELECT rowid FROM envelope"))
    }

    /// Every recorded sequence number.
    package func allAddresses() throws -> [StoredAddress] {
        try Row.fetchAll(db, sql: "SELECT replica, recipient, sequence, envelope FROM envelope_address").map { row in
            StoredAddress(
                replica: Self.blob(row[0]),
                recipient: Self.blob(row[1]),
                sequence: row[2],
                envelope: row[3]
            )
        }
    }

    /// Every envelope part.
    package func allParts() throws -> [StoredPart] {
        // Applied parts whose handle has no object row are orphans (`orphanStateRows`), not listed here.
        try Row.fetchAll(
            db,
            sql: """
                SELECT a.envelope, o.id, 0 FROM applied_part a JOIN object o ON o.handle = a.object
                UNION ALL SELECT envelope, object, 1 FROM waiting_part ORDER BY 1
                """
        ).map { row in
            StoredPart(envelope: row[0], object: Self.blob(row[1]), isWaiting: (row[2] as Int64) != 0)
        }
    }

    /// The last outgoing sequence number taken for each recipient (raw recipient bytes).
    package func outgoingCounters() throws -> [(recipient: [UInt8], last: Int64)] {
        try Row.fetchAll(db, sql: "SELECT recipient, last_sequence FROM outgoing").map { (Self.blob($0[0]), $0[1]) }
    }

    /// Every object id in the object table (raw bytes: a corrupt id is reported, not skipped).
    package func allObjectKeys() throws -> [[UInt8]] {
        try Row.fetchAll(db, sql: "SELECT id FROM object ORDER BY id").map { Self.blob($0[0]) }
    }

    /// Record, CRM key, membership, set and applied-part rows whose object handle has no row in the object table.
    package func orphanStateRows() throws -> [(table: String, handle: Int64)] {
        var found: [(String, Int64)] = []
        for table in ["record", "crm_key", "membership", "set_field", "set_element", "applied_part"] {
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT DISTINCT object FROM \(table) WHERE object NOT IN (SELECT handle FROM object)"
            )
            found += rows.map { (table, $0[0]) }
        }
        return found
    }

    /// The CRM id lookup's rows for `ids` (raw namespace and value bytes, by object), 500 objects a query.
    package func crmKeys(of ids: [ObjectID]) throws -> [ObjectID: [[UInt8]: [UInt8]]] {
        var keys: [ObjectID: [[UInt8]: [UInt8]]] = [:]
        try inChunks(ids) { chunk in
            let list = Self.padded(chunk)
            try Columns.step(
                db,
                sql: """
                    SELECT o.id, c.namespace, c.value FROM crm_key c JOIN object o ON o.handle = c.object
                    WHERE o.id \(Self.match(list.count))
                    """
            ) { row in
                for id in list { row.bind(id.raw) }
            } _: { row in
                if let id = row.id(0, ObjectID.self) { keys[id, default: [:]][row.bytes(1)] = row.bytes(2) }
                return true
            }
        }
        return keys
    }

    /// The timestamp saved as this replica's clock, if any.
    package func savedClock() throws -> Timestamp? {
        guard let bytes = try meta("clock") else { return nil }
        return try StorageCoding.decodeTimestamp(bytes)
    }

    /// SQLite's `PRAGMA foreign_key_check`: each row that references a missing row, as text.
    package func foreignKeyViolations() throws -> [String] {
        try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").map { row in
            let table: String = row[0]
            let rowid: Int64? = row[1]
            let parent: String = row[2]
            return "a row of \(table)\(rowid.map { " (rowid \($0))" } ?? "") references a missing row of \(parent)"
        }
    }

    /// A column read as bytes whatever its storage class (a corrupt value of another type is still checked).
    static func blob(_ value: DatabaseValue) -> [UInt8] {
        switch value.storage {
        case .blob(let data): [UInt8](data)
        case .string(let text): Array(text.utf8)
        case .int64(let number): Array(String(number).utf8)
        case .double(let number): Array(String(number).utf8)
        case .null: []
        }
    }
}
