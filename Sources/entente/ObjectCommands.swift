import ArgumentParser
import Entente
import Foundation

/// Field options shared by `new` and `set`.
struct FieldOptions: ParsableArguments {
    @Option(name: .customLong("joint"), help: ArgumentHelp("A joint field, co-edited by every participant.", valueName: "KEY=VALUE"))
    var joint: [Assignment] = []
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("This company's own field, shared with all participants (or only with --to partners).", valueName: "KEY=VALUE")
    )
    var shared: [Assignment] = []
    @Option(name: .customLong("private"), help: ArgumentHelp("A private field: it never leaves this company.", valueName: "KEY=VALUE"))
    var privateFields: [Assignment] = []
    @Option(name: .customLong("to"), help: ArgumentHelp("Share the --set fields only with this partner (repeatable).", valueName: "PARTNER"))
    var to: [String] = []

    func changes(_ node: Node) async throws -> Changes {
        var changes = Changes()
        changes.joint = joint.map(\.field)
        changes.shared = shared.map(\.field)
        changes.privateFields = privateFields.map(\.field)
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
        discussion: "Example: entente new opportunity --joint title='Acme data platform' --private deal_size=1200000 --with Initech"
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object type (opportunity).") var type: String
    @OptionGroup var fields: FieldOptions
    @Option(name: .customLong("with"), help: ArgumentHelp("Invite this partner from the start (repeatable).", valueName: "PARTNER"))
    var with: [String] = []
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            var participants: [CompanyID] = []
            for name in with { participants.append(try await opened.partner(named: name).company) }
            let id = try await opened.create(type: type, changes: try await fields.changes(opened), with: participants)
            Output.print(json ? JSON.object([("id", .string(id.hex))]).rendered() : id.hex)
        }
    }
}

struct SetFields: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Write fields of an object.",
        discussion: "Example: entente set 3fa2c1 --set region=EMEA --to Globex --private margin=0.31"
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object id (or a unique prefix of 6+ hex digits).") var id: String
    @OptionGroup var fields: FieldOptions

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let object = try await opened.resolveObject(id)
            try await opened.update(object, changes: try await fields.changes(opened))
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
                Output.print(JSON.object([
                    ("id", .string(view.id.hex)),
                    ("type", .string(view.type)),
                    ("owner", .string(view.owner.name)),
                    ("participants", .array(view.participants.map { .string($0.name) })),
                    ("joint", .object(view.joint.map { ($0.name, JSON($0.value)) })),
                    ("fields", .object(view.fields.map { ($0.company.name, .object($0.fields.map { ($0.name, JSON($0.value)) })) })),
                    ("private", .array(view.privateFields.map(JSON.string))),
                ]).rendered())
                return
            }
            Output.print("\(view.type) \(view.id.hex)")
            Output.print("owner         \(view.owner.name)")
            Output.print("participants  \(view.participants.map(\.name).joined(separator: ", "))")
            Output.print("")
            Output.print("joint")
            for field in view.joint { Output.print("  \(pad(field.name, 18)) \(field.value)") }
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
                    Output.print("  \(pad(field.name, 18)) \(pad("\(field.value)", 24)) \(audience)")
                }
            }
        }
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the objects this node holds.")
    @OptionGroup var node: NodeOptions
    @Argument(help: "Only objects of this type.") var type: String?
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let objects = try await node.open().objects(type: type)
            if json {
                Output.print(JSON.array(objects.map {
                    JSON.object([("id", .string($0.id.hex)), ("type", .string($0.type)), ("owner", .string($0.owner.name))])
                }).rendered())
            } else if objects.isEmpty {
                Output.print("No objects yet. Create one with: entente new opportunity --joint title=...")
            } else {
                for object in objects { Output.print("\(object.id.short)  \(object.type)  \(object.owner.name)  \(object.title ?? "")") }
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
                Output.print(JSON.object([
                    ("company", .string(status.company)), ("company_id", .string(status.companyID.hex)),
                    ("replica_id", .string(status.replica.hex)), ("objects", .number(Int64(status.objects))),
                    ("partners", .number(Int64(status.partners))), ("envelopes", .number(Int64(status.envelopes))),
                    ("waiting", .array(status.waiting.map(JSON.string))),
                ]).rendered())
            } else {
                Output.print("\(status.company) \(status.companyID.hex), replica \(status.replica.hex)")
                Output.print("\(status.objects) objects, \(status.partners) partners, \(status.envelopes) envelopes, \(status.waiting.count) waiting")
                for reason in status.waiting { Output.print("  waiting: \(reason)") }
            }
        }
    }
}

/// Pads text with spaces to `width` characters; never truncates.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
