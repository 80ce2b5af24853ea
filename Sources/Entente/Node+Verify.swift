import EntenteCore
import EntenteCrypto
import EntenteStore
import EntenteWire

/// What `Node.verify()` checked and what it found wrong.
public struct VerifyReport: Hashable, Sendable {
    /// Envelopes re-parsed, re-hashed and re-verified.
    public var envelopes = 0
    /// Sequence numbers (origin replica, recipient, sequence) checked against their envelopes' headers.
    public var sequences = 0
    /// Envelope parts checked against their envelopes.
    public var parts = 0
    /// Objects whose stored state was compared with the state rebuilt from their logged envelope parts.
    public var objects = 0
    /// Outgoing counters checked.
    public var counters = 0
    /// Everything found wrong, in the order found; empty if the node is sound.
    public var problems: [VerifyProblem] = []

    /// True if nothing is wrong.
    public var isSound: Bool { problems.isEmpty }
}

/// One problem `Node.verify()` found: what it concerns (an envelope, a sequence number, an object...) and what
/// is wrong with it.
public struct VerifyProblem: Hashable, Sendable, CustomStringConvertible {
    /// What a problem is about.
    public struct Area: RawRepresentable, Hashable, Sendable {
        /// The name: `sqlite`, `envelope`, `sequence`, `part`, `counter`, `object`, `clock` or `usage`.
        public let rawValue: String
        /// Wraps a name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// SQLite's own checks (`PRAGMA integrity_check`, `foreign_key_check`), or a table that cannot be read.
        public static let sqlite = Area(rawValue: "sqlite")
        /// A logged envelope: its bytes, hash, origin, signature or certificate.
        public static let envelope = Area(rawValue: "envelope")
        /// A recorded sequence number of an origin replica for a recipient.
        public static let sequence = Area(rawValue: "sequence")
        /// An envelope's part for one object.
        public static let part = Area(rawValue: "part")
        /// An outgoing counter (the last sequence number this node took for a recipient).
        public static let counter = Area(rawValue: "counter")
        /// An object's stored state.
        public static let object = Area(rawValue: "object")
        /// This replica's saved clock.
        public static let clock = Area(rawValue: "clock")
        /// The storage recorded for an origin company's envelopes (charged against its quota).
        public static let usage = Area(rawValue: "usage")
    }

    /// What the problem is about.
    public let area: Area
    /// Which one: an envelope hash, an object id, "replica R to company C, sequence N"...
    public let subject: String
    /// What is wrong.
    public let message: String

    /// Creates a problem.
    public init(_ area: Area, _ subject: String, _ message: String) {
        self.area = area
        self.subject = subject
        self.message = message
    }

    /// `area subject: message`.
    public var description: String { "\(area.rawValue) \(subject): \(message)" }
}

extension Node {
    /// Checks the integrity of this node's database; changes nothing.
    ///
    /// In order: SQLite's `PRAGMA integrity_check` and `foreign_key_check`; every logged envelope re-parsed, its
    /// hash recomputed and compared with the stored one, its origin and replica columns compared with its header,
    /// its certificate and signature verified against the pinned company key, and (if it is addressed to this
    /// company) decrypted; every recorded sequence number compared with its envelope's header (each recipient of
    /// each envelope recorded exactly once, with the header's number); this replica's own sequence numbers
    /// without gaps and its outgoing counters at or above the highest number it used; every part pointing to an
    /// existing envelope that touches its object; and every object's stored state (and each part's applied or
    /// waiting status) equal to the state rebuilt from its logged parts with `Merge.rebuild`, the path a late
    /// removal takes. Linear in the size of the log: each envelope is decrypted once.
    ///
    /// ```swift
    /// let report = try await node.verify()
    /// for problem in report.problems { print(problem) }
    /// ```
    /// - Returns: the counts checked and the problems found (none if the node is sound).
    /// - Throws: `EntenteError` `.storage` only if the database cannot be read at all.
    public func verify() throws(EntenteError) -> VerifyReport {
        var report = VerifyReport()
        do {
            for finding in try store.integrityCheck() {
                report.problems.append(VerifyProblem(.sqlite, "integrity_check", finding))
            }
        } catch {
            report.problems.append(VerifyProblem(.sqlite, "integrity_check", "cannot run: \(error)"))
        }
        var checker = Verifier(company: company, replica: replica, keys: encryptionKey, report: report)
        do {
            try store.read { tx in try checker.run(tx) }
        } catch {
            checker.note(VerifyProblem.Area.sqlite, "read", "the database cannot be read: \(error)")
        }
        return checker.report
    }
}

