/// One membership change of one company, by the owner.
public struct MembershipEvent: Hashable, Sendable, Comparable {
    /// When.
    public var timestamp: Timestamp
    /// True for an invitation, false for a removal.
    public var isMember: Bool

    /// Creates an event.
    public init(timestamp: Timestamp, isMember: Bool) {
        self.timestamp = timestamp
        self.isMember = isMember
    }

    /// Orders by timestamp.
    public static func < (lhs: MembershipEvent, rhs: MembershipEvent) -> Bool { lhs.timestamp < rhs.timestamp }
}

/// The owner's archive flag and the timestamp that set it (last writer wins).
public struct ArchiveFlag: Hashable, Sendable {
    /// True if archived.
    public var value: Bool
    /// When the owner set it.
    public var timestamp: Timestamp

    /// Creates a flag.
    public init(value: Bool, timestamp: Timestamp) {
        self.value = value
        self.timestamp = timestamp
    }
}

/// The merged state of one shared object on one replica: a pure value, changed only by `apply`.
///
/// The state is a function of the set of operations applied, not of their order: fields are multi-value
/// registers whose newest write wins, sets are add-wins observed-remove sets, membership is the set of the
/// owner's invitation and removal events, the archive flag is last-writer-wins, and a create is idempotent.
/// Authority is checked by `decide` before `apply` (rules: `Specs/crdt.md`).
public struct ObjectState: Hashable, Sendable {
    /// The object's id.
    public let id: ObjectID
    /// The object's type (for example `opportunity`), once its create operation arrived.
    public private(set) var type: String?
    /// The owning company, once the create operation arrived.
    public private(set) var owner: CompanyID?
    /// The create operation's timestamp.
    public private(set) var created: Timestamp?
    /// The create operation's nonce, kept so that the owner can re-send the create to newcomers.
    public private(set) var createNonce: [UInt8] = []
    /// Every invitation and removal, per company, oldest first.
    public private(set) var membership: [CompanyID: [MembershipEvent]] = [:]
    /// The archive flag and the timestamp that set it.
    public private(set) var archived: ArchiveFlag?
    /// Scalar fields.
    public private(set) var fields: [FieldKey: FieldState] = [:]
    /// Set fields.
    public private(set) var sets: [FieldKey: SetField] = [:]

    /// An object nothing is known about yet.
    public init(id: ObjectID) {
        self.id = id
    }

    /// Rebuilds a state from persisted parts (used by the store; no checks).
    public init(
        id: ObjectID,
        type: String?,
        owner: CompanyID?,
        created: Timestamp?,
        createNonce: [UInt8],
        membership: [CompanyID: [MembershipEvent]],
        archived: ArchiveFlag?,
        fields: [FieldKey: FieldState],
        sets: [FieldKey: SetField]
    ) {
        self.id = id
        self.type = type
        self.owner = owner
        self.created = created
        self.createNonce = createNonce
        self.membership = membership.mapValues { $0.sorted() }
        self.archived = archived
        self.fields = fields
        self.sets = sets
    }

    /// True once the create operation has been applied.
    public var exists: Bool { owner != nil }

    /// True if the object is archived.
    public var isArchived: Bool { archived?.value ?? false }

    /// The current participants: the owner and every company whose latest membership event is an invitation.
    public var participants: Set<CompanyID> {
        var result = Set(membership.compactMap { company, events in events.last?.isMember == true ? company : nil })
        if let owner { result.insert(owner) }
        return result
    }

    /// True if `company` takes part now.
    public func isParticipant(_ company: CompanyID) -> Bool {
        company == owner || membership[company]?.last?.isMember == true
    }

    /// True if `company` took part at `timestamp`: the owner from the object's creation, any other company
    /// if its latest membership event before `timestamp` is an invitation.
    public func isParticipant(_ company: CompanyID, at timestamp: Timestamp) -> Bool {
        if company == owner, let created { return timestamp > created }
        guard let events = membership[company] else { return false }
        return events.last { $0.timestamp < timestamp }?.isMember ?? false
    }

    /// The earliest timestamp from which `company` is a participant now (its latest invitation).
    public func joined(_ company: CompanyID) -> Timestamp? {
        if company == owner { return created }
        guard let last = membership[company]?.last, last.isMember else { return nil }
        return last.timestamp
    }

    /// Checks whether `author` may apply `operation` now, must wait for more operations, or is refused.
    ///
    /// Refusals depend only on the operation itself (`Operation.validate`) or on facts that never change once
    /// known (the owner); anything that more operations could still make valid waits instead, so every
    /// replica reaches the same outcome whatever the delivery order.
    public func decide(_ operation: Operation, author: CompanyID) -> Decision {
        if let error = operation.validate(author: author)
            ?? Merge.refusal(of: operation, author: author, creation: creation, id: id)
        {
            return .reject(error)
        }
        return waitReason(operation, author: author).map(Decision.wait) ?? .apply
    }

