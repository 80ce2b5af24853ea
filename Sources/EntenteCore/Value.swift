/// A field value. `null` (unset or deleted) is distinct from the empty string.
public enum Value: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// No value.
    case null
    /// UTF-8 text.
    case string(String)
    /// A signed 64-bit integer.
    case integer(Int64)
    /// A boolean.
    case boolean(Bool)

    /// The order of kinds, used only to break ties between equal timestamps deterministically.
    private var rank: Int {
        switch self {
        case .null: 0
        case .string: 1
        case .integer: 2
        case .boolean: 3
        }
    }

    /// A deterministic total order (kind, then payload; strings by UTF-8 bytes).
    public static func < (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.string(let left), .string(let right)): return left.utf8.lexicographicallyPrecedes(right.utf8)
        case (.integer(let left), .integer(let right)): return left < right
        case (.boolean(let left), .boolean(let right)): return !left && right
        default: return lhs.rank < rhs.rank
        }
    }

    /// The value as a user would type it; `null` prints as an empty marker.
    public var description: String {
        switch self {
        case .null: "(unset)"
        case .string(let text): text
        case .integer(let number): String(number)
        case .boolean(let flag): flag ? "true" : "false"
        }
    }
}
