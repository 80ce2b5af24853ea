import ArgumentParser
import Entente
import Foundation

/// Field options shared by `new` and `set`.
struct FieldOptions: ParsableArguments {
    @Option(
        name: .customLong("joint"),
        help: ArgumentHelp("A joint field, co-edited by every participant.", valueName: "KEY=VALUE")
    )
    var joint: [Assignment] = []
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "This company's own field, shared with all participants (or only with --to partners).",
            valueName: "KEY=VALUE"
        )
    )
    var shared: [Assignment] = []
    @Option(
        name: .customLong("private"),
        help: ArgumentHelp("A private field: it never leaves this company.", valueName: "KEY=VALUE")
    )
    var privateFields: [Assignment] = []
    @Option(
        name: .customLong("to"),
        help: ArgumentHelp("Share the --set fields only with this partner (repeatable).", valueName: "PARTNER")
    )
    var to: [String] = []
    @Option(
        name: .customLong("unset"),
        help: ArgumentHelp("Delete the value of this company's own field.", valueName: "KEY")
    )
    var unset: [String] = []
    @Option(
        name: .customLong("unset-joint"),
        help: ArgumentHelp("Delete the value of a joint field.", valueName: "KEY")
    )
    var unsetJoint: [String] = []

    func changes(_ node: Node, placed: [Assignment] = []) async throws -> Changes {
        var changes = Changes(fields: try placed.map { try $0.field() })
        changes.joint = try joint.map { try $0.field() }
        changes.shared = try shared.map { try $0.field() }
        changes.privateFields = try privateFields.map { try $0.field() }
        changes.unset = unset
        changes.unsetJoint = unsetJoint
        if !to.isEmpty && shared.isEmpty {
            throw EntenteError(.invalidArgument, "--to applies to --set fields; give at least one --set KEY=VALUE")
        }
        for name in to { changes.sharedWith.append(try await node.partner(named: name).company) }
        return changes
    }
}

struct New: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a shared object owned by this company and print its id.",
        discussion: """
            Fields given as KEY=VALUE go where the catalog and this company's policies put them: joint fields \
            (title, stage, close_date...) to every participant, deal value, probability and other own fields stay \
            private unless a policy shares them. Catalog fields take their type's text form (2027-03-31, \
            '1250000 USD', 40); other fields are text unless typed as KEY:TYPE=VALUE (TYPE: string, int, decimal, \
            money, bool, date, time, enum, ref). --joint, --set and --private place a field explicitly. Example:
              entente new opportunity title='Acme data platform' close_date=2027-03-31 amount='1200000 USD' \
                region=EMEA --with Initech
            """
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object type (see `entente types`).") var type: String
    @Argument(
        help: ArgumentHelp(
            "Fields as KEY=VALUE, placed by the catalog and this company's policies (see `entente types TYPE`).",
            valueName: "KEY=VALUE"
        )
    )
    var placed: [Assignment] = []
    @OptionGroup var fields: FieldOptions
    @Option(
        name: .customLong("with"),
        help: ArgumentHelp("Invite this partner from the start (repeatable).", valueName: "PARTNER")
    )
    var with: [String] = []
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            var participants: [CompanyID] = []
            for name in with { participants.append(try await opened.partner(named: name).company) }
            let id = try await opened.create(
                type: type,
                changes: try await fields.changes(opened, placed: placed),
                with: participants
            )
            Output.print(json ? JSON.object([("id", .string(id.hex))]).rendered() : id.hex)
        }
    }
}

struct SetFields: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Write fields of an object.",
        discussion: """
            Examples: entente set 3fa2c1 next_steps='Workshop on Friday' probability=60
                      entente set 3fa2c1 --set region=EMEA --to Globex --private margin:decimal=0.31 --unset-joint next_steps
            Values are typed as in `entente new`. --unset/--unset-joint delete a value (the field then shows as unset).
            """
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object id (or a unique prefix of 6+ hex digits).") var id: String
    @Argument(
        help: ArgumentHelp(
            "Fields as KEY=VALUE, placed by the catalog and this company's policies.",
            valueName: "KEY=VALUE"
        )
    )
    var placed: [Assignment] = []
    @OptionGroup var fields: FieldOptions

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let object = try await opened.resolveObject(id)
            try await opened.update(object, changes: try await fields.changes(opened, placed: placed))
        }
    }
}