    /// Why an operation that is not refused must wait for more operations, or nil if it applies now: its object
    /// has not been received, or its writer did not take part when it wrote (an invitation covering the write
    /// may still be on its way).
    func waitReason(_ operation: Operation, author: CompanyID) -> String? {
        guard owner != nil else {
            if case .create = operation.kind { return nil }
            return "object \(id.short) has not been received yet"
        }
        guard !operation.isOwnerOperation else { return nil }
        let writer = operation.writer ?? author
        guard isParticipant(writer, at: operation.timestamp) else {
            return "company \(writer.short) was not a participant of \(id.short) when it wrote"
        }
        return nil
    }

    /// The object's create, once applied: all the refusal rules need to know about the object.
    public var creation: Creation? {
        owner.map { Creation(owner: $0, type: type ?? "", nonce: createNonce) }
    }

    /// What applying an operation did.
    public struct Effect: Hashable, Sendable {
        /// The visible state changed.
        public var changed = false
        /// A removal was recorded: writes already applied may now be invalid, so the object must be rebuilt.
        public var removal = false
    }

    /// Applies an operation that `decide` allowed.
    @discardableResult
    public mutating func apply(_ operation: Operation, author: CompanyID) -> Effect {
        var effect = Effect()
        let writer = operation.writer ?? author
        switch operation.kind {
        case .create(let type, let nonce):
            guard owner == nil else { return effect }
            self.type = type
            owner = author
            created = operation.timestamp
            createNonce = nonce
            effect.changed = true
        case .addParticipant(let company), .removeParticipant(let company):
            let isMember: Bool
            if case .addParticipant = operation.kind { isMember = true } else { isMember = false }
            let event = MembershipEvent(timestamp: operation.timestamp, isMember: isMember)
            var events = membership[company] ?? []
            guard !events.contains(where: { $0.timestamp == event.timestamp }) else { return effect }
            events.append(event)
            events.sort()
            membership[company] = events
            effect.changed = true
            effect.removal = !isMember
        case .archive(let value):
            if let current = archived, current.timestamp >= operation.timestamp { return effect }
            archived = ArchiveFlag(value: value, timestamp: operation.timestamp)
            effect.changed = true
        case .set(let key, let value, let visibility, let preds):
            let write = Register(
                value: value,
                timestamp: operation.timestamp,
                visibility: visibility,
                writer: writer,
                preds: preds
            )
            if fields[key] == nil {
                fields[key] = FieldState(write)
                effect.changed = true
            } else {
                effect.changed = fields[key]?.merge(write) ?? false
            }
        case .addElement(let key, let element, let visibility):
            var field = sets[key] ?? SetField(visibility: visibility, visibilityStamp: operation.timestamp)
            field.declare(visibility, at: operation.timestamp)
            field.elements[element, default: ElementState()].add(
                ElementMark(timestamp: operation.timestamp, writer: writer)
            )
            effect.changed = sets[key] != field
            sets[key] = field
        case .removeElement(let key, let element, let observed, let visibility):
            var field = sets[key] ?? SetField(visibility: visibility, visibilityStamp: operation.timestamp)
            field.declare(visibility, at: operation.timestamp)
            field.elements[element, default: ElementState()].remove(observed: observed)
            effect.changed = sets[key] != field
            sets[key] = field
        }
        return effect
    }

    /// The companies entitled to an operation on this object (computed on the state after applying it).
    public func audience(of operation: Operation) -> Set<CompanyID> {
        audience(of: operation, participants: participants)
    }

    /// `audience(of:)` with the object's current `participants` already computed (a caller asking for many
    /// operations on one object computes them once).
    public func audience(of operation: Operation, participants: Set<CompanyID>) -> Set<CompanyID> {
        switch operation.kind {
        case .create, .addParticipant, .archive:
            return participants
        case .removeParticipant(let company):
            return participants.union([company])  // the removed company learns it was removed
        case .set(let key, _, let visibility, _), .addElement(let key, _, let visibility),
            .removeElement(let key, _, _, let visibility):
            return audience(of: key, visibility: visibility, participants: participants)
        }
    }

    /// The companies entitled to a field with the given visibility.
    public func audience(of key: FieldKey, visibility: Visibility) -> Set<CompanyID> {
        audience(of: key, visibility: visibility, participants: participants)
    }

    private func audience(of key: FieldKey, visibility: Visibility, participants: Set<CompanyID>) -> Set<CompanyID> {
        switch key.namespace {
        case .joint:
            return participants
        case .company(let company):
            switch visibility {
            case .private: return [company]
            case .participants: return participants.union([company])
            case .companies(let named): return named.intersection(participants).union([company])
            }
        }
    }

