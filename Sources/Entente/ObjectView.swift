import EntenteCore
import EntenteDomain
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

/// A concurrent write that lost to a field's current value (neither writer had seen the other's).
public struct ConflictView: Hashable, Sendable {
    /// The losing value.
    public let value: Value
    /// Who wrote it.
    public let writer: CompanyRef
    /// When.
    public let timestamp: Timestamp
}

/// One field as a user sees it.
public struct FieldView: Hashable, Sendable {
    /// The field name.
    public let name: String
    /// Its value (for a set field, `.null`: see `elements`).
    public let value: Value
    /// For a set field, its present elements, sorted; nil for a scalar field.
    public let elements: [String]?
    /// Who may read it.
    public let visibility: Visibility
    /// The names of the companies that may read it, for display ("all participants" is `nil`).
    public let sharedWith: [String]?
    /// When it was last written.
    public let timestamp: Timestamp
    /// The company that wrote the current value.
    public let writer: CompanyRef
    /// Concurrent writes the current value won over; empty unless there is a conflict.
    public let conflicts: [ConflictView]
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
    /// True if the owner archived the object.
    public let archived: Bool

    /// The joint field named `name`, if it has a value or elements.
    public func joint(_ name: String) -> FieldView? {
        joint.first { $0.name == name }
    }

    /// Company `company`'s own field named `name`, if this node holds it.
    public func field(_ name: String, of company: CompanyID) -> FieldView? {
        fields.first { $0.company.id == company }?.fields.first { $0.name == name }
    }

    /// Compares everything shown.
    public static func == (lhs: ObjectView, rhs: ObjectView) -> Bool {
        lhs.id == rhs.id && lhs.type == rhs.type && lhs.owner == rhs.owner && lhs.participants == rhs.participants
            && lhs.joint == rhs.joint && lhs.privateFields == rhs.privateFields && lhs.archived == rhs.archived
            && lhs.fields.map(\.company) == rhs.fields.map(\.company)
            && lhs.fields.map(\.fields) == rhs.fields.map(\.fields)
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
            return view(of: state, owner: owner, type: type, names: try tx.companyNames(), hidePrivate: hidePrivate)
        }
    }

    nonisolated func view(
        of state: ObjectState,
        owner: CompanyID,
        type: String,
        names: [CompanyID: String],
        hidePrivate: Bool
    ) -> ObjectView {
        func ref(_ company: CompanyID) -> CompanyRef { CompanyRef(id: company, name: names[company] ?? company.short) }
        func audience(_ visibility: Visibility) -> [String]? {
            switch visibility {
            case .participants: nil
            case .private: []
            case .companies(let set): set.map { ref($0).name }.sorted()
            }
        }
        var views: [(FieldKey, FieldView)] = []
        let kind = Catalog.kind(named: type)
        for (key, field) in state.fields {
            let heads = kind?.ordered(field, key: key) ?? field.heads
            let winner = heads[0]
            views.append(
                (
                    key,
                    FieldView(
                        name: key.name,
                        value: winner.value,
                        elements: nil,
                        visibility: winner.visibility,
                        sharedWith: audience(winner.visibility),
                        timestamp: winner.timestamp,
                        writer: ref(winner.writer),
                        conflicts: heads.dropFirst().map {
                            ConflictView(value: $0.value, writer: ref($0.writer), timestamp: $0.timestamp)
                        }
                    )
                )
            )
        }
        // A set shows only what every entitled replica converges to: its present elements and its newest live
        // add (a newcomer's snapshot carries live adds, not the removes that emptied other elements).
        for (key, set) in state.sets {
            guard let newest = set.elements.values.flatMap(\.liveAdds).max(by: { $0.timestamp < $1.timestamp }) else {
                continue
            }
            let writer: CompanyID
            switch key.namespace {
            case .joint: writer = newest.writer
            case .company(let company): writer = company
            }
            views.append(
                (
                    key,
                    FieldView(
                        name: key.name,
                        value: .null,
                        elements: set.members,
                        visibility: set.visibility,
                        sharedWith: audience(set.visibility),
                        timestamp: newest.timestamp,
                        writer: ref(writer),
                        conflicts: []
                    )
                )
            )
        }
        // Sorted by key through their positions, in one pass: copying the views to sort and filter them made
        // most of a read's cost.
        let keys = views.map { $0.0 }
        var joint: [FieldView] = []
        var byCompany: [CompanyID: [FieldView]] = [:]
        var privateFields: [String] = []
        for index in keys.indices.sorted(by: { keys[$0] < keys[$1] }) {
            let key = keys[index]
            let field = views[index].1
            guard case .company(let writer) = key.namespace else {
                joint.append(field)
                continue
            }
            if writer == company, field.visibility == .private {
                privateFields.append(key.name)
                if hidePrivate { continue }
            }
            byCompany[writer, default: []].append(field)
        }
        return ObjectView(
            id: state.id,
            type: type,
            owner: ref(owner),
            participants: state.participants.map(ref).sorted(),
            joint: joint,
            fields: byCompany.map { (ref($0.key), $0.value) }.sorted { $0.0 < $1.0 },
            privateFields: hidePrivate ? [] : privateFields,
            archived: state.isArchived
        )
    }

    /// Objects with a conflicted field (one id) or all of them, with their conflicted fields.
    public func conflicts(_ id: ObjectID? = nil) throws(EntenteError) -> [ObjectView] {
        let ids: [ObjectID]
        if let id { ids = [id] } else { ids = try reading { tx in try tx.conflictedObjects() } }
        return try ids.map { id throws(EntenteError) in try object(id) }.filter { view in
            (view.joint + view.fields.flatMap(\.fields)).contains { !$0.conflicts.isEmpty } || ids.count == 1
        }
    }

    /// Objects of `type` (or all), oldest first; archived objects only if `includeArchived`.
    public func objects(type: String? = nil, includeArchived: Bool = false) throws(EntenteError) -> [ObjectSummary] {
        try reading { tx in
            let names = try tx.companyNames()
            let titles = Dictionary(uniqueKeysWithValues: Catalog.all.map { ($0.name, $0.titleField) })
            return try tx.objectList(type: type, includeArchived: includeArchived, titleFields: titles).map { item in
                ObjectSummary(
                    id: item.id,
                    type: item.type,
                    owner: CompanyRef(id: item.owner, name: names[item.owner] ?? item.owner.short),
                    title: item.title.map { "\($0)" }
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
                objects: try tx.objectCount(),
                partners: try tx.companies().count - 1,
                envelopes: try tx.envelopeCount(),
                waiting: try tx.waitingParts().map { "\($0.object.short): \($0.waiting ?? "")" }
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

extension Node {
    /// Calls `body` with every object of `type` (archived ones left out) in creation order, loading them in
    /// chunks of 1,000 (bounded memory, five queries per chunk).
    func forEachObject(of type: String?, _ tx: StoreTransaction, _ body: (ObjectState) throws -> Void) throws {
        let ids = try tx.objectIDs(type: type, includeArchived: false)
        var start = 0
        while start < ids.count {
            let chunk = Array(ids[start..<min(start + 1000, ids.count)])
            start += chunk.count
            let states = try tx.loadObjects(chunk)
            for id in chunk { if let state = states[id] { try body(state) } }
        }
    }
}
