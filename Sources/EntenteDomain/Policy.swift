public import EntenteCore

/// A sharing rule this company declares (never sent to partners): which objects it matches, which partners to
/// invite to them, and who reads which of this company's fields.
///
/// Rules apply in the order of their ids; for a field, the first matching rule that names it decides (see
/// `Specs/domain.md`, "Sharing policies").
public struct Policy: Hashable, Sendable, Codable {
    /// The rule's number (assigned when stored; 0 before).
    public var id: Int64
    /// The object kind it applies to; nil for every kind.
    public var type: String?
    /// Every condition must hold for the rule to match.
    public var conditions: [Condition]
    /// Partners to invite to matching objects this company owns.
    public var invite: [CompanyID]
    /// Fields whose audience the rule sets (this company's writes of them become its own fields).
    public var fields: [String]
    /// Who reads `fields`.
    public var sharing: PolicySharing?

    /// Creates a rule.
    public init(
        id: Int64 = 0,
        type: String? = nil,
        conditions: [Condition] = [],
        invite: [CompanyID] = [],
        fields: [String] = [],
        sharing: PolicySharing? = nil
    ) {
        self.id = id
        self.type = type
        self.conditions = conditions
        self.invite = invite
        self.fields = fields
        self.sharing = sharing
    }

    /// Why the rule cannot be stored, or nil: it must do something, name valid fields with an audience, and
    /// (if it has a type) name a known kind. A joint field may be named: this company's writes of it then become
    /// its own field with the rule's audience (the joint value is left alone).
    public var problem: String? {
        if let type, Catalog.kind(named: type) == nil {
            return "unknown object type '\(type)'; known types: \(Catalog.all.map(\.name).joined(separator: ", "))"
        }
        if invite.isEmpty && fields.isEmpty { return "a policy must invite partners or set who reads fields" }
        if !fields.isEmpty && sharing == nil { return "say who reads the fields (private, all participants, or partners)" }
        if fields.isEmpty && sharing != nil { return "name the fields the audience applies to" }
        for name in fields + conditions.map(\.field) where !FieldKey.isValidName(name) {
            return "'\(name)' is not a valid field name"
        }
        if let type, let kind = Catalog.kind(named: type) {
            for name in fields where kind.field(named: name)?.type.isSet == true {
                return "\(type) \(name) is a set field; policies set the audience of value fields"
            }
        }
        if conditions.contains(where: { $0.values.isEmpty }) { return "a condition needs at least one value" }
        return nil
    }

    /// True if the rule applies to an object of kind `type` whose field values (as text) `values` gives.
    public func matches(type objectType: String, values: (String) -> [String]) -> Bool {
        if let type, type != objectType { return false }
        return conditions.allSatisfy { $0.holds(values($0.field)) }
    }

    /// One line for lists and dry runs (`names` gives partners' display names).
    public func summary(names: (CompanyID) -> String) -> String {
        var subject = type.map { $0.hasSuffix("y") ? "\($0.dropLast())ies" : "\($0)s" } ?? "objects"
        if !conditions.isEmpty { subject += " where " + conditions.map(\.description).joined(separator: " and ") }
        var clauses: [String] = []
        if !invite.isEmpty { clauses.append("are shared with " + invite.map(names).joined(separator: ", ")) }
        if let sharing, !fields.isEmpty {
            let who: String
            switch sharing {
            case .private: who = "stay private"
            case .participants: who = "are shared with all participants"
            case .partners(let partners): who = "are shared only with " + partners.map(names).joined(separator: ", ")
            }
            clauses.append(fields.joined(separator: ", ") + " " + who)
        }
        return subject + " " + clauses.joined(separator: "; ")
    }
}

/// A condition of a policy: the object's field holds one of `values` (compared without regard to case; a set
/// field holds if any element matches).
public struct Condition: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The field (a joint field, or this company's own field of that name).
    public var field: String
    /// The accepted values, as text.
    public var values: [String]

    /// Creates a condition.
    public init(field: String, values: [String]) {
        self.field = field
        self.values = values
    }

    /// Parses `field=value` or `field=value1|value2`.
    public init?(_ text: String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return nil }
        field = String(text[..<equals])
        values = text[text.index(after: equals)...].split(separator: "|").map(String.init)
    }

    /// True if one of `actual` matches one of the accepted values.
    public func holds(_ actual: [String]) -> Bool {
        let accepted = Set(values.map { $0.lowercased() })
        return actual.contains { accepted.contains($0.lowercased()) }
    }

    /// `field=value1|value2`.
    public var description: String { "\(field)=\(values.joined(separator: "|"))" }
}

/// Who reads the fields a policy names.
public enum PolicySharing: Hashable, Sendable, Codable {
    /// This company only.
    case `private`
    /// Every participant of the object.
    case participants
    /// The named partners only (among the object's participants).
    case partners([CompanyID])
}

/// The rules of one company, in order.
public struct PolicySet: Hashable, Sendable {
    /// The rules, by ascending id.
    public let policies: [Policy]

    /// Orders the rules by id.
    public init(_ policies: [Policy]) {
        self.policies = policies.sorted { $0.id < $1.id }
    }

    /// No rules.
    public static let empty = PolicySet([])

    /// The partners matching rules invite.
    public func invitations(type: String, values: (String) -> [String]) -> [CompanyID] {
        var seen: Set<CompanyID> = []
        var result: [CompanyID] = []
        for policy in policies where !policy.invite.isEmpty && policy.matches(type: type, values: values) {
            for partner in policy.invite where seen.insert(partner).inserted { result.append(partner) }
        }
        return result
    }

    /// The audience the first matching rule naming `field` gives it, with that rule; nil if no rule does.
    public func sharing(
        of field: String,
        type: String,
        values: (String) -> [String]
    ) -> (policy: Policy, sharing: PolicySharing)? {
        for policy in policies where policy.fields.contains(field) && policy.matches(type: type, values: values) {
            if let sharing = policy.sharing { return (policy, sharing) }
        }
        return nil
    }
}
