/// Where a field lives: the joint namespace, co-edited by every participant, or one company's own namespace.
public enum Namespace: Hashable, Sendable, Comparable {
    /// Editable by every participant of the object; visible to every participant.
    case joint
    /// Written by that company only; visible as its visibility says.
    case company(CompanyID)
}

/// A field's full name: namespace plus name.
public struct FieldKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The namespace.
    public var namespace: Namespace
    /// The field name (1...128 bytes of UTF-8).
    public var name: String

    /// Creates a key.
    public init(_ namespace: Namespace, _ name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Orders by namespace, then name bytes.
    public static func < (lhs: FieldKey, rhs: FieldKey) -> Bool {
        if lhs.namespace != rhs.namespace { return lhs.namespace < rhs.namespace }
        return lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
    }

    /// `joint.name` or `<company-prefix>.name`.
    public var description: String {
        switch namespace {
        case .joint: "joint.\(name)"
        case .company(let company): "\(company.short).\(name)"
        }
    }

    /// The longest field name accepted, in UTF-8 bytes.
    public static let maxNameBytes = 128

    /// True if the name is 1...128 bytes and has no control characters.
    public static func isValidName(_ name: String) -> Bool {
        let count = name.utf8.count
        return count > 0 && count <= maxNameBytes
            && !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
    }
}

/// Who may read a company-owned field. Joint fields are always visible to all participants.
public enum Visibility: Hashable, Sendable, Comparable {
    /// The owning company only: the value never leaves it.
    case `private`
    /// Every participant of the object.
    case participants
    /// The named companies (the owning company is always included implicitly).
    case companies(Set<CompanyID>)

    private var rank: Int {
        switch self {
        case .private: 0
        case .participants: 1
        case .companies: 2
        }
    }

    /// A deterministic total order, used only as a tie-break.
    public static func < (lhs: Visibility, rhs: Visibility) -> Bool {
        if case .companies(let left) = lhs, case .companies(let right) = rhs {
            return left.sorted().lexicographicallyPrecedes(right.sorted())
        }
        return lhs.rank < rhs.rank
    }
}

/// One write of a field: the value, when, who, with which visibility, and which writes it had seen.
public struct Register: Hashable, Sendable {
    /// The value.
    public var value: Value
    /// The write's timestamp.
    public var timestamp: Timestamp
    /// The visibility the writer declared with it.
    public var visibility: Visibility
    /// The company that wrote it (for a value re-sent by the owner, the original writer).
    public var writer: CompanyID
    /// The timestamps of the field's values the writer had seen when it wrote (its "heads"); empty for a first
    /// write. A write supersedes the writes it had seen; writes nobody superseded are conflicts.
    public var preds: [Timestamp]

    /// Creates a register.
    public init(value: Value, timestamp: Timestamp, visibility: Visibility, writer: CompanyID, preds: [Timestamp] = [])
    {
        self.value = value
        self.timestamp = timestamp
        self.visibility = visibility
        self.writer = writer
        self.preds = preds
    }

    /// True if `self` beats `other` under last-writer-wins: later timestamp, then (only for equal
    /// timestamps, which an honest replica never issues twice) the larger value, then visibility.
    public func wins(over other: Register) -> Bool {
        if timestamp != other.timestamp { return timestamp > other.timestamp }
        if value != other.value { return value > other.value }
        if visibility != other.visibility { return visibility > other.visibility }
        return writer > other.writer
    }
}

/// A field's state: a multi-value register whose newest write wins, keeping the concurrent writes it beat.
///
/// `heads` are the writes no other received write has superseded (listed in its `preds`); the first is the
/// winner, the rest are conflicts. `superseded` remembers, per replica, the newest of its writes that
/// someone superseded: a replica's own writes to a field are ordered, so everything it wrote up to then is
/// superseded too. That keeps the state bounded by the number of replicas, whatever the number of writes,
/// and makes it a function of the set of writes received (merge order does not matter).
public struct FieldState: Hashable, Sendable {
    /// Writes not superseded, winner first.
    public private(set) var heads: [Register]
    /// Per replica (at most one each, in replica order), the newest superseded write timestamp. A small array:
    /// a field has seen few writing replicas, and a dictionary per field cost an allocation and hashing on every
    /// load and merge.
    public private(set) var superseded: [Timestamp]

    /// A field holding one write.
    public init(_ write: Register) {
        heads = [write]
        superseded = []
        for pred in write.preds { _ = supersede(pred) }
    }

    /// Rebuilds a field from persisted parts (no checks); of several marks of one replica, the newest counts.
    public init(heads: [Register], superseded: [Timestamp]) {
        self.heads = heads.count > 1 ? heads.sorted { $0.wins(over: $1) } : heads
        guard superseded.count > 1 else {
            self.superseded = superseded
            return
        }
        var marks: [Timestamp] = []
        for stamp in superseded.sorted(by: { ($0.replica, $0) < ($1.replica, $1) }) {
            if marks.last?.replica == stamp.replica { marks[marks.count - 1] = stamp } else { marks.append(stamp) }
        }
        self.superseded = marks
    }

