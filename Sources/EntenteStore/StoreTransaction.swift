package import EntenteCore
package import EntenteWire
import EntenteCrypto
import Foundation
import GRDB

/// A pinned company as stored: its card, and whether it is this node's own company.
package struct StoredCompany: Hashable, Sendable {
    package let card: PartnerCard
    package let isSelf: Bool
    package var id: CompanyID { card.company }
    package var name: String { card.name }
}

/// Whether a logged envelope's operations are merged, or wait for something they depend on.
package enum EnvelopeStatus: Int, Sendable {
    case applied = 0
    case waiting = 1
}

/// A logged envelope that waits, with its reason.
package struct WaitingEnvelope: Sendable {
    package let rowid: Int64
    package let bytes: [UInt8]
    package let reason: String
}

/// Typed access to the database inside one transaction. Only `Store` creates it.
package struct StoreTransaction {
    let db: Database

    // MARK: meta

    package func meta(_ key: String) throws -> [UInt8]? {
        try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]).map { [UInt8]($0) }
    }

    package func setMeta(_ key: String, _ value: [UInt8]) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, Data(value)])
    }

    // MARK: companies

    package func saveCompany(_ card: PartnerCard, isSelf: Bool) throws {
        try db.execute(
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
        try Row.fetchAll(db, sql: "SELECT card, is_self FROM company ORDER BY is_self DESC, name").map { row in
            let json: String = row["card"]
            return StoredCompany(card: try PartnerCard(json: Array(json.utf8)), isSelf: row["is_self"])
        }
    }

    package func company(_ id: CompanyID) throws -> StoredCompany? {
        guard let row = try Row.fetchOne(db, sql: "SELECT card, is_self FROM company WHERE id = ?", arguments: [Data(id.bytes)])
        else { return nil }
        let json: String = row["card"]
        return StoredCompany(card: try PartnerCard(json: Array(json.utf8)), isSelf: row["is_self"])
    }

    // MARK: objects

    package func loadObject(_ id: ObjectID) throws -> ObjectState? {
        let key = Data(id.bytes)
        guard let row = try Row.fetchOne(db, sql: "SELECT type, owner, created, nonce FROM object WHERE id = ?", arguments: [key])
        else { return nil }
        var participants: [CompanyID: Timestamp] = [:]
        for participant in try Row.fetchAll(db, sql: "SELECT company, joined FROM participant WHERE object = ?", arguments: [key]) {
            let company: Data = participant["company"]
            let joined: Data = participant["joined"]
            guard let id = CompanyID(bytes: company) else { throw corrupt("participant id") }
            participants[id] = try StorageCoding.decodeTimestamp([UInt8](joined))
        }
        var fields: [FieldKey: Register] = [:]
        let fieldRows = try Row.fetchAll(
            db,
            sql: "SELECT namespace, name, value, stamp, visibility FROM field WHERE object = ?",
            arguments: [key]
        )
        for field in fieldRows {
            let namespace = try StorageCoding.decodeNamespace([UInt8](field["namespace"] as Data))
            let value = try StorageCoding.decodeValue([UInt8](field["value"] as Data))
            let stamp = try StorageCoding.decodeTimestamp([UInt8](field["stamp"] as Data))
            let visibility = try StorageCoding.decodeVisibility([UInt8](field["visibility"] as Data))
            fields[FieldKey(namespace, field["name"])] = Register(value: value, timestamp: stamp, visibility: visibility)
        }
        guard let owner = CompanyID(bytes: row["owner"] as Data) else { throw corrupt("object owner") }
        return ObjectState(
            id: id,
            type: row["type"],
            owner: owner,
            created: try StorageCoding.decodeTimestamp([UInt8](row["created"] as Data)),
            createNonce: [UInt8](row["nonce"] as Data),
            participants: participants,
            fields: fields
        )
    }

    /// Writes an object's state (its row, participants, and every register that differs from `previous`).
    package func saveObject(_ state: ObjectState, previous: ObjectState?) throws {
        guard let owner = state.owner, let created = state.created, let type = state.type else { return }
        let key = Data(state.id.bytes)
        if previous?.exists != true {
            try db.execute(
                sql: "INSERT OR REPLACE INTO object (id, type, owner, created, nonce) VALUES (?, ?, ?, ?, ?)",
                arguments: [key, type, Data(owner.bytes), Data(StorageCoding.encode(created)), Data(state.createNonce)]
            )
        }
        for (company, joined) in state.participants where previous?.participants[company] != joined {
            try db.execute(
                sql: "INSERT OR REPLACE INTO participant (object, company, joined) VALUES (?, ?, ?)",
                arguments: [key, Data(company.bytes), Data(StorageCoding.encode(joined))]
            )
        }
        let upsert = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO field (object, namespace, name, value, stamp, visibility)
                VALUES (?, ?, ?, ?, ?, ?)
                """
        )
        for (field, register) in state.fields where previous?.fields[field] != register {
            try upsert.execute(arguments: [
                key, Data(StorageCoding.encode(field.namespace)), field.name, Data(StorageCoding.encode(register.value)),
                Data(StorageCoding.encode(register.timestamp)), Data(StorageCoding.encode(register.visibility)),
            ])
        }
    }

    /// Objects, optionally of one type, ordered by creation time.
    package func objectList(type: String?) throws -> [(id: ObjectID, type: String, owner: CompanyID)] {
        let rows: [Row]
        if let type {
            rows = try Row.fetchAll(db, sql: "SELECT id, type, owner FROM object WHERE type = ? ORDER BY created", arguments: [type])
        } else {
            rows = try Row.fetchAll(db, sql: "SELECT id, type, owner FROM object ORDER BY created")
        }
        return try rows.map { row in
            guard let id = ObjectID(bytes: row["id"] as Data), let owner = CompanyID(bytes: row["owner"] as Data) else {
                throw corrupt("object id")
            }
            return (id, row["type"], owner)
        }
    }

    /// Every object id whose hex form starts with `prefix`.
    package func objectIDs(withPrefix prefix: String) throws -> [ObjectID] {
        try objectList(type: nil).map(\.id).filter { $0.hex.hasPrefix(prefix.lowercased()) }
    }

    // MARK: envelope log

    package func hasEnvelope(_ hash: EnvelopeHash) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM envelope WHERE hash = ?", arguments: [Data(hash.bytes)]) ?? false
    }

    /// Logs an envelope and its addresses. Throws `.equivocation` if the origin replica already used one of
    /// these sequence numbers for another envelope.
    @discardableResult
    package func logEnvelope(_ envelope: Envelope, status: EnvelopeStatus, note: String? = nil) throws -> Int64 {
        let hash = envelope.hash
        for recipient in envelope.recipients {
            let existing = try Data.fetchOne(
                db,
                sql: """
                    SELECT e.hash FROM envelope_address a JOIN envelope e ON e.rowid = a.envelope
                    WHERE a.replica = ? AND a.recipient = ? AND a.sequence = ?
                    """,
                arguments: [Data(envelope.replica.bytes), Data(recipient.company.bytes), recipient.sequence]
            )
            if let existing, [UInt8](existing) != hash.bytes {
                throw StoreError(
                    .equivocation,
                    "replica \(envelope.replica.short) of company \(envelope.origin.short) sent two different envelopes "
                        + "numbered \(recipient.sequence) for company \(recipient.company.short); the second is refused"
                )
            }
        }
        try db.execute(
            sql: "INSERT INTO envelope (hash, origin, replica, bytes, status, note) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                Data(hash.bytes), Data(envelope.origin.bytes), Data(envelope.replica.bytes), Data(envelope.bytes),
                status.rawValue, note,
            ]
        )
        let rowid = db.lastInsertedRowID
        for recipient in envelope.recipients {
            try db.execute(
                sql: "INSERT INTO envelope_address (replica, recipient, sequence, envelope) VALUES (?, ?, ?, ?)",
                arguments: [Data(envelope.replica.bytes), Data(recipient.company.bytes), recipient.sequence, rowid]
            )
        }
        return rowid
    }

    package func waitingEnvelopes() throws -> [WaitingEnvelope] {
        try Row.fetchAll(db, sql: "SELECT rowid, bytes, note FROM envelope WHERE status = ? ORDER BY rowid", arguments: [EnvelopeStatus.waiting.rawValue])
            .map { WaitingEnvelope(rowid: $0["rowid"], bytes: [UInt8]($0["bytes"] as Data), reason: $0["note"] ?? "") }
    }

    package func setStatus(_ rowid: Int64, _ status: EnvelopeStatus, note: String? = nil) throws {
        try db.execute(sql: "UPDATE envelope SET status = ?, note = ? WHERE rowid = ?", arguments: [status.rawValue, note, rowid])
    }

    package func envelopeCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM envelope") ?? 0
    }

    /// Envelopes addressed to `recipient`, in log order, skipping those the recipient's summary says it holds.
    package func envelopes(for recipient: CompanyID, excluding held: [ReplicaID: UInt64]) throws -> [[UInt8]] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT a.replica, a.sequence, e.bytes FROM envelope_address a JOIN envelope e ON e.rowid = a.envelope
                WHERE a.recipient = ? ORDER BY e.rowid
                """,
            arguments: [Data(recipient.bytes)]
        )
        return rows.compactMap { row in
            guard let replica = ReplicaID(bytes: row["replica"] as Data) else { return nil }
            let sequence: Int64 = row["sequence"]
            if let have = held[replica], UInt64(sequence) <= have { return nil }
            return [UInt8](row["bytes"] as Data)
        }
    }

    /// For each origin replica, the highest sequence n such that envelopes 1...n addressed to `recipient` are all
    /// in the log: the version vector a summary carries.
    package func heldSequences(for recipient: CompanyID) throws -> [ReplicaID: UInt64] {
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT replica, sequence FROM envelope_address WHERE recipient = ? ORDER BY replica, sequence",
            arguments: [Data(recipient.bytes)]
        )
        var held: [ReplicaID: UInt64] = [:]
        for row in rows {
            guard let replica = ReplicaID(bytes: row["replica"] as Data) else { continue }
            let sequence = UInt64(row["sequence"] as Int64)
            let have = held[replica] ?? 0
            if sequence == have + 1 { held[replica] = sequence }
        }
        return held
    }

    /// Takes the next outgoing sequence number for `recipient`.
    package func nextSequence(for recipient: CompanyID) throws -> UInt64 {
        let key = Data(recipient.bytes)
        let last = try Int64.fetchOne(db, sql: "SELECT last_sequence FROM outgoing WHERE recipient = ?", arguments: [key]) ?? 0
        try db.execute(sql: "INSERT OR REPLACE INTO outgoing (recipient, last_sequence) VALUES (?, ?)", arguments: [key, last + 1])
        return UInt64(last + 1)
    }

    private func corrupt(_ what: String) -> StoreError {
        StoreError(.corrupt, "the database holds an invalid \(what); run `entente verify`")
    }
}
