/// One field name and the value to write.
public struct FieldValue: Hashable, Sendable {
    /// The field name.
    public var name: String
    /// The value (`.null` deletes the field's value).
    public var value: Value

    /// Creates a field value.
    public init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }

    /// Creates a string field value.
    public init(_ name: String, _ text: String) {
        self.init(name, Value.string(text))
    }
}

/// The field writes of one `create` or `update` call.
public struct Changes: Hashable, Sendable {
    /// Joint fields: co-edited, visible to every participant.
    public var joint: [FieldValue] = []
    /// This company's own fields, shared with `sharedWith` (or every participant if it is empty).
    public var shared: [FieldValue] = []
    /// The partners the `shared` fields go to; empty means every participant.
    public var sharedWith: [CompanyID] = []
    /// This company's private fields: they never leave the company.
    public var privateFields: [FieldValue] = []
    /// Joint fields whose value to delete.
    public var unsetJoint: [String] = []
    /// This company's own fields whose value to delete (the deletion keeps each field's current visibility).
    public var unset: [String] = []
    /// Fields placed automatically: by this company's sharing policies, else by the object kind's catalog
    /// (joint fields are joint, deal value and the like stay private; fields outside the catalog stay private).
    public var fields: [FieldValue] = []
    /// Set fields to make exactly equal to the given elements (placed like `fields`): missing elements are
    /// added, others removed (a concurrent add by a partner still survives, add-wins).
    public var sets: [String: [String]] = [:]
    /// Leave a terminal workflow state (owner only): `entente move --reopen`.
    public var reopen = false
    /// Set by `convert`: the write may enter a state plain moves cannot (a lead's `converted`).
    var isConversion = false

    /// No changes.
    public init() {}

    /// True if nothing is written.
    public var isEmpty: Bool {
        joint.isEmpty && shared.isEmpty && privateFields.isEmpty && unsetJoint.isEmpty && unset.isEmpty
            && fields.isEmpty && sets.isEmpty
    }

    /// Whether the changes write field `name` (in any namespace).
    func writes(_ name: String) -> Bool {
        (joint + shared + privateFields + fields).contains { $0.name == name }
    }

    /// Creates changes whose fields are placed automatically (see `fields`).
    public init(fields: [FieldValue]) {
        self.fields = fields
    }
}

/// Who may read one of this company's own fields.
public enum Sharing: Hashable, Sendable {
    /// This company only.
    case `private`
    /// Every participant.
    case allParticipants
    /// The named partners (they must take part in the object).
    case partners([CompanyID])
}
