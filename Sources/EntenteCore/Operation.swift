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
}