/// The checks of `Node.verify`, over one read transaction; problems accumulate in `report`.
private struct Verifier {
    let company: CompanyID
    let replica: ReplicaID
    let keys: BoxKeyPair
    var report: VerifyReport

    /// A logged part ready for the rebuild: its envelope row and hash, its operations (nil if they cannot be
    /// read) and its stored status (nil if no part is recorded: the rebuild still takes the operations).
    struct Part {
        let envelope: Int64
        let hash: String
        let batch: Batch?
        let isWaiting: Bool?
    }

    mutating func note(_ area: VerifyProblem.Area, _ subject: String, _ message: String) {
        report.problems.append(VerifyProblem(area, subject, message))
    }

    mutating func run(_ tx: StoreTransaction) throws {
        for violation in try tx.foreignKeyViolations() { note(.sqlite, "foreign_key_check", violation) }

        var pinned: [CompanyID: SigningPublicKey] = [:]
        for row in try tx.companies() { pinned[row.id] = row.card.signingKey }

        // Parts and sequence numbers, grouped by envelope row.
        var partsByEnvelope: [Int64: [(object: ObjectID, isWaiting: Bool)]] = [:]
        for part in try tx.allParts() {
            report.parts += 1
            guard let object = ObjectID(bytes: part.object) else {
                note(.part, "of envelope row \(part.envelope)", "the object id \(Hex.encode(part.object)) is invalid")
                continue
            }
            partsByEnvelope[part.envelope, default: []].append((object, part.isWaiting))
        }
        var addressesByEnvelope: [Int64: [StoredAddress]] = [:]
        for address in try tx.allAddresses() {
            report.sequences += 1
            addressesByEnvelope[address.envelope, default: []].append(address)
        }

        var objectParts: [ObjectID: [Part]] = [:]
        var ownSequences: [CompanyID: [Int64]] = [:]
        var newestOwnTimestamp: Timestamp?
        var seen: Set<Int64> = []
        try tx.forEachEnvelope { stored in
            report.envelopes += 1
            seen.insert(stored.rowid)
            let storedHash = Hex.encode(stored.hash)
            let subject = storedHash.isEmpty ? "row \(stored.rowid)" : storedHash
            let parts = partsByEnvelope[stored.rowid] ?? []
            let addresses = addressesByEnvelope[stored.rowid] ?? []
            // An envelope that cannot be read leaves its objects unverifiable (reported once per object).
            func unreadable(_ why: String) {
                note(.envelope, subject, why)
                for part in parts {
                    objectParts[part.object, default: []].append(
                        Part(envelope: stored.rowid, hash: subject, batch: nil, isWaiting: part.isWaiting)
                    )
                }
            }
            let envelope: Envelope
            do { envelope = try Envelope(parsing: stored.bytes) } catch {
                unreadable("its bytes do not parse: \(Self.describe(error))")
                return
            }
            if envelope.hash.bytes != stored.hash {
                note(.envelope, subject, "its bytes hash to \(envelope.hash), not to the stored hash")
            }
            if envelope.origin.bytes != stored.origin {
                note(
                    .envelope,
                    subject,
                    "stored as from company \(Hex.encode(stored.origin)) but signed by \(envelope.origin.hex)"
                )
            }
            if envelope.replica.bytes != stored.replica {
                note(
                    .envelope,
                    subject,
                    "stored as from replica \(Hex.encode(stored.replica)) but signed by \(envelope.replica.hex)"
                )
            }
            if let key = pinned[envelope.origin] {
                do { try envelope.verify(companyKey: key) } catch { note(.envelope, subject, Self.describe(error)) }
            } else {
                note(.envelope, subject, "it comes from company \(envelope.origin.hex), which is not pinned")
            }
            checkSequences(envelope, addresses, subject)
            if envelope.replica == replica {
                for recipient in envelope.recipients {
                    ownSequences[recipient.company, default: []].append(Int64(clamping: recipient.sequence))
                }
            }

            guard envelope.audience.contains(company) else {
                if !parts.isEmpty {
                    unreadable("it has parts for \(parts.count) object(s) but is not addressed to this company")
                }
                if envelope.origin != company {
                    note(.envelope, subject, "it is neither addressed to this company nor sent by it")
                }
                return
            }
            let operations: [Operation]
            do { operations = try envelope.open(as: company, with: keys) } catch {
                unreadable("it cannot be opened: \(Self.describe(error))")
                return
            }
            if envelope.replica == replica {
                for operation in operations where operation.timestamp.replica == replica {
                    newestOwnTimestamp = max(newestOwnTimestamp ?? operation.timestamp, operation.timestamp)
                }
            }
            let batch = Batch(author: envelope.origin, operations: operations)
            var byObject: [ObjectID: Batch] = [:]
            for (object, part) in batch.parts { byObject[object] = part }
            for part in parts {
                guard let operations = byObject[part.object] else {
                    note(
                        .part,
                        "\(part.object.hex) of envelope \(subject)",
                        "the envelope has no operation on this object"
                    )
                    continue
                }
                objectParts[part.object, default: []].append(
                    Part(envelope: stored.rowid, hash: subject, batch: operations, isWaiting: part.isWaiting)
                )
            }
            // Envelopes merged here record a part for every object they touch; only this replica's own re-sent
            // envelopes (snapshots for newcomers, relayed writes) are kept for export without parts.
            if envelope.replica != replica {
                let recorded = Set(parts.map(\.object))
                for object in byObject.keys.sorted() where !recorded.contains(object) {
                    note(
                        .part,
                        "\(object.hex) of envelope \(subject)",
                        "the envelope touches this object but no part is recorded"
                    )
                    objectParts[object, default: []].append(
                        Part(envelope: stored.rowid, hash: subject, batch: byObject[object], isWaiting: nil)
                    )
                }
            }
        }
        for (rowid, parts) in partsByEnvelope.sorted(by: { $0.key < $1.key }) where !seen.contains(rowid) {
            for part in parts {
                note(.part, "\(part.object.hex) of envelope row \(rowid)", "the envelope row does not exist")
            }
        }
        for (rowid, addresses) in addressesByEnvelope.sorted(by: { $0.key < $1.key }) where !seen.contains(rowid) {
            for address in addresses {
                note(.sequence, Self.name(address), "points to envelope row \(rowid), which does not exist")
            }
        }

        try checkCounters(tx, ownSequences)
        try checkUsage(tx)
        if let newest = newestOwnTimestamp {
            if let saved = try tx.savedClock() {
                if saved < newest {
                    note(
                        .clock,
                        replica.hex,
                        "the saved clock \(saved) is behind this replica's newest write \(newest)"
                    )
                }
            } else {
                note(.clock, replica.hex, "no clock is saved but this replica wrote up to \(newest)")
            }
        }
        try checkObjects(tx, objectParts)
    }

