/// The merged state of one shared object on one replica: a pure value, changed only by `apply`.
///
/// The state is a function of the set of operations applied, not of their order: registers are
/// last-writer-wins, the participant set only grows (each member keeps its earliest join time), and a
/// create is idempotent. Authority is checked by `decide` before `apply`.
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
    /// Participants and the timestamp from which each may write.
    public private(set) var participants: [CompanyID: Timestamp] = [:]
    /// Field registers.
    public private(set) var fields: [FieldKey: Register] = [:]

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
        participants: [CompanyID: Timestamp],
        fields: [FieldKey: Register]
    ) {
        self.id = id
        self.type = type
        self.owner = owner
        self.created = created
        self.createNonce = createNonce
        self.participants = participants
        self.fields = fields
    }

    /// True once the create operation has been applied.
    public var exists: Bool { owner != nil }

    /// True if `company` is a participant (the owner always is).
    public func isParticipant(_ company: CompanyID) -> Bool { participants[company] != nil }

    /// Checks whether `author` may apply `operation` now, must wait for more operations, or is refused.
    ///
    /// Refusals depend only on the operation itself (`Operation.validate`) or on facts that never change once
    /// known (the owner); anything that more operations could still make valid waits instead, so every
    /// replica reaches the same outcome whatever the delivery order.
    public func decide(_ operation: Operation, author: CompanyID) -> Decision {
        if let error = operation.validate(author: author) { return .reject(error) }
        switch operation.kind {
        case .create(let type, let nonce):
            guard let owner else { return .apply }
            if owner == author && self.type == type && createNonce == nonce { return .apply }
            return .reject(
                AuthorityError(.conflictingCreate, "object \(id.short) already exists with another owner or type")
            )
        case .addParticipant:
            guard let owner else { return .wait("object \(id.short) has not been received yet") }
            guard owner == author else {
                return .reject(
                    AuthorityError(.notOwner, "only the owner \(owner.short) may change who takes part in \(id.short)")
                )
            }
            return .apply
        case .set:
            guard exists else { return .wait("object \(id.short) has not been received yet") }
            // An earlier invitation may still be on its way, so a write dated before the known one waits.
            guard let joined = participants[author], operation.timestamp > joined else {
                return .wait("company \(author.short) is not (yet) a participant of \(id.short)")
            }
            return .apply
        }
    }

    /// Applies an operation that `decide` allowed. Returns true if the visible state changed.
    @discardableResult
    public mutating func apply(_ operation: Operation, author: CompanyID) -> Bool {
        switch operation.kind {
        case .create(let type, let nonce):
            guard owner == nil else { return false }
            self.type = type
            self.owner = author
            self.created = operation.timestamp
            self.createNonce = nonce
            join(author, at: operation.timestamp)
            return true
        case .addParticipant(let company):
            return join(company, at: operation.timestamp)
        case .set(let key, let value, let visibility):
            let incoming = Register(value: value, timestamp: operation.timestamp, visibility: visibility)
            if let current = fields[key], !incoming.wins(over: current) { return false }
            fields[key] = incoming
            return true
        }
    }

    @discardableResult
    private mutating func join(_ company: CompanyID, at timestamp: Timestamp) -> Bool {
        if let current = participants[company], current <= timestamp { return false }
        participants[company] = timestamp
        return true
    }

    /// The companies entitled to an operation on this object (computed on the state after applying it).
    public func audience(of operation: Operation) -> Set<CompanyID> {
        switch operation.kind {
        case .create, .addParticipant:
            return Set(participants.keys)
        case .set(let key, _, let visibility):
            return audience(of: key, visibility: visibility)
        }
    }

    /// The companies entitled to a field with the given visibility.
    public func audience(of key: FieldKey, visibility: Visibility) -> Set<CompanyID> {
        switch key.namespace {
        case .joint:
            return Set(participants.keys)
        case .company(let company):
            switch visibility {
            case .private: return [company]
            case .participants: return Set(participants.keys).union([company])
            case .companies(let named): return named.intersection(participants.keys).union([company])
            }
        }
    }

    /// True if `company` is entitled to read the field.
    public func isVisible(_ key: FieldKey, to company: CompanyID) -> Bool {
        guard let register = fields[key] else { return false }
        return audience(of: key, visibility: register.visibility).contains(company)
    }

    /// What the owner sends a newcomer so that it can hold the object: the create, the participant set,
    /// the joint fields, and the owner's own fields visible to the newcomer. Timestamps are the originals.
    public func snapshot(for newcomer: CompanyID) -> [Operation] {
        guard let owner, let created, let type else { return [] }
        var operations = [Operation(object: id, timestamp: created, kind: .create(type: type, nonce: createNonce))]
        for (company, joined) in participants.sorted(by: { $0.value < $1.value }) where company != owner {
            operations.append(Operation(object: id, timestamp: joined, kind: .addParticipant(company)))
        }
        for (key, register) in fields.sorted(by: { $0.key < $1.key }) {
            let ownerField = key.namespace == .company(owner) && isVisible(key, to: newcomer)
            if key.namespace == .joint || ownerField {
                operations.append(
                    Operation(object: id, timestamp: register.timestamp, kind: .set(key, register.value, register.visibility))
                )
            }
        }
        return operations
    }

    /// What a non-owner participant re-sends a newcomer: its own fields that the newcomer may now read.
    public func reemission(of company: CompanyID, for newcomer: CompanyID) -> [Operation] {
        fields.sorted(by: { $0.key < $1.key }).compactMap { key, register in
            guard key.namespace == .company(company), isVisible(key, to: newcomer) else { return nil }
            return Operation(object: id, timestamp: register.timestamp, kind: .set(key, register.value, register.visibility))
        }
    }
}
