import EntenteCore
import EntenteStore
import EntenteWire

/// One operation in an object's history, as proved by the signed envelope that carried it.
public struct HistoryEntry: Hashable, Sendable {
    /// The operation's timestamp.
    public let timestamp: Timestamp
    /// The company whose replica signed the envelope.
    public let company: CompanyRef
    /// The replica that signed it.
    public let replica: ReplicaID
    /// The company that wrote the value, if the signer re-sent someone else's write.
    public let writer: CompanyRef?
    /// The field written, if any.
    public let field: String?
    /// The field's owner (nil for a joint field or a non-field operation).
    public let namespace: CompanyRef?
    /// The value written, if any.
    public let value: Value?
    /// A sentence describing the change.
    public let change: String
    /// False if the operation waits (for example, written by a company that was not a participant then).
    public let applied: Bool
    /// Why it waits.
    public let note: String?
    /// The BLAKE2b-256 hash of the envelope that carried it.
    public let envelope: String
}

extension Node {
    /// Who changed what and when on an object, oldest first, from every logged envelope that touched it
    /// (each one signed by its origin replica, so each line is attributable).
    public func history(_ id: ObjectID) throws(EntenteError) -> [HistoryEntry] {
        try reading { tx in
            let names = try tx.companyNames()
            func ref(_ company: CompanyID) -> CompanyRef {
                CompanyRef(id: company, name: names[company] ?? company.short)
            }
            var entries: [HistoryEntry] = []
            let parts = try tx.parts(of: id)
            guard !parts.isEmpty else { throw EntenteError(.notFound, "no object \(id.short) on this node") }
            for part in parts {
                let envelope = try Envelope(parsing: part.bytes)
                let operations = try envelope.open(as: company, with: encryptionKey)
                for operation in operations where operation.object == id {
                    var field: String?
                    var namespace: CompanyRef?
                    var value: Value?
                    if let key = operation.field {
                        field = key.name
                        if case .company(let owner) = key.namespace { namespace = ref(owner) }
                    }
                    if case .set(_, let written, _, _) = operation.kind { value = written }
                    entries.append(
                        HistoryEntry(
                            timestamp: operation.timestamp,
                            company: ref(envelope.origin),
                            replica: envelope.replica,
                            writer: operation.writer.map(ref),
                            field: field,
                            namespace: namespace,
                            value: value,
                            change: describe(operation, names: names),
                            applied: part.waiting == nil,
                            note: part.waiting,
                            envelope: envelope.hash.description
                        )
                    )
                }
            }
            return entries.sorted { $0.timestamp < $1.timestamp }
        }
    }
}
