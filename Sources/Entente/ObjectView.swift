import EntenteCore
import EntenteStore
import EntenteWire

/// A company as shown to users: id and, if pinned, name.
public struct CompanyRef: Hashable, Sendable, Comparable {
    /// The company id.
    public let id: CompanyID
    /// Its pinned name, or the id prefix.
    public let name: String
    /// Orders by name.
    public static func < (lhs: CompanyRef, rhs: CompanyRef) -> Bool { (lhs.name, lhs.id) < (rhs.name, rhs.id) }
}

/// One field as a user sees it.
public struct FieldView: Hashable, Sendable {
    /// The field name.
    public let name: String
    /// Its value.
    public let value: Value
    /// Who may read it.
    public let visibility: Visibility
    /// The names of the companies that may read it, for display ("all participants" is `nil`).
    public let sharedWith: [String]?
    /// When it was last written.
    public let timestamp: Timestamp
}

/// An object as this company sees it.
public struct ObjectView: Hashable, Sendable {
    /// The id.
    public let id: ObjectID
    /// The type.
    public let type: String
    /// The owner.
    public let owner: CompanyRef
    /// Every participant, owner included.
    public let participants: [CompanyRef]
    /// Joint fields, by name.
    public let joint: [FieldView]
    /// Each company's own fields this node holds, by company (this company's private fields included).
    public let fields: [(company: CompanyRef, fields: [FieldView])]
    /// The names of this company's private fields.
    public let privateFields: [String]

    /// Compares everything shown.
    public static func == (lhs: ObjectView, rhs: ObjectView) -> Bool {
        lhs.id == rhs.id && lhs.type == rhs.type && lhs.owner == rhs.owner && lhs.participants == rhs.participants
            && lhs.joint == rhs.joint && lhs.privateFields == rhs.privateFields
            && lhs.fields.map(\.company) == rhs.fields.map(\.company) && lhs.fields.map(\.fields) == rhs.fields.map(\.fields)
    }

    /// Hashes the id and joint fields.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(joint)
    }
}

/// A line of `list`.
public struct ObjectSummary: Hashable, Sendable {
    /// The id.
    public let id: ObjectID
    /// The type.
    public let type: String
    /// The owner.
    public let owner: CompanyRef
    /// The joint title, if set.
    public let title: String?
}

extension Node {
    /// Finds an object by full id or unique prefix (at least 6 hex digits).
    public func resolveObject(_ text: String) throws(EntenteError) -> ObjectID {
        let needle = text.lowercased()
        guard needle.count >= 6, Hex.decode(needle.count % 2 == 0 ? needle : needle + "0") != nil else {
            throw EntenteError(.invalidArgument, "'\(text)' is not an object id (give at least 6 hex digits)")
        }
        let matches = try reading { tx in try tx.objectIDs(withPrefix: needle) }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw EntenteError(.notFound, "no object with id \(text) on this node (run `entente list`)")
        default: throw EntenteError(.ambiguous, "id prefix \(text) matches \(matches.count) objects; give more digits")
        }
    }

    /// The object as this company sees it; `hidePrivate` leaves this company's private fields out.
    public func object(_ id: ObjectID, hidePrivate: Bool = false) throws(EntenteError) -> ObjectView {
        try reading { tx in
            guard let state = try tx.loadObject(id), let owner = state.owner, let type = state.type else {
                throw EntenteError(.notFound, "no object \(id.short) on this node")
            }
            let names = try names(tx)
            func ref(_ company: CompanyID) -> CompanyRef { CompanyRef(id: company, name: names[company] ?? company.short) }
            func view(_ key: FieldKey, _ register: Register) -> FieldView {
                let sharedWith: [String]?
                switch register.visibility {
                case .participants: sharedWith = nil
                case .private: sharedWith = []
                case .companies(let set): sharedWith = set.map { ref($0).name }.sorted()
                }
                return FieldView(name: key.name, value: register.value, visibility: register.visibility, sharedWith: sharedWith, timestamp: register.timestamp)
            }
            let sorted = state.fields.sorted { $0.key < $1.key }
            let joint = sorted.filter { $0.key.namespace == .joint }.map { view($0.key, $0.value) }
            var byCompany: [CompanyID: [FieldView]] = [:]
            for (key, register) in sorted {
                guard case .company(let writer) = key.namespace else { continue }
                if hidePrivate, writer == company, register.visibility == .private { continue }
                byCompany[writer, default: []].append(view(key, register))
            }
            let privateFields = sorted.filter { $0.key.namespace == .company(company) && $0.value.visibility == .private }.map(\.key.name)
            return ObjectView(
                id: id,
                type: type,
                owner: ref(owner),
                participants: state.participants.keys.map(ref).sorted(),
                joint: joint,
                fields: byCompany.map { (ref($0.key), $0.value) }.sorted { $0.0 < $1.0 },
                privateFields: hidePrivate ? [] : privateFields
            )
        }
    }

    /// Objects of `type` (or all), oldest first.
    public func objects(type: String? = nil) throws(EntenteError) -> [ObjectSummary] {
        try reading { tx in
            let names = try names(tx)
            return try tx.objectList(type: type).map { item in
                let title = try tx.loadObject(item.id)?.fields[FieldKey(.joint, "title")].map { "\($0.value)" }
                return ObjectSummary(
                    id: item.id,
                    type: item.type,
                    owner: CompanyRef(id: item.owner, name: names[item.owner] ?? item.owner.short),
                    title: title
                )
            }
        }
    }

    /// Counts for `entente status`.
    public func status() throws(EntenteError) -> NodeStatus {
        try reading { tx in
            NodeStatus(
                company: card.name,
                companyID: company,
                replica: replica,
                objects: try tx.objectList(type: nil).count,
                partners: try tx.companies().count - 1,
                envelopes: try tx.envelopeCount(),
                waiting: try tx.waitingEnvelopes().map(\.reason)
            )
        }
    }
}

/// What `entente status` shows.
public struct NodeStatus: Hashable, Sendable {
    /// This company's name.
    public let company: String
    /// This company's id.
    public let companyID: CompanyID
    /// This replica's id.
    public let replica: ReplicaID
    /// Objects held.
    public let objects: Int
    /// Pinned partners.
    public let partners: Int
    /// Envelopes in the log.
    public let envelopes: Int
    /// Why each waiting envelope waits.
    public let waiting: [String]
}