struct Invite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Invite a partner to an object this company owns.",
        discussion: "The partner receives the object in the next bundle you export to it."
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object id (or a unique prefix).") var id: String
    @Argument(help: "The partner's name or company id.") var partner: String

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let object = try await opened.resolveObject(id)
            try await opened.invite(object, try await opened.partner(named: partner).company)
        }
    }
}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an object as this company sees it.")
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object id (or a unique prefix).") var id: String
    @Flag(help: "Leave this company's private fields out (for screen sharing).") var hidePrivate = false
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let view = try await opened.object(try await opened.resolveObject(id), hidePrivate: hidePrivate)
            if json {
                Output.print(showJSON(view).rendered())
                return
            }
            Output.print("\(view.type) \(view.id.hex)\(view.archived ? "  (archived)" : "")")
            Output.print("owner         \(view.owner.name)")
            Output.print("participants  \(view.participants.map(\.name).joined(separator: ", "))")
            Output.print("")
            Output.print("joint")
            for field in view.joint { printField(field, audience: "by \(field.writer.name)") }
            for (company, fields) in view.fields {
                Output.print("")
                Output.print(company.id == opened.company ? "\(company.name) (this company)" : company.name)
                for field in fields {
                    let audience: String
                    switch field.sharedWith {
                    case nil: audience = "all participants"
                    case .some(let names) where names.isEmpty: audience = "private"
                    case .some(let names): audience = "shared with " + names.joined(separator: ", ")
                    }
                    printField(field, audience: audience)
                }
            }
        }
    }

    func printField(_ field: FieldView, audience: String) {
        let shown = field.elements.map { "[" + $0.joined(separator: ", ") + "]" } ?? "\(field.value)"
        Output.print("  \(pad(field.name, 18)) \(pad(shown, 24)) \(audience)")
        for conflict in field.conflicts {
            Output.print(
                "  \(pad("", 18)) conflict: \(conflict.value) by \(conflict.writer.name) (concurrent; `entente conflicts` lists them)"
            )
        }
    }
}

/// `show --json`: `{"id", "type", "owner", "participants", "joint": {K: V}, "fields": {company: {K: V}}, "private": [names],
/// "archived", "conflicts": {"joint.K" or "company.K": [{"value", "writer"}]}}`. Sets are arrays; money is
/// `{"amount", "currency"}`; decimals are strings (exact).
func showJSON(_ view: ObjectView) -> JSON {
    var conflicts: [(String, JSON)] = []
    for field in view.joint where !field.conflicts.isEmpty {
        conflicts.append(
            (
                "joint.\(field.name)",
                .array(
                    field.conflicts.map { .object([("value", JSON($0.value)), ("writer", .string($0.writer.name))]) }
                )
            )
        )
    }
    for (company, fields) in view.fields {
        for field in fields where !field.conflicts.isEmpty {
            conflicts.append(
                (
                    "\(company.name).\(field.name)",
                    .array(
                        field.conflicts.map {
                            .object([("value", JSON($0.value)), ("writer", .string($0.writer.name))])
                        }
                    )
                )
            )
        }
    }
    return JSON.object([
        ("id", .string(view.id.hex)),
        ("type", .string(view.type)),
        ("owner", .string(view.owner.name)),
        ("participants", .array(view.participants.map { .string($0.name) })),
        ("joint", .object(view.joint.map { ($0.name, JSON($0)) })),
        ("fields", .object(view.fields.map { ($0.company.name, .object($0.fields.map { ($0.name, JSON($0)) })) })),
        ("private", .array(view.privateFields.map(JSON.string))),
        ("archived", .bool(view.archived)),
        ("conflicts", .object(conflicts)),
    ])
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the objects this node holds.")
    @OptionGroup var node: NodeOptions
    @Argument(help: "Only objects of this type.") var type: String?
    @Flag(help: "Include archived objects.") var archived = false
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let objects = try await node.open().objects(type: type, includeArchived: archived)
            if json {
                Output.print(
                    JSON.array(
                        objects.map {
                            JSON.object([
                                ("id", .string($0.id.hex)), ("type", .string($0.type)),
                                ("owner", .string($0.owner.name)),
                            ])
                        }
                    ).rendered()
                )
            } else if objects.isEmpty {
                Output.print("No objects yet. Create one with: entente new opportunity title=...")
            } else {
                for object in objects {
                    Output.print("\(object.id.short)  \(object.type)  \(object.owner.name)  \(object.title ?? "")")
                }
            }
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show this node's identity and counts.")
    @OptionGroup var node: NodeOptions
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let status = try await node.open().status()
            if json {
                Output.print(
                    JSON.object([
                        ("company", .string(status.company)), ("company_id", .string(status.companyID.hex)),
                        ("replica_id", .string(status.replica.hex)), ("objects", .number(Int64(status.objects))),
                        ("partners", .number(Int64(status.partners))), ("envelopes", .number(Int64(status.envelopes))),
                        ("waiting", .array(status.waiting.map(JSON.string))),
                    ]).rendered()
                )
            } else {
                Output.print("\(status.company) \(status.companyID.hex), replica \(status.replica.hex)")
                Output.print(
                    "\(status.objects) objects, \(status.partners) partners, \(status.envelopes) envelopes, \(status.waiting.count) waiting"
                )
                for reason in status.waiting { Output.print("  waiting: \(reason)") }
            }
        }
    }
}

/// Pads text with spaces to `width` characters; never truncates.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