    /// The storage each origin company's envelopes take (kept by triggers, charged against quotas) matches the
    /// log.
    private mutating func checkUsage(_ tx: StoreTransaction) throws {
        let kept = try tx.usageByOrigin()
        let counted = try tx.countedUsageByOrigin()
        for company in Set(kept.keys).union(counted.keys).sorted() {
            let recorded = kept[company] ?? OriginUsage()
            let actual = counted[company] ?? OriginUsage()
            if recorded != actual {
                note(
                    .usage,
                    company.hex,
                    "the recorded usage (\(recorded.envelopes) envelopes, \(recorded.bytes) bytes) differs from the log (\(actual.envelopes) envelopes, \(actual.bytes) bytes)"
                )
            }
        }
    }

    /// Each header recipient is recorded once, under the envelope's replica and with the header's number; no
    /// other number points to the envelope.
    private mutating func checkSequences(_ envelope: Envelope, _ addresses: [StoredAddress], _ subject: String) {
        var expected: [CompanyID: UInt64] = [:]
        for recipient in envelope.recipients { expected[recipient.company] = recipient.sequence }
        var found: Set<CompanyID> = []
        for address in addresses {
            let name = Self.name(address)
            guard address.replica == envelope.replica.bytes else {
                note(.sequence, name, "points to envelope \(subject), which replica \(envelope.replica.hex) sent")
                continue
            }
            guard let recipient = CompanyID(bytes: address.recipient), let sequence = expected[recipient] else {
                note(.sequence, name, "points to envelope \(subject), which is not addressed to that company")
                continue
            }
            if Int64(clamping: sequence) != address.sequence {
                note(.sequence, name, "points to envelope \(subject), whose header numbers it \(sequence)")
            }
            if !found.insert(recipient).inserted {
                note(.sequence, name, "envelope \(subject) is recorded more than once for this recipient")
            }
        }
        for recipient in envelope.recipients where !found.contains(recipient.company) {
            note(
                .sequence,
                "replica \(envelope.replica.hex) to company \(recipient.company.hex), sequence \(recipient.sequence)",
                "envelope \(subject) carries this number but it is not recorded"
            )
        }
    }

