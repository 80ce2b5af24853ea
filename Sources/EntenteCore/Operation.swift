/// One change to one object. Operations are grouped into batches and carried by envelopes.
public struct Operation: Hashable, Sendable {
    /// What the operation does.
    public enum Kind: Hashable, Sendable {
        /// Creates the object. `nonce` binds the id to its owner: `id = derive(owner, nonce)`, checked by the
        /// wire layer before an operation reaches the core.
        case create(type: String, nonce: [UInt8])
        /// Adds a company to the participant set (owner only).
        case addParticipant(CompanyID)
        /// Writes a field.
        case set(FieldKey, Value, Visibility)
    }

    /// The object changed.
    public var object: ObjectID
    /// When, by the issuing replica's hybrid clock.
    public var timestamp: Timestamp
    /// What.
    public var kind: Kind

    /// Creates an operation.
    public init(object: ObjectID, timestamp: Timestamp, kind: Kind) {
        self.object = object
        self.timestamp = timestamp
        self.kind = kind
    }

    /// The longest type name accepted, in UTF-8 bytes.
    public static let maxTypeBytes = 64

    /// The checks that depend on nothing but the operation and its author: valid names, a company writing only
    /// its own namespace, joint fields visible to all. Returns the refusal, or nil if the operation passes.
    public func validate(author: CompanyID) -> AuthorityError? {
        switch kind {
        case .create(let type, _):
            guard type.utf8.count <= Operation.maxTypeBytes, FieldKey.isValidName(type) else {
                return AuthorityError(.invalidName, "object type '\(type)' is not a valid name")
            }
        case .addParticipant:
            break
        case .set(let key, _, let visibility):
            guard FieldKey.isValidName(key.name) else {
                return AuthorityError(.invalidName, "field name '\(key.name)' is not valid")
            }
            switch key.namespace {
            case .joint:
                guard visibility == .participants else {
                    return AuthorityError(.invalidAudience, "joint field '\(key.name)' must be visible to all participants")
                }
            case .company(let company):
                guard company == author else {
                    return AuthorityError(
                        .foreignNamespace,
                        "company \(author.short) tried to write field '\(key.name)' of company \(company.short)"
                    )
                }
            }
        }
        return nil
    }
}
