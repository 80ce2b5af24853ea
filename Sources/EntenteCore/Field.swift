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
        return count > 0 && count <= maxNameBytes && !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
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

/// A last-writer-wins register: the winning value of one field and the timestamp that won.
public struct Register: Hashable, Sendable {
    /// The current value.
    public var value: Value
    /// The timestamp of the write that produced it.
    public var timestamp: Timestamp
    /// The visibility the writer declared with it.
    public var visibility: Visibility

    /// Creates a register.
    public init(value: Value, timestamp: Timestamp, visibility: Visibility) {
        self.value = value
        self.timestamp = timestamp
        self.visibility = visibility
    }

    /// True if `self` beats `other` under last-writer-wins: later timestamp, then (only for equal
    /// timestamps, which an honest replica never issues twice) the larger value, then visibility.
    public func wins(over other: Register) -> Bool {
        if timestamp != other.timestamp { return timestamp > other.timestamp }
        if value != other.value { return value > other.value }
        return visibility > other.visibility
    }
}