    /// This replica's sequence numbers per recipient run 1...n without gaps, and its counter is at least n.
    private mutating func checkCounters(_ tx: StoreTransaction, _ own: [CompanyID: [Int64]]) throws {
        var counters: [CompanyID: Int64] = [:]
        for (raw, last) in try tx.outgoingCounters() {
            report.counters += 1
            guard let recipient = CompanyID(bytes: raw) else {
                note(.counter, Hex.encode(raw), "the recipient id is invalid")
                continue
            }
            counters[recipient] = last
        }
        for (recipient, numbers) in own.sorted(by: { $0.key < $1.key }) {
            let subject = "to company \(recipient.hex)"
            var previous: Int64 = 0
            for number in numbers.sorted() {
                if number == previous {
                    note(.counter, subject, "this replica used sequence \(number) twice")
                } else if number != previous + 1 {
                    note(
                        .counter,
                        subject,
                        "this replica's sequences jump from \(previous) to \(number): envelopes are missing"
                    )
                }
                previous = number
            }
            let last = counters[recipient] ?? 0
            if last < previous {
                note(
                    .counter,
                    subject,
                    "the outgoing counter is \(last) but this replica already used sequence \(previous)"
                )
            }
        }
    }

    /// Compares every object's stored state, and every part's stored status, with its rebuild from the log.
    ///
    /// Objects are loaded 500 at a time.
    private mutating func checkObjects(_ tx: StoreTransaction, _ objectParts: [ObjectID: [Part]]) throws {
        var ids = Set(objectParts.keys)
        for key in try tx.allObjectKeys() {
            guard let id = ObjectID(bytes: key) else {
                note(.object, Hex.encode(key), "the object id is invalid")
                continue
            }
            ids.insert(id)
        }
        for (table, handle) in try tx.orphanStateRows() {
            note(.object, "handle \(handle)", "\(table) rows exist for an object that has no object row")
        }
        let sorted = ids.sorted()
        var start = 0
        while start < sorted.count {
            let chunk = Array(sorted[start..<min(start + 500, sorted.count)])
            start += chunk.count
            var states: [ObjectID: ObjectState] = [:]
            var unreadable: Set<ObjectID> = []
            do { states = try tx.loadObjects(chunk) } catch {
                // A bad row fails its whole chunk: load the objects one by one to name the bad ones.
                for id in chunk {
                    do { states[id] = try tx.loadObject(id) } catch {
                        unreadable.insert(id)
                        note(.object, id.hex, "its stored state cannot be read: \(error)")
                    }
                }
            }
            let crmKeys = try tx.crmKeys(of: chunk)
            for id in chunk {
                report.objects += 1
                guard !unreadable.contains(id) else { continue }
                compare(id, stored: states[id], parts: objectParts[id] ?? [])
                var expected: [[UInt8]: [UInt8]] = [:]
                for (key, field) in states[id]?.fields ?? [:] {
                    if let crm = StoreTransaction.crmKey(key, field) { expected[crm.namespace] = crm.value }
                }
                if (crmKeys[id] ?? [:]) != expected {
                    note(.object, id.hex, "its CRM id lookup (crm_key) does not match its crm_id fields")
                }
            }
        }
    }

