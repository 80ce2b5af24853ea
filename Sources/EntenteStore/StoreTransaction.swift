package import EntenteCore
import EntenteCrypto
package import EntenteWire
import Foundation
import GRDB

/// A pinned company as stored: its card, and whether it is this node's own company.
package struct StoredCompany: Hashable, Sendable {
    package let card: PartnerCard
    package let isSelf: Bool
    package var id: CompanyID { card.company }
    package var name: String { card.name }
}

/// A logged envelope's operations on one object: applied, or waiting (with the reason).
package struct LoggedPart: Sendable {
    package let envelope: Int64
    package let object: ObjectID
    package let bytes: [UInt8]
    package let waiting: String?
}

/// What a recipient lacks, counted when a sync session starts: ``StoreTransaction/selectEnvelopes(for:excluding:)``.
package struct EnvelopeSelection: Hashable, Sendable {
    /// Envelopes.
    package var count: Int
    /// Their bytes.
    package var bytes: Int
    /// The last log position counted: envelopes logged later are not part of the selection.
    package var through: Int64

    package init(count: Int, bytes: Int, through: Int64) {
        self.count = count
        self.bytes = bytes
        self.through = through
    }
}

/// A page of envelopes to send, and the log position to continue after.
package struct EnvelopePage: Hashable, Sendable {
    package var envelopes: [[UInt8]]
    package var last: Int64

    package init(envelopes: [[UInt8]], last: Int64) {
        self.envelopes = envelopes
        self.last = last
    }
}

