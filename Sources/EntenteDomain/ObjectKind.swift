public import EntenteCore

/// A kind of shared business object: its type name, its typed fields with their default placement, the field
/// used as its title, and its workflow.
public struct ObjectKind: Hashable, Sendable {
    /// The type name used on the wire and in the CLI (for example `opportunity`).
    public let name: String
    /// One line saying what the object is.
    public let summary: String
    /// The catalog fields, in display order. Objects may carry other fields too (a CRM's custom fields).
    public let fields: [FieldSpec]
    /// The joint field used as the object's title in lists.
    public let titleField: String
    /// The life cycle, if the kind has one.
    public let workflow: Workflow?
    /// `fields` by name: every write of a catalog field looks its spec up here.
    private let index: [String: FieldSpec]

    /// Creates a kind.
    public init(name: String, summary: String, fields: [FieldSpec], titleField: String, workflow: Workflow?) {
        self.name = name
        self.summary = summary
        self.fields = fields
        self.titleField = titleField
        self.workflow = workflow
        self.index = Dictionary(fields.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The catalog field named `name`, if any.
    public func field(named name: String) -> FieldSpec? {
        index[name]
    }

    /// The joint fields' names.
    public var jointFields: [String] { fields.filter { $0.placement == .joint }.map(\.name) }

    /// Checks a value written to field `name` (in the joint namespace if `joint`, else this company's own).
    /// A catalog field must be written with its type (text is read in the type's canonical form); a field the
    /// catalog keeps per company (deal value, say) may not be written as a joint field, so a private figure is
    /// never shared with every participant by mistake. Fields outside the catalog take any value.
    /// - Returns: the value to store, or a sentence naming the problem.
    public func check(_ name: String, _ value: Value, joint: Bool) -> Result<Value, FieldProblem> {
        guard let spec = field(named: name) else { return .success(value) }
        if joint && spec.placement != .joint {
            return .failure(
                FieldProblem(
                    "\(self.name) \(name) is each company's own field (\(spec.placement.name) by default), not a joint one"
                )
            )
        }
        switch spec.type.check(value) {
        case .success(let checked): return .success(checked)
        case .failure(let problem): return .failure(FieldProblem("\(self.name) \(name): \(problem.message)"))
        }
    }

    /// Returns a sentence naming the problem if `value` is not allowed for joint field `field`, else nil.
    public func problem(withJoint field: String, value: Value) -> String? {
        if case .failure(let problem) = check(field, value, joint: true) { return problem.message }
        return nil
    }
}
