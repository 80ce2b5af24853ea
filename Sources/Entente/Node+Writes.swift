import EntenteCore
import EntenteDomain
import EntenteStore
import EntenteWire

extension Node {
    /// Most operations sealed into one envelope; larger writes are split.
    static let operationsPerEnvelope = 4096

    /// Creates an object owned by this company, with `participants` invited from the start.
    /// - Returns: the new object's id.
    /// - Throws: `.invalidArgument` for an unknown type, bad field name or value; `.unknownCompany` for a
    ///   participant that is not a pinned partner.
    public func create(type: String, changes: Changes, with participants: [CompanyID] = []) throws(EntenteError) -> ObjectID {
        guard let kind = Catalog.kind(named: type) else {
            let known = Catalog.all.map(\.name).joined(separator: ", ")
            throw EntenteError(.invalidArgument, "unknown object type '\(type)'; known types: \(known)")
        }
        let (id, nonce) = Derivation.newObjectID(owner: company)
        try transaction { tx in
            var states: [ObjectID: ObjectState] = [:]
            var operations = [Operation(object: id, timestamp: tick(), kind: .create(type: kind.name, nonce: nonce))]
            for participant in Set(participants).subtracting([company]).sorted() {
                guard try tx.company(participant) != nil else {
                    throw EntenteError(.unknownCompany, "company \(participant.short) is not a pinned partner")
                }
                operations.append(Operation(object: id, timestamp: tick(), kind: .addParticipant(participant)))
            }
            try commit(operations, fieldWrites(changes, object: id, kind: kind, participants: Set(participants).union([company])), states: &states, tx)
        }
        return id
    }

    /// Writes fields of an existing object.
    /// - Throws: `.notFound` for an unknown object; `.invalidArgument` if `sharedWith` names a company that does
    ///   not take part in the object; `.rejected` if this company is not a participant.
    public func update(_ id: ObjectID, changes: Changes) throws(EntenteError) {
        guard !changes.isEmpty else { throw EntenteError(.invalidArgument, "nothing to change: give at least one field") }
        try transaction { tx in
            guard let state = try tx.loadObject(id), let type = state.type else {
                throw EntenteError(.notFound, "no object \(id.short) on this node")
            }
            var states = [id: state]
            let kind = Catalog.kind(named: type)
            try commit([], fieldWrites(changes, object: id, kind: kind, participants: Set(state.participants.keys)), states: &states, tx)
        }
    }

    /// Adds a partner to an object this company owns. The partner receives the object's create, participants,
    /// joint fields and this company's fields shared with it; the other participants re-send their own shared
    /// fields to it when they learn of the invitation.
    public func invite(_ id: ObjectID, _ partner: CompanyID) throws(EntenteError) {
        try transaction { tx in
            guard let state = try tx.loadObject(id) else { throw EntenteError(.notFound, "no object \(id.short) on this node") }
            guard state.owner == company else {
                throw EntenteError(.rejected, "only the owner of \(id.short) can invite partners to it")
            }
            guard try tx.company(partner) != nil, partner != company else {
                throw EntenteError(.unknownCompany, "company \(partner.short) is not a pinned partner")
            }
            guard !state.isParticipant(partner) else { return }
            var states = [id: state]
            try commit([Operation(object: id, timestamp: tick(), kind: .addParticipant(partner))], [], states: &states, tx)
            guard let updated = states[id] else { return }
            try emit(updated.snapshot(for: partner), to: [partner], tx)
        }
    }

    private func fieldWrites(_ changes: Changes, object: ObjectID, kind: ObjectKind?, participants: Set<CompanyID>) throws -> [Operation] {
        var operations: [Operation] = []
        let sharedVisibility: Visibility
        if changes.sharedWith.isEmpty {
            sharedVisibility = .participants
        } else {
            let named = Set(changes.sharedWith).subtracting([company])
            if let outsider = named.first(where: { !participants.contains($0) }) {
                throw EntenteError(
                    .invalidArgument,
                    "company \(outsider.short) does not take part in \(object.short); the owner must invite it first"
                )
            }
            sharedVisibility = .companies(named)
        }
        let groups: [(Namespace, [FieldValue], Visibility)] = [
            (.joint, changes.joint, .participants),
            (.company(company), changes.shared, sharedVisibility),
            (.company(company), changes.privateFields, .private),
        ]
        for (namespace, values, visibility) in groups {
            for field in values {
                guard FieldKey.isValidName(field.name) else {
                    throw EntenteError(.invalidArgument, "field name '\(field.name)' must be 1-\(FieldKey.maxNameBytes) bytes without control characters")
                }
                if namespace == .joint, let kind, case .string(let text) = field.value, let problem = kind.problem(withJoint: field.name, value: text) {
                    throw EntenteError(.invalidArgument, problem)
                }
                operations.append(Operation(object: object, timestamp: tick(), kind: .set(FieldKey(namespace, field.name), field.value, visibility)))
            }
        }
        return operations
    }

    func tick() -> Timestamp {
        clock.tick(now: options.now())
    }

    /// Merges local operations (they must all be allowed), persists the states, and seals them into envelopes
    /// grouped by audience.
    func commit(_ head: [Operation], _ tail: [Operation], states: inout [ObjectID: ObjectState], _ tx: StoreTransaction) throws {
        let operations = head + tail
        let previous = states
        switch Merge.apply(Batch(author: company, operations: operations), to: &states) {
        case .applied: break
        case .wait(let reason): throw EntenteError(.rejected, reason)
        case .reject(let error): throw EntenteError(.rejected, error.message, cause: error)
        }
        for (id, state) in states { try tx.saveObject(state, previous: previous[id]) }
        record(from: previous, to: states, author: company, isLocal: true)
        var groups: [(audience: Set<CompanyID>, operations: [Operation])] = []
        for operation in operations {
            guard let state = states[operation.object] else { continue }
            let audience = state.audience(of: operation)
            if let index = groups.firstIndex(where: { $0.audience == audience }) {
                groups[index].operations.append(operation)
            } else {
                groups.append((audience, [operation]))
            }
        }
        for group in groups { try emit(group.operations, to: group.audience, tx) }
        try saveClock(tx)
    }

    /// Seals operations for an audience (in chunks), logs the envelopes as applied, and returns how many.
    @discardableResult
    func emit(_ operations: [Operation], to audience: Set<CompanyID>, _ tx: StoreTransaction) throws -> Int {
        guard !operations.isEmpty else { return 0 }
        var addressees: [(CompanyID, BoxPublicKey)] = []
        for member in audience.sorted() {
            guard let known = try tx.company(member) else {
                throw EntenteError(.unknownCompany, "company \(member.short) takes part but is not a pinned partner; add its card")
            }
            addressees.append((member, known.card.encryptionKey))
        }
        var count = 0
        var start = 0
        while start < operations.count {
            let chunk = Array(operations[start..<min(start + Self.operationsPerEnvelope, operations.count)])
            var list: [Addressee] = []
            for (member, key) in addressees {
                list.append(Addressee(company: member, encryptionKey: key, sequence: try tx.nextSequence(for: member)))
            }
            let envelope = try Envelope.seal(chunk, from: credentials, to: list)
            try tx.logEnvelope(envelope, status: .applied)
            count += 1
            start += chunk.count
        }
        return count
    }
}

import EntenteCrypto