/// Typed access to the database inside one transaction. Only `Store` creates it.
package struct StoreTransaction {
    let db: Database
    /// The handles of the objects this transaction loaded or saved: saving a loaded object needs no lookup.
    private let handles = Handles()
    /// The records this transaction loaded or saved, as stored: a merge saves what it loaded, and writing over the
    /// record needs its other fields.
    private let records = Records()

    init(db: Database) { self.db = db }

    /// Object id to handle, for one transaction (a rolled-back transaction takes its handles with it). A save
    /// follows its load within a batch of a few hundred objects, so the most recent ones suffice: the map is
    /// emptied when it reaches `limit`, and a one-transaction import of a million objects does not keep them all.
    private final class Handles {
        static let limit = 20_000
        private(set) var byID: [ObjectID: Int64] = [:]

        func remember(_ id: ObjectID, _ handle: Int64?) {
            if byID.count >= Self.limit { byID.removeAll(keepingCapacity: true) }
            byID[id] = handle
        }
    }

    /// Records by handle, for one transaction, kept like `Handles`: every write of a record goes through
    /// `saveRecord`, which updates its entry, and every delete drops it.
    private final class Records {
        static let limit = 4_000
        private(set) var byHandle: [Int64: [UInt8]] = [:]

        func remember(_ handle: Int64, _ record: [UInt8]?) {
            if byHandle.count >= Self.limit { byHandle.removeAll(keepingCapacity: true) }
            byHandle[handle] = record
        }
    }

    /// `items` 500 at a time: the store reads many objects (or values) with one query per chunk, not per item.
    func inChunks<T>(_ items: [T], _ body: (ArraySlice<T>) throws -> Void) rethrows {
        var start = 0
        while start < items.count {
            let chunk = items[start..<min(start + 500, items.count)]
            try body(chunk)
            start += chunk.count
        }
    }

    /// The SQL match for `count` bound values: `= ?` for one, `IN (?, …)` for more. Every query that uses it is
    /// prepared once and kept: `padded` makes a list's length a power of two (or a full chunk of 500), so a few
    /// lengths recur, where a statement was compiled for one use for each odd length (a delta's envelopes name a
    /// few hundred objects each).
    static func match(_ count: Int) -> String {
        count == 1 ? "= ?" : "IN (" + Array(repeating: "?", count: count).joined(separator: ",") + ")"
    }

    /// `items` with the last one repeated up to the next power of two, at most 500 (a value listed twice in
    /// `IN (…)` matches once).
    static func padded<T>(_ items: some Collection<T>) -> [T] {
        var list = Array(items)
        guard list.count > 1, let last = list.last else { return list }
        var length = 2
        while length < list.count { length *= 2 }
        list += repeatElement(last, count: max(min(length, 500), list.count) - list.count)
        return list
    }

    // MARK: cached statements (compiled once per connection, reused across a batch)

    func rows(sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }

    func row(sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    func value<Value: DatabaseValueConvertible & StatementColumnConvertible>(
        _: Value.Type,
        sql: String,
        arguments: StatementArguments = StatementArguments()
    ) throws -> Value? {
        try Value.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    /// Runs one statement, compiled once per connection: the import and write paths run the same few
    /// statements thousands of times per transaction.
    func execute(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }

    // MARK: meta

    package func meta(_ key: String) throws -> [UInt8]? {
        try value(Data.self, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]).map { [UInt8]($0) }
    }

    package func setMeta(_ key: String, _ value: [UInt8]) throws {
        try execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, Data(value)])
    }

    // MARK: companies

    package func saveCompany(_ card: PartnerCard, isSelf: Bool) throws {
        try execute(
            sql: """
                INSERT INTO company (id, name, card, signing_key, encryption_key, address, is_self)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, card = excluded.card,
                    encryption_key = excluded.encryption_key, address = excluded.address
                """,
            arguments: [
                Data(card.company.bytes), card.name, card.json(), Data(card.signingKey.bytes),
                Data(card.encryptionKey.bytes), card.address, isSelf,
            ]
        )
    }

    package func companies() throws -> [StoredCompany] {
        try rows(sql: "SELECT card, is_self FROM company ORDER BY is_self DESC, name").map { row in
            let json: String = row["card"]
            return StoredCompany(card: try PartnerCard(storedJSON: Array(json.utf8)), isSelf: row["is_self"])
        }
    }

    /// Every pinned company's display name (cards were verified when pinned; this reads no card).
    package func companyNames() throws -> [CompanyID: String] {
        // Read on every object view: stepped in place rather than fetched as rows.
        var names: [CompanyID: String] = [:]
        try Columns.step(db, sql: "SELECT id, name FROM company") { _ in } _: { row in
            if let id = row.id(0, CompanyID.self) { names[id] = row.text(1) }
            return true
        }
        return names
    }

    package func company(_ id: CompanyID) throws -> StoredCompany? {
        guard
            let row = try row(
                sql: "SELECT card, is_self FROM company WHERE id = ?",
                arguments: [Data(id.bytes)]
            )
        else { return nil }
        let json: String = row["card"]
        return StoredCompany(card: try PartnerCard(storedJSON: Array(json.utf8)), isSelf: row["is_self"])
    }

    // MARK: objects

    package func loadObject(_ id: ObjectID) throws -> ObjectState? {
        try loadObjects([id])[id]
    }

    /// The creates of the known objects among `ids` (unknown ones left out), read from the object rows alone,
    /// 500 at a time: what the refusal rules need (`Merge.refusal(of:creation:)`).
    package func creations(of ids: [ObjectID]) throws -> [ObjectID: Creation] {
        var result: [ObjectID: Creation] = [:]
        try inChunks(ids) { chunk in
            let list = Self.padded(chunk)
            try Columns.step(db, sql: "SELECT id, owner, type, nonce FROM object WHERE id \(Self.match(list.count))") {
                row in
                for id in list { row.bind(id.raw) }
            } _: { row in
                guard let id = row.id(0, ObjectID.self) else { throw corrupt("object id") }
                guard let owner = row.id(1, CompanyID.self) else { throw corrupt("object owner") }
                result[id] = Creation(owner: owner, type: row.text(2), nonce: row.bytes(3))
                return true
            }
        }
        return result
    }

    /// Loads many objects with five queries per chunk of 500 (not five per object): exports, reports and
    /// import matching read whole types this way. Unknown ids are left out.
    ///
    /// With `fields`, each state holds only those scalar and set fields (and everything else: type, owner,
    /// membership, archive flag): enough to merge operations on them and to save the result, since
    /// `saveObject` writes only what differs from the state it is given as previous (loaded the same way).
    package func loadObjects(_ ids: [ObjectID], fields: Set<FieldKey>? = nil) throws -> [ObjectID: ObjectState] {
        var result: [ObjectID: ObjectState] = [:]
        result.reserveCapacity(ids.count)
        try inChunks(ids) { chunk in try loadChunk(Array(chunk), fields: fields, into: &result) }
        return result
    }

    private func loadChunk(
        _ ids: [ObjectID],
        fields keys: Set<FieldKey>?,
        into result: inout [ObjectID: ObjectState]
    ) throws {
        // The object rows first: they give each object's local handle, which keys its state rows.
        var objectIDs: [Int64: ObjectID] = [:]
        var objects: [(handle: Int64, id: ObjectID, type: String, owner: CompanyID, created: Timestamp, nonce: [UInt8],
            archived: ArchiveFlag?)] = []
        let list = Self.padded(ids)
        try Columns.step(
            db,
            sql: """
                SELECT handle, id, type, owner, created, nonce, archived, archived_stamp FROM object
                WHERE id \(Self.match(list.count))
                """
        ) { row in
            for id in list { row.bind(id.raw) }
        } _: { row in
            guard let id = row.id(1, ObjectID.self) else { throw corrupt("object id") }
            guard let owner = row.id(3, CompanyID.self) else { throw corrupt("object owner") }
            var archived: ArchiveFlag?
            if !row.isNull(7) {
                archived = ArchiveFlag(value: row.bool(6), timestamp: try StorageCoding.decodeTimestamp(row.bytes(7)))
            }
            let created = try StorageCoding.decodeTimestamp(row.bytes(4))
            objects.append((row.int(0), id, row.text(2), owner, created, row.bytes(5), archived))
            objectIDs[row.int(0)] = id
            self.handles.remember(id, row.int(0))
            return true
        }
        guard !objects.isEmpty else { return }
        let found = Self.padded(objects.map { $0.handle })
        let byHandle = Self.match(found.count)
        // Set rows are narrowed by name in SQL, then by namespace here.
        let names = Self.padded(keys.map { Set($0.map(\.name)).sorted() } ?? [])
        let nameFilter = keys == nil ? "" : " AND name " + Self.match(names.count)
        func each(_ sql: String, byName: Bool = false, _ body: (Columns) throws -> Void) throws {
            try Columns.step(db, sql: byName ? sql + nameFilter : sql) { row in
                for handle in found { row.bind(handle) }
                if byName { for name in names { row.bind(text: name) } }
            } _: { columns in
                try body(columns)
                return true
            }
        }
        /// The row's field key, or nil if it is not one of `keys`.
        func setKey(_ row: Columns) throws -> FieldKey? {
            let key = FieldKey(try namespace(row, 1), row.text(2))
            return keys?.contains(key) == false ? nil : key
        }
        func objectID(_ row: Columns) throws -> ObjectID {
            guard let id = objectIDs[row.int(0)] else { throw corrupt("object handle") }
            return id
        }
        func namespace(_ row: Columns, _ index: Int32) throws -> Namespace {
            try row.withBytes(index) { bytes in
                if bytes.isEmpty { return .joint }
                guard let company = CompanyID(bytes: bytes) else { throw corrupt("field namespace") }
                return .company(company)
            }
        }
        var membership: [ObjectID: [CompanyID: [MembershipEvent]]] = [:]
        try each("SELECT object, company, stamp, is_member FROM membership WHERE object \(byHandle)") { event in
            guard let company = event.id(1, CompanyID.self) else { throw corrupt("membership company") }
            let stamp = try StorageCoding.decodeTimestamp(event.bytes(2))
            membership[try objectID(event), default: [:]][company, default: []].append(
                MembershipEvent(timestamp: stamp, isMember: event.bool(3))
            )
        }
        var fields: [ObjectID: [FieldKey: FieldState]] = [:]
        // Only a write transaction saves what it loaded: reads (exports, reports, a bundle's check) keep nothing.
        let keepsRecords = !db.configuration.readonly
        try each("SELECT object, fields FROM record WHERE object \(byHandle)") { record in
            let bytes = record.bytes(1)
            fields[try objectID(record)] = try RecordCoding.decode(bytes, wanted: keys)
            if keepsRecords { records.remember(record.int(0), bytes) }
        }
        var sets: [ObjectID: [FieldKey: SetField]] = [:]
        try each(
            "SELECT object, namespace, name, visibility, stamp FROM set_field WHERE object \(byHandle)",
            byName: true
        ) { set in
            guard let key = try setKey(set) else { return }
            sets[try objectID(set), default: [:]][key] = SetField(
                visibility: try StorageCoding.decodeVisibility(set.bytes(3)),
                visibilityStamp: try StorageCoding.decodeTimestamp(set.bytes(4))
            )
        }
        try each(
            "SELECT object, namespace, name, element, state FROM set_element WHERE object \(byHandle)",
            byName: true
        ) { element in
            guard let key = try setKey(element) else { return }
            sets[try objectID(element)]?[key]?.elements[element.text(3)] = try StorageCoding.decodeElement(
                element.bytes(4)
            )
        }
        for object in objects {
            let id = object.id
            result[id] = ObjectState(
                id: id,
                type: object.type,
                owner: object.owner,
                created: object.created,
                createNonce: object.nonce,
                membership: membership[id] ?? [:],
                archived: object.archived,
                fields: fields[id] ?? [:],
                sets: sets[id] ?? [:]
            )
        }
    }

    /// Writes an object's state: its row, and every membership event, field and set element that differs from
    /// `previous` (pass nil to write everything).
    package func saveObject(_ state: ObjectState, previous: ObjectState?) throws {
        guard let owner = state.owner, let created = state.created, let type = state.type else { return }
        var handle: Int64?
        if previous?.exists != true || previous?.archived != state.archived {
            // Only the archive flag of an existing object changes; the row keeps its handle (an upsert, not a
            // replace).
            try Columns.step(
                db,
                sql: """
                    INSERT INTO object (id, type, owner, created, nonce, archived, archived_stamp)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET archived = excluded.archived, archived_stamp = excluded.archived_stamp
                    RETURNING handle
                    """
            ) { row in
                row.bind(state.id.raw)
                row.bind(text: type)
                row.bind(owner.raw)
                row.bind(StorageCoding.encode(created))
                row.bind(state.createNonce)
                row.bind(state.isArchived)
                if let archived = state.archived { row.bind(StorageCoding.encode(archived.timestamp)) } else { row.bindNull() }
            } _: { row in
                handle = row.int(0)
                return false
            }
            handles.remember(state.id, handle)
        } else {
            handle = try self.handle(of: state.id)
        }
        guard let handle else { throw corrupt("object row (\(state.id.short) has none)") }
        for (company, events) in state.membership where previous?.membership[company] != events {
            for event in events where previous?.membership[company]?.contains(event) != true {
                var row = try Bindings(
                    db,
                    sql: "INSERT OR REPLACE INTO membership (object, company, stamp, is_member) VALUES (?, ?, ?, ?)"
                )
                row.bind(handle)
                row.bind(company.raw)
                row.bind(StorageCoding.encode(event.timestamp))
                row.bind(event.isMember)
                try row.run()
            }
        }
        var changed: [(key: FieldKey, state: FieldState)] = []
        for (key, field) in state.fields where previous?.fields[key] != field { changed.append((key, field)) }
        if !changed.isEmpty { try saveRecord(handle, changed) }
        for (field, set) in state.sets where previous?.sets[field] != set {
            let namespace = Data(StorageCoding.encode(field.namespace))
            try execute(
                sql:
                    "INSERT OR REPLACE INTO set_field (object, namespace, name, visibility, stamp) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    handle, namespace, field.name, Data(StorageCoding.encode(set.visibility)),
                    Data(StorageCoding.encode(set.visibilityStamp)),
                ]
            )
            for (element, elementState) in set.elements where previous?.sets[field]?.elements[element] != elementState {
                try execute(
                    sql:
                        "INSERT OR REPLACE INTO set_element (object, namespace, name, element, state) VALUES (?, ?, ?, ?, ?)",
                    arguments: [
                        handle, namespace, field.name, Data(element.utf8), Data(StorageCoding.encode(elementState)),
                    ]
                )
            }
        }
    }

    /// Writes `changes` over the object's record (the fields not among them stay as they are), and keeps the
    /// CRM id lookup (`crm_key`) in step with its `crm_id` fields.
    private func saveRecord(_ handle: Int64, _ changes: [(key: FieldKey, state: FieldState)]) throws {
        var old = records.byHandle[handle]
        if old == nil {
            try Columns.step(db, sql: "SELECT fields FROM record WHERE object = ?") { row in
                row.bind(handle)
            } _: { row in
                old = row.bytes(0)
                return false
            }
        }
        let record = try RecordCoding.encode(changes, onto: old)
        records.remember(handle, record.bytes)
        var row = try Bindings(db, sql: "INSERT OR REPLACE INTO record (object, fields, conflicted) VALUES (?, ?, ?)")
        row.bind(handle)
        row.bind(record.bytes)
        row.bind(record.conflicted)
        try row.run()
        for change in changes {
            guard let crm = Self.crmKey(change.key, change.state) else { continue }
            var key = try Bindings(db, sql: "INSERT OR REPLACE INTO crm_key (object, namespace, value) VALUES (?, ?, ?)")
            key.bind(handle)
            key.bind(crm.namespace)
            key.bind(crm.value)
            try key.run()
        }
    }

    /// The `crm_key` row a field makes (raw namespace and value), if it is a `crm_id` field: the lookup of
    /// `objectIDs(of:crmIDsIn:isOneOf:)`, and what `entente verify` expects to find.
    package static func crmKey(_ key: FieldKey, _ field: FieldState) -> (namespace: [UInt8], value: [UInt8])? {
        guard key.name == "crm_id" else { return nil }
        return (StorageCoding.encode(key.namespace), StorageCoding.encode(field.winner.value))
    }

    /// Replaces an object's state: every membership, field and set row is deleted and `state` written afresh (a
    /// rebuild). The object row stays, so the object keeps its handle and its applied parts.
    package func replaceObject(_ state: ObjectState) throws {
        if let handle = try handle(of: state.id) {
            for table in ["membership", "record", "crm_key", "set_field", "set_element"] {
                try execute(sql: "DELETE FROM \(table) WHERE object = ?", arguments: [handle])
            }
            records.remember(handle, nil)
        }
        try saveObject(state, previous: nil)
    }

    /// Of `ids`, the objects holding at least one scalar or set field in `namespace`: a few queries per 500
    /// objects, reading keys only (no object is loaded).
    package func objects(_ ids: [ObjectID], withFieldsIn namespace: Namespace) throws -> Set<ObjectID> {
        let space = StorageCoding.encode(namespace)
        var found: Set<ObjectID> = []
        try inChunks(ids) { chunk in
            let list = Self.padded(chunk)
            try Columns.step(
                db,
                sql: """
                    SELECT o.id, r.fields, EXISTS (SELECT 1 FROM set_field s WHERE s.object = o.handle AND s.namespace = ?)
                    FROM object o LEFT JOIN record r ON r.object = o.handle WHERE o.id \(Self.match(list.count))
                    """
            ) { row in
                row.bind(space)
                for id in list { row.bind(id.raw) }
            } _: { row in
                guard let id = row.id(0, ObjectID.self) else { throw corrupt("object id") }
                if row.bool(2) {
                    found.insert(id)
                } else if !row.isNull(1),
                    try RecordCoding.layout(row.bytes(1)).contains(namespace: namespace)
                {
                    found.insert(id)
                }
                return true
            }
        }
        return found
    }

    /// The object's local handle (the integer key of its state rows), if it has a row.
    private func handle(of id: ObjectID) throws -> Int64? {
        if let known = handles.byID[id] { return known }
        var handle: Int64?
        try Columns.step(db, sql: "SELECT handle FROM object WHERE id = ?") { row in
            row.bind(id.raw)
        } _: { row in
            handle = row.int(0)
            return false
        }
        handles.remember(id, handle)
        return handle
    }

    /// Objects with at least one conflicted field.
    package func conflictedObjects() throws -> [ObjectID] {
        try Data.fetchAll(
            db,
            sql: "SELECT o.id FROM record r JOIN object o ON o.handle = r.object WHERE r.conflicted = 1"
        ).compactMap { ObjectID(bytes: $0) }
    }

    /// Objects, optionally of one type, ordered by creation time, with their joint title value if any (the field
    /// `titleFields` names for the object's type, else `title`; one query, the title read from each record
    /// without decoding its other fields).
    package func objectList(
        type: String?,
        includeArchived: Bool = true,
        titleFields: [String: String] = [:]
    ) throws -> [(id: ObjectID, type: String, owner: CompanyID, title: Value?)] {
        var conditions = includeArchived ? [] : ["o.archived = 0"]
        if type != nil { conditions.append("o.type = ?") }
        var list: [(id: ObjectID, type: String, owner: CompanyID, title: Value?)] = []
        try Columns.step(
            db,
            sql: """
                SELECT o.id, o.type, o.owner, r.fields FROM object o LEFT JOIN record r ON r.object = o.handle
                \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")) ORDER BY o.created
                """
        ) { row in
            if let type { row.bind(text: type) }
        } _: { row in
            guard let id = row.id(0, ObjectID.self), let owner = row.id(2, CompanyID.self) else {
                throw corrupt("object id")
            }
            let type = row.text(1)
            var title: Value?
            if !row.isNull(3) {
                let key = FieldKey(.joint, titleFields[type] ?? "title")
                title = try RecordCoding.decode(row.bytes(3), wanted: [key])[key]?.winner.value
            }
            list.append((id, type, owner, title))
            return true
        }
        return list
    }

    /// The ids of the objects of `type` (or all), oldest first: what reads of a whole type walk through, a
    /// page at a time (16 bytes an object, without the titles ``objectList(type:includeArchived:titleFields:)``
    /// joins).
    package func objectIDs(type: String?, includeArchived: Bool) throws -> [ObjectID] {
        var conditions = includeArchived ? [] : ["archived = 0"]
        if type != nil { conditions.append("type = ?") }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        var ids: [ObjectID] = []
        try Columns.step(db, sql: "SELECT id FROM object\(filter) ORDER BY created") { row in
            if let type { row.bind(text: type) }
        } _: { row in
            guard let id = row.id(0, ObjectID.self) else { throw corrupt("object id") }
            ids.append(id)
            return true
        }
        return ids
    }

    /// The objects of `type` whose `crm_id` field in `namespace` holds one of the strings `values` (the CRM id
    /// lookup of an import's chunk, through the `crm_key` index: `crmKey(_:_:)`), 500 values a query. Should two objects hold one
    /// value, the lower id is kept. The join is `CROSS` so that SQLite looks the values up first: left to itself,
    /// it walked every object of the type (the `object_type` index) and took 0.57 s for 500 values among 5,000
    /// objects, against 1.4 ms.
    package func objectIDs(of type: String, crmIDsIn namespace: Namespace, isOneOf values: [String]) throws -> [String: ObjectID] {
        var found: [String: ObjectID] = [:]
        let space = StorageCoding.encode(namespace)
        try inChunks(values) { chunk in
            let list = Self.padded(chunk)
            try Columns.step(
                db,
                sql: """
                    SELECT c.value, o.id FROM crm_key c CROSS JOIN object o ON o.handle = c.object
                    WHERE c.namespace = ? AND c.value \(Self.match(list.count)) AND o.type = ?
                    """
            ) { row in
                row.bind(space)
                for value in list { row.bind(StorageCoding.encode(Value.string(value))) }
                row.bind(text: type)
            } _: { row in
                guard let id = row.id(1, ObjectID.self) else { throw corrupt("object id") }
                guard case .string(let value) = try StorageCoding.decodeValue(row.bytes(0)) else { return true }
                if found[value].map({ id < $0 }) ?? true { found[value] = id }
                return true
            }
        }
        return found
    }

    /// Every object of `type` holding field `key`, with its value (each record read, only that field decoded).
    package func fieldValues(of key: FieldKey, type: String) throws -> [(ObjectID, Value)] {
        var values: [(ObjectID, Value)] = []
        try Columns.step(
            db,
            sql: "SELECT o.id, r.fields FROM object o JOIN record r ON r.object = o.handle WHERE o.type = ?"
        ) { row in
            row.bind(text: type)
        } _: { row in
            guard let id = row.id(0, ObjectID.self) else { throw corrupt("object id") }
            if let field = try RecordCoding.decode(row.bytes(1), wanted: [key])[key] { values.append((id, field.winner.value)) }
            return true
        }
        return values
    }

    // MARK: revocations (statements are checked by the node before they are stored)

    /// Stores a revocation; false if it was already held.
    @discardableResult
    package func saveRevocation(_ revocation: ReplicaRevocation) throws -> Bool {
        try execute(
            sql: "INSERT OR IGNORE INTO revocation (company, replica, statement) VALUES (?, ?, ?)",
            arguments: [Data(revocation.company.bytes), Data(revocation.replica.bytes), Data(revocation.encoded())]
        )
        return db.changesCount > 0
    }

    /// Every revocation held.
    package func revocations() throws -> [ReplicaRevocation] {
        try rows(sql: "SELECT statement FROM revocation ORDER BY company, replica").map { row in
            try ReplicaRevocation(decoding: [UInt8](row["statement"] as Data))
        }
    }

    // MARK: policies (this company's rules; stored as text the node encodes)

    /// Every policy, by ascending id.
    package func policies() throws -> [(id: Int64, body: String)] {
        try rows(sql: "SELECT id, body FROM policy ORDER BY id").map { ($0["id"], $0["body"]) }
    }

    /// Stores a policy and returns its id.
    package func addPolicy(_ body: String) throws -> Int64 {
        try execute(sql: "INSERT INTO policy (body) VALUES (?)", arguments: [body])
        return db.lastInsertedRowID
    }

    /// Deletes a policy; false if there was none with that id.
    package func removePolicy(_ id: Int64) throws -> Bool {
        try execute(sql: "DELETE FROM policy WHERE id = ?", arguments: [id])
        return db.changesCount > 0
    }

    /// The number of objects held.
    package func objectCount() throws -> Int {
        try value(Int.self, sql: "SELECT count(*) FROM object") ?? 0
    }

    /// Every object id whose hex form starts with `prefix` (hex digits): a range scan of the primary key.
    package func objectIDs(withPrefix prefix: String) throws -> [ObjectID] {
        let digits = prefix.lowercased()
        guard digits.count <= 32, let low = Hex.decode(digits + String(repeating: "0", count: 32 - digits.count)),
            let high = Hex.decode(digits + String(repeating: "f", count: 32 - digits.count))
        else { return [] }
        return try rows(sql: "SELECT id FROM object WHERE id BETWEEN ? AND ?", arguments: [Data(low), Data(high)])
            .compactMap { ObjectID(bytes: $0["id"] as Data) }
    }

    // MARK: envelope log

    package func hasEnvelope(_ hash: EnvelopeHash) throws -> Bool {
        try value(Bool.self, sql: "SELECT 1 FROM envelope WHERE hash = ?", arguments: [Data(hash.bytes)]) ?? false
    }

    /// Logs an envelope and its addresses. Throws `.equivocation` if the origin replica already used one of
    /// these sequence numbers for another envelope.
    @discardableResult
    package func logEnvelope(_ envelope: Envelope) throws -> Int64 {
        let hash = envelope.hash
        for recipient in envelope.recipients {
            let existing = try value(
                Data.self,
                sql: """
                    SELECT e.hash FROM envelope_address a JOIN envelope e ON e.rowid = a.envelope
                    WHERE a.replica = ? AND a.recipient = ? AND a.sequence = ?
                    """,
                arguments: [Data(envelope.replica.bytes), Data(recipient.company.bytes), Int64(recipient.sequence)]
            )
            if let existing, [UInt8](existing) != hash.bytes {
                throw StoreError(
                    .equivocation,
                    "replica \(envelope.replica.short) of company \(envelope.origin.short) sent two different envelopes "
                        + "numbered \(recipient.sequence) for company \(recipient.company.short); the second is refused"
                )
            }
        }
        try execute(
            sql: "INSERT INTO envelope (hash, origin, replica, bytes) VALUES (?, ?, ?, ?)",
            arguments: [
                Data(hash.bytes), Data(envelope.origin.bytes), Data(envelope.replica.bytes), Data(envelope.bytes),
            ]
        )
        let rowid = db.lastInsertedRowID
        for recipient in envelope.recipients {
            try execute(
                sql: "INSERT INTO envelope_address (replica, recipient, sequence, envelope) VALUES (?, ?, ?, ?)",
                arguments: [
                    Data(envelope.replica.bytes), Data(recipient.company.bytes), Int64(recipient.sequence), rowid,
                ]
            )
        }
        return rowid
    }

    /// Records (or updates) the status of an envelope's part for one object; `waiting` nil means applied.
    ///
    /// Applied parts are keyed by the object's handle (the object must have a row: save it first), so the parts
    /// of records received together land together; waiting parts, usually few, are keyed by the object id (the
    /// object may not have arrived yet). A part is in one table or the other.
    package func setPart(_ envelope: Int64, _ object: ObjectID, waiting: String?) throws {
        let handle = try handle(of: object)
        if let waiting {
            var row = try Bindings(db, sql: "INSERT OR REPLACE INTO waiting_part (envelope, object, note) VALUES (?, ?, ?)")
            row.bind(envelope)
            row.bind(object.raw)
            row.bind(text: waiting)
            try row.run()
            guard let handle else { return }
            var applied = try Bindings(db, sql: "DELETE FROM applied_part WHERE object = ? AND envelope = ?")
            applied.bind(handle)
            applied.bind(envelope)
            try applied.run()
        } else {
            guard let handle else { throw corrupt("object row (a part of \(object.short) applied before it was saved)") }
            var row = try Bindings(db, sql: "INSERT OR IGNORE INTO applied_part (object, envelope) VALUES (?, ?)")
            row.bind(handle)
            row.bind(envelope)
            try row.run()
            var waiting = try Bindings(db, sql: "DELETE FROM waiting_part WHERE envelope = ? AND object = ?")
            waiting.bind(envelope)
            waiting.bind(object.raw)
            try waiting.run()
        }
    }

    /// Forgets an envelope's part for `object`, applied or waiting (an envelope refused late: its parts stop
    /// counting, while the envelope stays logged).
    package func removePart(_ envelope: Int64, _ object: ObjectID) throws {
        if let handle = try handle(of: object) {
            try execute(sql: "DELETE FROM applied_part WHERE object = ? AND envelope = ?", arguments: [handle, envelope])
        }
        try execute(
            sql: "DELETE FROM waiting_part WHERE envelope = ? AND object = ?",
            arguments: [envelope, Data(object.bytes)]
        )
    }

    /// Deletes an object's rows (its create went with an envelope refused late, so it no longer exists). Its
    /// parts must already be waiting or gone.
    package func deleteObject(_ id: ObjectID) throws {
        guard let handle = try handle(of: id) else { return }
        for table in ["membership", "record", "crm_key", "set_field", "set_element", "applied_part"] {
            try execute(sql: "DELETE FROM \(table) WHERE object = ?", arguments: [handle])
        }
        records.remember(handle, nil)
        try execute(sql: "DELETE FROM object WHERE handle = ?", arguments: [handle])
        handles.remember(id, nil)
    }

    /// Every logged envelope with a part for `object`, in log order, with that part's status.
    package func parts(of object: ObjectID) throws -> [LoggedPart] {
        var found = try waitingParts(sql: "WHERE p.object = ?", arguments: [Data(object.bytes)])
        if let handle = try handle(of: object) {
            found += try rows(
                sql: """
                    SELECT a.envelope, e.bytes FROM applied_part a JOIN envelope e ON e.rowid = a.envelope
                    WHERE a.object = ?
                    """,
                arguments: [handle]
            ).map { row in LoggedPart(envelope: row[0], object: object, bytes: [UInt8](row[1] as Data), waiting: nil) }
        }
        return found.sorted { $0.envelope < $1.envelope }
    }

    /// The waiting parts of the given objects, in log order. The objects that have waiting parts are looked up
    /// first (the waiting table, usually empty): an import that changed thousands of objects costs one query,
    /// not one per object.
    package func waitingParts(of objects: Set<ObjectID>) throws -> [LoggedPart] {
        var found: [LoggedPart] = []
        for object in try waitingObjects() where objects.contains(object) {
            found += try waitingParts(sql: "WHERE p.object = ?", arguments: [Data(object.bytes)])
        }
        return found.sorted { $0.envelope < $1.envelope }
    }

    /// The objects with at least one waiting part (usually none).
    package func waitingObjects() throws -> Set<ObjectID> {
        Set(try rows(sql: "SELECT DISTINCT object FROM waiting_part").compactMap { ObjectID(bytes: $0[0] as Data) })
    }

    /// How many envelopes have a waiting part (counted in SQL: each transaction of an import reports it).
    package func waitingEnvelopeCount() throws -> Int {
        try value(Int.self, sql: "SELECT count(DISTINCT envelope) FROM waiting_part") ?? 0
    }

    /// Every waiting part, in log order.
    package func waitingParts() throws -> [LoggedPart] {
        try waitingParts(sql: "ORDER BY p.envelope")
    }

    private func waitingParts(sql filter: String, arguments: StatementArguments = []) throws -> [LoggedPart] {
        try rows(
            sql: """
                SELECT p.envelope, p.object, e.bytes, p.note FROM waiting_part p JOIN envelope e ON e.rowid = p.envelope
                \(filter)
                """,
            arguments: arguments
        ).compactMap { row in
            guard let object = ObjectID(bytes: row["object"] as Data) else { return nil }
            return LoggedPart(
                envelope: row["envelope"],
                object: object,
                bytes: [UInt8](row["bytes"] as Data),
                waiting: row["note"]
            )
        }
    }

    package func envelopeCount() throws -> Int {
        try value(Int.self, sql: "SELECT count(*) FROM envelope") ?? 0
    }

    /// Envelopes addressed to `recipient`, in log order, skipping those the recipient's summary says it holds.
    package func envelopes(for recipient: CompanyID, excluding held: [ReplicaID: UInt64]) throws -> [[UInt8]] {
        try envelopes(for: recipient, excluding: held, after: 0, through: .max, maxCount: .max, maxBytes: .max)
            .envelopes
    }

    /// Counts the envelopes addressed to `recipient` that `held` does not cover, without loading them, and fixes
    /// the log position they end at: pages read up to it (``envelopes(for:excluding:after:through:maxCount:maxBytes:)``)
    /// return exactly these, in log order, however many envelopes are logged meanwhile (the log only grows).
    package func selectEnvelopes(
        for recipient: CompanyID,
        excluding held: [ReplicaID: UInt64]
    ) throws
        -> EnvelopeSelection
    {
        let through = try value(Int64.self, sql: "SELECT max(rowid) FROM envelope") ?? 0
        var selection = EnvelopeSelection(count: 0, bytes: 0, through: through)
        try scanAddressed(to: recipient, excluding: held, after: 0, through: through) { _, size in
            selection.count += 1
            selection.bytes += size
            return true
        }
        return selection
    }

    /// One page of the envelopes addressed to `recipient` that `held` does not cover, logged after position
    /// `after` and up to `through`, in log order: as many as fit in `maxCount` envelopes and `maxBytes` bytes
    /// (at least one, however large). `last` is the position to continue after (past the envelopes `held`
    /// skipped); only the returned envelopes' bytes are read.
    package func envelopes(
        for recipient: CompanyID,
        excluding held: [ReplicaID: UInt64],
        after: Int64,
        through: Int64,
        maxCount: Int,
        maxBytes: Int
    ) throws -> EnvelopePage {
        var positions: [Int64] = []
        var bytes = 0
        var last = after
        try scanAddressed(to: recipient, excluding: held, after: after, through: through) { position, size in
            guard positions.count < maxCount, positions.isEmpty || bytes + size <= maxBytes else { return false }
            positions.append(position)
            bytes += size
            last = position
            return true
        }
        let envelopes = try positions.map { position in
            let sql = "SELECT bytes FROM envelope WHERE rowid = ?"
            guard let envelope = try value(Data.self, sql: sql, arguments: [position]) else {
                throw corrupt("envelope address (no envelope at log position \(position))")
            }
            return [UInt8](envelope)
        }
        return EnvelopePage(envelopes: envelopes, last: last)
    }

    /// Steps through the envelopes addressed to `recipient` logged after `after` and up to `through`, in log
    /// order, skipping those `held` covers, and calls `body` with each one's log position and size (its bytes
    /// are not read) until it returns false.
    private func scanAddressed(
        to recipient: CompanyID,
        excluding held: [ReplicaID: UInt64],
        after: Int64,
        through: Int64,
        _ body: (_ position: Int64, _ size: Int) throws -> Bool
    ) throws {
        try Columns.step(
            db,
            sql: """
                SELECT a.envelope, a.replica, a.sequence, length(e.bytes) FROM envelope_address a
                JOIN envelope e ON e.rowid = a.envelope
                WHERE a.recipient = ? AND a.envelope > ? AND a.envelope <= ? ORDER BY a.envelope
                """
        ) { row in
            row.bind(recipient.raw)
            row.bind(after)
            row.bind(through)
        } _: { columns in
            if let replica = columns.id(1, ReplicaID.self), let have = held[replica] {
                let sequence = columns.int(2)
                if sequence >= 0, UInt64(sequence) <= have { return true }
            }
            return try body(columns.int(0), Int(columns.int(3)))
        }
    }

    /// For each origin replica, the highest sequence n such that envelopes 1...n addressed to `recipient` are all
    /// in the log: the version vector a summary carries.
    package func heldSequences(for recipient: CompanyID) throws -> [ReplicaID: UInt64] {
        let rows = try rows(
            sql: "SELECT replica, sequence FROM envelope_address WHERE recipient = ? ORDER BY replica, sequence",
            arguments: [Data(recipient.bytes)]
        )
        var held: [ReplicaID: UInt64] = [:]
        for row in rows {
            guard let replica = ReplicaID(bytes: row["replica"] as Data) else { continue }
            let sequence = UInt64(clamping: row["sequence"] as Int64)
            let have = held[replica] ?? 0
            if sequence == have + 1 { held[replica] = sequence }
        }
        return held
    }

    /// Forgets every outgoing counter: after a replica key rotation, the new replica numbers its envelopes
    /// from 1 for every recipient (the old replica's envelopes keep their numbers).
    package func resetOutgoingSequences() throws {
        try execute(sql: "DELETE FROM outgoing")
    }

    /// Takes the next outgoing sequence number for `recipient`.
    package func nextSequence(for recipient: CompanyID) throws -> UInt64 {
        let key = Data(recipient.bytes)
        let last =
            try value(Int64.self, sql: "SELECT last_sequence FROM outgoing WHERE recipient = ?", arguments: [key]) ?? 0
        try execute(
            sql: "INSERT OR REPLACE INTO outgoing (recipient, last_sequence) VALUES (?, ?)",
            arguments: [key, last + 1]
        )
        return UInt64(last + 1)
    }

    private func corrupt(_ what: String) -> StoreError {
        StoreError(.corrupt, "the database holds an invalid \(what); run `entente verify`")
    }
}