    /// The visibility a field currently declares (its winner's, or its set's).
    public func visibility(of key: FieldKey) -> Visibility? {
        fields[key]?.winner.visibility ?? sets[key]?.visibility
    }

    /// True if `company` is entitled to read the field now.
    public func isVisible(_ key: FieldKey, to company: CompanyID) -> Bool {
        guard let visibility = visibility(of: key) else { return false }
        return audience(of: key, visibility: visibility).contains(company)
    }

    /// What the owner sends a newcomer so that it can hold the object, in two parts that travel in separate
    /// envelopes: `ownership` (the create, the whole membership history, the archive flag, and the owner's own
    /// fields the newcomer may read) and `relayed` (joint values written by other participants, with their
    /// writers).
    public func snapshot(for newcomer: CompanyID) -> (ownership: [Operation], relayed: [Operation]) {
        guard let owner, let created, let type else { return ([], []) }
        var ownership = [Operation(object: id, timestamp: created, kind: .create(type: type, nonce: createNonce))]
        // The whole membership history, not only the current participants: the newcomer must be able to check
        // that each re-sent write's writer took part when it wrote, including companies removed since.
        for (company, events) in membership.sorted(by: { $0.key < $1.key }) {
            for event in events {
                let kind: Operation.Kind = event.isMember ? .addParticipant(company) : .removeParticipant(company)
                ownership.append(Operation(object: id, timestamp: event.timestamp, kind: kind))
            }
        }
        if let archived {
            ownership.append(Operation(object: id, timestamp: archived.timestamp, kind: .archive(archived.value)))
        }
        var relayed: [Operation] = []
        for (_, operations) in fieldOperations(
            for: newcomer,
            where: { key in key.namespace == .joint || key.namespace == .company(owner) }
        ) {
            for operation in operations {
                if (operation.writer ?? owner) == owner {
                    ownership.append(
                        Operation(object: operation.object, timestamp: operation.timestamp, kind: operation.kind)
                    )
                } else {
                    relayed.append(operation)
                }
            }
        }
        return (ownership, relayed)
    }

    /// What a non-owner participant re-sends a newcomer: its own fields the newcomer may now read.
    public func reemission(of company: CompanyID, for newcomer: CompanyID) -> [Operation] {
        fieldOperations(for: newcomer) { key in key.namespace == .company(company) }
            .flatMap(\.operations)
            .map { Operation(object: $0.object, timestamp: $0.timestamp, kind: $0.kind) }
    }

    /// For set fields `recipient` may read, the removals it must learn to match this replica: per element with
    /// tombstones, the adds removes have observed. The caller issues them as fresh `removeElement` operations
    /// (a re-invited company may still hold adds from its previous membership that were removed meanwhile).
    public func tombstones(
        for recipient: CompanyID,
        where include: (FieldKey) -> Bool
    ) -> [(key: FieldKey, element: String, observed: [Timestamp], visibility: Visibility)] {
        var result: [(FieldKey, String, [Timestamp], Visibility)] = []
        for (key, field) in sets.sorted(by: { $0.key < $1.key }) where include(key) && isVisible(key, to: recipient) {
            for (element, state) in field.elements.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
            where !state.removes.isEmpty {
                result.append((key, element, state.removes.values.sorted(), field.visibility))
            }
        }
        return result
    }

    /// Operations that recreate, for `recipient`, the selected fields' current state: every head of a scalar
    /// field that `recipient` may read (each head is checked against its own visibility: two replicas of a
    /// company may have written the same field concurrently with different audiences), and every live add of a
    /// set `recipient` may read, each with its original writer and timestamp.
    func fieldOperations(
        for recipient: CompanyID,
        where include: (FieldKey) -> Bool
    ) -> [(key: FieldKey, operations: [Operation])] {
        var result: [(FieldKey, [Operation])] = []
        for (key, field) in fields.sorted(by: { $0.key < $1.key }) where include(key) {
            let heads = field.heads.filter { audience(of: key, visibility: $0.visibility).contains(recipient) }
            guard !heads.isEmpty else { continue }
            result.append(
                (
                    key,
                    heads.map { head in
                        Operation(
                            object: id,
                            timestamp: head.timestamp,
                            kind: .set(key, head.value, head.visibility, preds: head.preds),
                            writer: head.writer
                        )
                    }
                )
            )
        }
        for (key, field) in sets.sorted(by: { $0.key < $1.key }) where include(key) && isVisible(key, to: recipient) {
            var operations: [Operation] = []
            for (element, state) in field.elements.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                for mark in state.liveAdds {
                    operations.append(
                        Operation(
                            object: id,
                            timestamp: mark.timestamp,
                            kind: .addElement(key, element, field.visibility),
                            writer: mark.writer
                        )
                    )
                }
            }
            result.append((key, operations))
        }
        return result
    }
}