    /// The current value's write.
    public var winner: Register { heads[0] }
    /// Concurrent writes that lost to the winner and that nobody has superseded yet.
    public var conflicts: ArraySlice<Register> { heads.dropFirst() }

    /// Merges a write. Returns true if the heads changed.
    @discardableResult
    public mutating func merge(_ write: Register) -> Bool {
        var changed = false
        // A write that arrives after something superseded it never becomes a head, but what it had seen
        // still counts: dropping its predecessors would leave them as false conflicts on this replica only.
        let isSuperseded = supersededMark(of: write.timestamp.replica).map { write.timestamp <= $0 } ?? false
        if !isSuperseded && !heads.contains(write) {
            heads.append(write)
            changed = true
        }
        for pred in write.preds where supersede(pred) { changed = true }
        if changed, heads.count > 1 { heads.sort { $0.wins(over: $1) } }
        return changed
    }

    /// The index of `replica`'s mark in `superseded`, or where it would go.
    private func position(of replica: ReplicaID) -> Int {
        var low = 0
        var high = superseded.count
        while low < high {
            let middle = (low + high) / 2
            if superseded[middle].replica < replica { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private func supersededMark(of replica: ReplicaID) -> Timestamp? {
        let index = position(of: replica)
        return index < superseded.count && superseded[index].replica == replica ? superseded[index] : nil
    }

    /// Records `pred` as superseded and drops the heads it covers. Returns true if anything changed.
    private mutating func supersede(_ pred: Timestamp) -> Bool {
        let index = position(of: pred.replica)
        if index < superseded.count && superseded[index].replica == pred.replica {
            if superseded[index] >= pred { return false }
            superseded[index] = pred
        } else {
            superseded.insert(pred, at: index)
        }
        heads.removeAll { $0.timestamp.replica == pred.replica && $0.timestamp <= pred }
        return true
    }
}

/// An add of a set element: when, and by which company.
public struct ElementMark: Hashable, Sendable {
    /// The add's timestamp.
    public var timestamp: Timestamp
    /// The company that added it.
    public var writer: CompanyID

    /// Creates a mark.
    public init(timestamp: Timestamp, writer: CompanyID) {
        self.timestamp = timestamp
        self.writer = writer
    }
}

/// One element of a set field: per replica, its newest add and the newest add a remover had observed.
public struct ElementState: Hashable, Sendable {
    /// Newest add per adding replica.
    public var adds: [ReplicaID: ElementMark] = [:]
    /// Per adding replica, the newest of its adds that a remove had observed.
    public var removes: [ReplicaID: Timestamp] = [:]

    /// Creates an element state.
    public init(adds: [ReplicaID: ElementMark] = [:], removes: [ReplicaID: Timestamp] = [:]) {
        self.adds = adds
        self.removes = removes
    }

    /// The adds no remove has observed.
    public var liveAdds: [ElementMark] {
        adds.values.filter { mark in removes[mark.timestamp.replica].map { mark.timestamp > $0 } ?? true }
            .sorted { $0.timestamp < $1.timestamp }
    }

    /// Present if some replica added it after the last of its adds any remove had observed (add wins).
    public var isPresent: Bool { !liveAdds.isEmpty }

    /// The add timestamps a remover observes now (the newest per replica).
    public var observed: [Timestamp] { adds.values.map(\.timestamp).sorted() }

    mutating func add(_ mark: ElementMark) {
        if let current = adds[mark.timestamp.replica], current.timestamp >= mark.timestamp { return }
        adds[mark.timestamp.replica] = mark
    }

    mutating func remove(observed: [Timestamp]) {
        for stamp in observed where removes[stamp.replica].map({ stamp > $0 }) ?? true {
            removes[stamp.replica] = stamp
        }
    }
}

/// A set of strings as an add-wins observed-remove set: two partners adding different elements both keep
/// theirs, and a remove only removes the adds it had seen.
public struct SetField: Hashable, Sendable {
    /// Every element ever added, present or not (removed ones are bounded tombstones: one timestamp per
    /// replica that added them).
    public var elements: [String: ElementState] = [:]
    /// The visibility declared by the newest operation on the field.
    public var visibility: Visibility
    /// The timestamp of that newest operation.
    public var visibilityStamp: Timestamp

    /// Creates an empty set field.
    public init(visibility: Visibility, visibilityStamp: Timestamp, elements: [String: ElementState] = [:]) {
        self.visibility = visibility
        self.visibilityStamp = visibilityStamp
        self.elements = elements
    }

    /// The present elements, sorted.
    public var members: [String] {
        elements.filter(\.value.isPresent).keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    mutating func declare(_ visibility: Visibility, at stamp: Timestamp) {
        if stamp > visibilityStamp || (stamp == visibilityStamp && visibility > self.visibility) {
            self.visibility = visibility
            visibilityStamp = stamp
        }
    }
}