    private mutating func compare(_ id: ObjectID, stored: ObjectState?, parts: [Part]) {
        var batches: [Batch] = []
        for part in parts {
            guard let batch = part.batch else {
                note(.object, id.hex, "cannot be rebuilt: envelope \(part.hash) cannot be read")
                return
            }
            batches.append(batch)
        }
        let (rebuilt, waiting) = Merge.rebuild(id, from: batches)
        switch (stored, rebuilt.exists) {
        case (nil, true):
            note(.object, id.hex, "its logged envelopes create it but it is not stored")
        case (let stored?, false):
            note(
                .object,
                id.hex,
                parts.isEmpty
                    ? "stored (\(stored.type ?? "?")) but no logged envelope touches it"
                    : "stored (\(stored.type ?? "?")) but its logged envelopes do not create it"
            )
        case (let stored?, true) where stored != rebuilt:
            note(
                .object,
                id.hex,
                "the stored state differs from its logged envelopes: \(Self.difference(stored, rebuilt))"
            )
        default: break
        }
        for (part, reason) in zip(parts, waiting) {
            guard let isWaiting = part.isWaiting, isWaiting != (reason != nil) else { continue }
            note(
                .part,
                "\(id.hex) of envelope \(part.hash)",
                isWaiting ? "stored as waiting, but it applies" : "stored as applied, but it waits: \(reason ?? "")"
            )
        }
    }

    static func describe(_ error: any Error) -> String {
        (error as? WireError)?.message ?? "\(error)"
    }

    static func name(_ address: StoredAddress) -> String {
        "replica \(Hex.encode(address.replica)) to company \(Hex.encode(address.recipient)), sequence \(address.sequence)"
    }

    /// Names what differs between two states of one object.
    static func difference(_ stored: ObjectState, _ rebuilt: ObjectState) -> String {
        var found: [String] = []
        func name(_ key: FieldKey) -> String {
            switch key.namespace {
            case .joint: "joint.\(key.name)"
            case .company(let owner): "\(owner.short).\(key.name)"
            }
        }
        if stored.type != rebuilt.type { found.append("type") }
        if stored.owner != rebuilt.owner { found.append("owner") }
        if stored.created != rebuilt.created || stored.createNonce != rebuilt.createNonce { found.append("creation") }
        if stored.membership != rebuilt.membership { found.append("membership") }
        if stored.archived != rebuilt.archived { found.append("archive flag") }
        let fields = Set(stored.fields.keys).union(rebuilt.fields.keys).map { (name($0), $0) }.sorted { $0.0 < $1.0 }
        for (label, key) in fields where stored.fields[key] != rebuilt.fields[key] { found.append("field \(label)") }
        let sets = Set(stored.sets.keys).union(rebuilt.sets.keys).map { (name($0), $0) }.sorted { $0.0 < $1.0 }
        for (label, key) in sets where stored.sets[key] != rebuilt.sets[key] { found.append("set \(label)") }
        return found.isEmpty ? "unknown" : found.joined(separator: ", ")
    }
}
