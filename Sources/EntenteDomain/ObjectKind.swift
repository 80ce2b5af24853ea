public import EntenteCore

/// A kind of shared business object: its type name, what it is for, and the fields it usually carries.
public struct ObjectKind: Hashable, Sendable {
    /// The type name used on the wire and in the CLI (for example `opportunity`).
    public let name: String
    /// One line saying what the object is.
    public let summary: String
    /// Joint fields the kind expects (co-edited by every participant).
    public let jointFields: [String]
    /// For a joint field with a closed set of values, the allowed values.
    public let allowedValues: [String: [String]]
    /// The joint field used as the object's title in lists.
    public let titleField: String

    /// Returns a sentence naming the problem if `value` is not allowed for joint field `field`, else nil.
    public func problem(withJoint field: String, value: String) -> String? {
        guard let allowed = allowedValues[field], !allowed.contains(value) else { return nil }
        return "'\(value)' is not a valid \(name) \(field); use one of: \(allowed.joined(separator: ", "))"
    }

    /// Returns a sentence naming the problem if `value` is not allowed for joint field `field`, else nil.
    /// A field with declared values takes a string or an enumeration from the set, or null (deletion).
    public func problem(withJoint field: String, value: Value) -> String? {
        switch value {
        case .null: return nil
        case .string(let text), .enumeration(let text): return problem(withJoint: field, value: text)
        default:
            guard allowedValues[field] != nil else { return nil }
            return "\(name) \(field) takes one of its declared values, not a \(value.kindName)"
        }
    }
}

/// The object kinds this build knows.
public enum Catalog {
    /// A joint sales opportunity or referral, co-sold by several companies.
    public static let opportunity = ObjectKind(
        name: "opportunity",
        summary: "a joint sales opportunity or referral",
        jointFields: ["title", "account", "stage", "close_date", "next_steps", "use_case"],
        allowedValues: [
            "stage": [
                "prospect", "qualified", "technical-validation", "business-validation", "committed", "closed-won",
                "closed-lost",
            ]
        ],
        titleField: "title"
    )

    /// Every known kind.
    public static let all: [ObjectKind] = [opportunity]

    /// The kind named `name`, if known.
    public static func kind(named name: String) -> ObjectKind? {
        all.first { $0.name == name }
    }
}
