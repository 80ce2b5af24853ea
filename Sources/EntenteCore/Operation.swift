/// One change to one object. Operations are grouped into batches and carried by envelopes.
public struct Operation: Hashable, Sendable {
    /// What the operation does.
    public enum Kind: Hashable, Sendable {
        /// Creates the object. `nonce` binds the id to its owner: `id = derive(owner, nonce)`, checked by the
        /// wire layer before an operation reaches the core.
        case create(type: String, nonce: [UInt8])
        /// Adds a company to the participants (owner only).
        case addParticipant(CompanyID)
        /// Removes a company from the participants (owner only; never the owner itself).
        case removeParticipant(CompanyID)
        /// Archives (true) or restores (false) the object (owner only).
        case archive(Bool)
        /// Writes a field. `preds` are the timestamps of the field's writes the writer had seen.
        case set(FieldKey, Value, Visibility, preds: [Timestamp])
        /// Adds an element to a set field.
        case addElement(FieldKey, String, Visibility)
        /// Removes an element from a set field: the adds in `observed` (and older adds by the same replicas).
        case removeElement(FieldKey, String, observed: [Timestamp], Visibility)
    }

    /// The object changed.
    public var object: ObjectID
    /// When, by the issuing replica's hybrid clock.
    public var timestamp: Timestamp
    /// What.
    public var kind: Kind
    /// The company that wrote a field operation, when it is not the envelope's signer: the owner re-sends
    /// other participants' joint values to a newcomer with their original writer. `nil` means the signer.
    public var writer: CompanyID?

    /// Creates an operation.
    public init(object: ObjectID, timestamp: Timestamp, kind: Kind, writer: CompanyID? = nil) {
        self.object = object
        self.timestamp = timestamp
        self.kind = kind
        self.writer = writer
    }

    /// The longest type name accepted, in UTF-8 bytes.
    public static let maxTypeBytes = 64
    /// The longest set element or enumeration value accepted, in UTF-8 bytes.
    public static let maxElementBytes = 1024
    /// The longest string value accepted, in UTF-8 bytes.
    public static let maxStringBytes = 1 << 20
    /// Most timestamps in a write's predecessors or a remove's observed adds.
    public static let maxTimestampList = 256

    /// True for operations only the owner may issue (create, membership, archive).
    public var isOwnerOperation: Bool {
        switch kind {
        case .create, .addParticipant, .removeParticipant, .archive: true
        case .set, .addElement, .removeElement: false
        }
    }

    /// The field an operation writes, if any.
    public var field: FieldKey? {
        switch kind {
        case .set(let key, _, _, _), .addElement(let key, _, _), .removeElement(let key, _, _, _): key
        case .create, .addParticipant, .removeParticipant, .archive: nil
        }
    }

    /// The checks that depend on nothing but the operation and its signer: valid names, a company writing
    /// only its own namespace, joint fields visible to all. Returns the refusal, or nil if the operation passes.
    public func validate(author: CompanyID) -> AuthorityError? {
        let writer = self.writer ?? author
        switch kind {
        case .create(let type, _):
            guard type.utf8.count <= Operation.maxTypeBytes, FieldKey.isValidName(type) else {
                return AuthorityError(.invalidName, "object type '\(type)' is not a valid name")
            }
        case .addParticipant, .removeParticipant, .archive:
            break
        case .set(let key, _, let visibility, _), .addElement(let key, _, let visibility),
            .removeElement(let key, _, _, let visibility):
            guard FieldKey.isValidName(key.name) else {
                return AuthorityError(.invalidName, "field name '\(key.name)' is not valid")
            }
            switch kind {
            case .addElement(_, let element, _), .removeElement(_, let element, _, _):
                guard element.utf8.count <= Operation.maxElementBytes,
                    !element.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f })
                else {
                    return AuthorityError(
                        .invalidName,
                        "set element must be at most \(Operation.maxElementBytes) bytes without control characters"
                    )
                }
            case .set(_, .enumeration(let text), _, _) where text.utf8.count > Operation.maxElementBytes:
                return AuthorityError(
                    .invalidName,
                    "enumeration value of \(text.utf8.count) bytes is over \(Operation.maxElementBytes)"
                )
            case .set(_, .string(let text), _, _) where text.utf8.count > Operation.maxStringBytes:
                return AuthorityError(
                    .invalidName,
                    "string value of \(text.utf8.count) bytes is over \(Operation.maxStringBytes)"
                )
            default: break
            }
            switch kind {
            case .set(_, _, _, let stamps), .removeElement(_, _, let stamps, _):
                guard stamps.count <= Operation.maxTimestampList else {
                    return AuthorityError(
                        .invalidAudience,
                        "an operation lists \(stamps.count) timestamps, over \(Operation.maxTimestampList)"
                    )
                }
                // A writer can only have seen the past: this also guarantees that merging a write never
                // supersedes the write itself, so a field always keeps at least one head.
                guard stamps.allSatisfy({ $0 < timestamp }) else {
                    return AuthorityError(
                        .invalidAudience,
                        "an operation claims to have seen a write newer than itself"
                    )
                }
            default: break
            }
            if case .companies(let named) = visibility, named.count > 64 {
                return AuthorityError(.invalidAudience, "a visibility names \(named.count) companies, over 64")
            }
            switch key.namespace {
            case .joint:
                guard visibility == .participants else {
                    return AuthorityError(
                        .invalidAudience,
                        "joint field '\(key.name)' must be visible to all participants"
                    )
                }
            case .company(let company):
                guard company == writer else {
                    return AuthorityError(
                        .foreignNamespace,
                        "company \(writer.short) tried to write field '\(key.name)' of company \(company.short)"
                    )
                }
            }
        }
        if isOwnerOperation, self.writer != nil, self.writer != author {
            return AuthorityError(.notOwner, "an ownership operation cannot name another writer")
        }
        return nil
    }
}
