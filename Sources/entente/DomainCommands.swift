import ArgumentParser
import Entente
import EntenteDomain
import Foundation

/// `entente types [TYPE]`: the object kinds, their fields (type, placement) and workflows.
struct Types: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the object types, or show one type's fields and workflow.",
        discussion: """
            Placement: joint fields are co-edited by every participant; shared and private fields are each company's \
            own (shared with all participants, or kept private, unless a policy says otherwise). Fields outside the \
            list are allowed (a CRM's custom fields) and stay private unless written with --set or --joint.
            """
    )
    @Argument(help: "An object type.") var type: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            guard let type else {
                if json {
                    Output.print(JSON.array(Catalog.all.map { kindJSON($0) }).rendered())
                } else {
                    for kind in Catalog.all { Output.print("\(pad(kind.name, 14)) \(kind.summary)") }
                }
                return
            }
            guard let kind = Catalog.kind(named: type) else {
                throw EntenteError(
                    .invalidArgument,
                    "unknown object type '\(type)'; known types: \(Catalog.all.map(\.name).joined(separator: ", "))"
                )
            }
            if json { return Output.print(kindJSON(kind).rendered()) }
            Output.print("\(kind.name): \(kind.summary)")
            for field in kind.fields {
                Output.print("  \(pad(field.name, 22)) \(pad(field.type.name, 24)) \(pad(field.placement.name, 8)) \(field.summary)")
                if case .choice(let values) = field.type, field.name != kind.workflow?.field {
                    Output.print("  \(pad("", 22)) one of: \(values.joined(separator: ", "))")
                }
            }
            if let workflow = kind.workflow {
                Output.print("workflow (\(workflow.field)), starting in \(workflow.initial):")
                for state in workflow.states {
                    var line = "  \(pad(state, 22)) "
                    if workflow.terminal.contains(state) {
                        let reopen = workflow.reopen[state, default: []]
                        line += "final" + (reopen.isEmpty ? "" : "; the owner may reopen to " + reopen.joined(separator: ", "))
                    } else {
                        line += "-> " + workflow.moves[state, default: []].joined(separator: ", ")
                    }
                    if let required = workflow.requires[state] { line += " (needs \(required.joined(separator: ", ")))" }
                    if let command = workflow.reservedStates[state] { line += " (entered by `\(command)`)" }
                    Output.print(line)
                }
            }
        }
    }

    func kindJSON(_ kind: ObjectKind) -> JSON {
        var entries: [(String, JSON)] = [
            ("name", .string(kind.name)), ("summary", .string(kind.summary)), ("title_field", .string(kind.titleField)),
            (
                "fields",
                .array(
                    kind.fields.map { field in
                        .object([
                            ("name", .string(field.name)), ("type", .string(field.type.name)),
                            ("placement", .string(field.placement.name)), ("summary", .string(field.summary)),
                        ])
                    }
                )
            ),
        ]
        if let workflow = kind.workflow {
            entries.append(
                (
                    "workflow",
                    .object([
                        ("field", .string(workflow.field)), ("initial", .string(workflow.initial)),
                        ("states", .array(workflow.states.map(JSON.string))),
                        ("terminal", .array(workflow.states.filter(workflow.terminal.contains).map(JSON.string))),
                        (
                            "moves",
                            .object(workflow.states.map { ($0, .array(workflow.moves[$0, default: []].map(JSON.string))) })
                        ),
                    ])
                )
            )
        }
        return .object(entries)
    }
}

/// `entente move ID STAGE`.
struct Move: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move an object along its workflow (see `entente types TYPE`).",
        discussion: """
            Examples:
              entente move 3fa2c1 technical-validation
              entente move 3fa2c1 closed-lost --reason 'budget frozen'
              entente move 3fa2c1 qualified --reopen        (the owner reopens a closed deal)
            A move the workflow forbids is refused with the allowed next states. If partners move an object \
            concurrently, every replica shows the same state (a final state wins over an open one, then the later \
            move) and `entente conflicts` lists the other.
            """
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object id (or a unique prefix).") var id: String
    @Argument(help: "The state to move to.") var state: String
    @Option(help: "Why the deal was lost (required for closed-lost).") var reason: String?
    @Flag(help: "Leave a final state (owner only).") var reopen = false
    @Argument(help: "Other fields to write with the move, as KEY=VALUE (placed as `entente set` places them).")
    var fields: [Assignment] = []

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let object = try await opened.resolveObject(id)
            var also = Changes(fields: try fields.map { try $0.field() })
            if let reason { also.joint.append(FieldValue("closed_lost_reason", .string(reason))) }
            try await opened.move(object, to: state, reopen: reopen, also: also)
        }
    }
}

/// `entente convert LEAD`.
struct Convert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a qualified lead into an opportunity and link both; prints the opportunity's id.",
        discussion: """
            The opportunity takes the lead's customer as title and account, its region, and the lead's owner as \
            originating company; the lead's participants are invited. Extra fields as KEY=VALUE.
            Example: entente convert 9b1e04 close_date=2027-06-30 amount='250000 EUR' --with Umbra
            """
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The lead id (or a unique prefix).") var id: String
    @Argument(help: "Fields of the new opportunity, as KEY=VALUE.") var fields: [Assignment] = []
    @Option(name: .customLong("with"), help: ArgumentHelp("Also invite this partner.", valueName: "PARTNER"))
    var with: [String] = []
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let lead = try await opened.resolveObject(id)
            var partners: [CompanyID] = []
            for name in with { partners.append(try await opened.partner(named: name).company) }
            let created = try await opened.convert(
                lead: lead,
                opportunity: Changes(fields: try fields.map { try $0.field() }),
                with: partners
            )
            Output.print(json ? JSON.object([("id", .string(created.hex))]).rendered() : created.hex)
        }
    }
}

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Sharing policies: who gets which objects and fields, declared once, applied to every write.",
        discussion: """
            Example: opportunities in EMEA go to Initech, deal value and probability stay private, next steps go to \
            Umbra Cloud only:
              entente policy add --type opportunity --where region=EMEA --invite Initech
              entente policy add --type opportunity --field amount --field probability --private
              entente policy add --type opportunity --field next_steps --to 'Umbra Cloud'
              entente policy test        (dry run: what would be shared with whom)
            Rules apply to objects created, imported or changed from then on; `policy apply` applies them to the \
            objects already held. For a field, the first matching rule (lowest number) decides.
            """,
        subcommands: [PolicyAdd.self, PolicyList.self, PolicyRemove.self, PolicyTest.self, PolicyApply.self]
    )
}

struct PolicyAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a sharing policy.")
    @OptionGroup var node: NodeOptions
    @Option(help: "The object type it applies to (default: every type).") var type: String?
    @Option(
        name: .customLong("where"),
        help: ArgumentHelp("A condition FIELD=VALUE or FIELD=V1|V2 (repeatable; all must hold).", valueName: "COND")
    )
    var conditions: [String] = []
    @Option(help: ArgumentHelp("Invite this partner to matching objects you own.", valueName: "PARTNER"))
    var invite: [String] = []
    @Option(help: ArgumentHelp("A field the audience applies to (repeatable, or comma-separated).", valueName: "FIELD"))
    var field: [String] = []
    @Option(name: .customLong("to"), help: ArgumentHelp("Fields go only to this partner.", valueName: "PARTNER"))
    var to: [String] = []
    @Flag(name: .customLong("all"), help: "Fields go to every participant.") var all = false
    @Flag(name: .customLong("private"), help: "Fields stay in this company.") var keepPrivate = false
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            var policy = Policy(type: type)
            for text in conditions {
                guard let condition = Condition(text), !condition.values.isEmpty else {
                    throw EntenteError(.invalidArgument, "'\(text)' is not a condition; write FIELD=VALUE or FIELD=V1|V2")
                }
                policy.conditions.append(condition)
            }
            for name in invite { policy.invite.append(try await opened.partner(named: name).company) }
            policy.fields = field.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            let audiences = [!to.isEmpty, all, keepPrivate].filter { $0 }.count
            guard audiences <= 1 else { throw EntenteError(.invalidArgument, "give at most one of --to, --all, --private") }
            if audiences == 1 {
                switch try await sharing(opened, to: to, all: all) {
                case .private: policy.sharing = .private
                case .allParticipants: policy.sharing = .participants
                case .partners(let partners): policy.sharing = .partners(partners)
                }
            }
            let stored = try await opened.addPolicy(policy)
            let names = try await nameLookup(opened)
            if json {
                Output.print(policyJSON(stored, names).rendered())
            } else {
                Output.print("policy \(stored.id): \(stored.summary(names: names))")
            }
        }
    }
}

struct PolicyList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the sharing policies in order.")
    @OptionGroup var node: NodeOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let policies = try await opened.policies()
            let names = try await nameLookup(opened)
            if json { return Output.print(JSON.array(policies.map { policyJSON($0, names) }).rendered()) }
            if policies.isEmpty { Output.print("No policies: fields go where the catalog puts them (entente types).") }
            for policy in policies { Output.print("\(pad(String(policy.id), 4)) \(policy.summary(names: names))") }
        }
    }
}

struct PolicyRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a sharing policy (what it shared stays shared)."
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The policy number (see `entente policy list`).") var id: Int64

    func run() async throws {
        try await guarded { try await node.open().removePolicy(id) }
    }
}

struct PolicyTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Dry run: show what the policies would share with whom on the objects held. Writes nothing."
    )
    @OptionGroup var node: NodeOptions
    @Option(help: "Only objects of this type.") var type: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            printEffects(try await opened.policyEffects(type: type), json: json, verb: "would")
        }
    }
}

struct PolicyApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply the policies to the objects already held: invite partners and set field audiences.",
        discussion: "Widening sends current values to the new audience; narrowing only stops future values."
    )
    @OptionGroup var node: NodeOptions
    @Option(help: "Only objects of this type.") var type: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            printEffects(try await opened.applyPolicies(type: type), json: json, verb: "did")
        }
    }
}

func nameLookup(_ node: Node) async throws -> @Sendable (CompanyID) -> String {
    let partners = try await node.partners(includingSelf: true)
    let names = Dictionary(partners.map { ($0.company, $0.name) }, uniquingKeysWith: { first, _ in first })
    return { names[$0] ?? $0.short }
}

func policyJSON(_ policy: Policy, _ names: (CompanyID) -> String) -> JSON {
    var sharing: JSON = .null
    switch policy.sharing {
    case .private?: sharing = .string("private")
    case .participants?: sharing = .string("all participants")
    case .partners(let partners)?: sharing = .array(partners.map { .string(names($0)) })
    case nil: break
    }
    return .object([
        ("id", .number(policy.id)), ("type", policy.type.map(JSON.string) ?? .null),
        ("where", .array(policy.conditions.map { .string($0.description) })),
        ("invite", .array(policy.invite.map { .string(names($0)) })), ("fields", .array(policy.fields.map(JSON.string))),
        ("sharing", sharing), ("summary", .string(policy.summary(names: names))),
    ])
}

func printEffects(_ effects: [PolicyEffect], json: Bool, verb: String) {
    if json {
        Output.print(
            JSON.array(
                effects.map { effect in
                    .object([
                        ("id", .string(effect.id.hex)), ("type", .string(effect.type)),
                        ("title", effect.title.map(JSON.string) ?? .null),
                        ("invite", .array(effect.invitations.map { .string($0.name) })),
                        (
                            "fields",
                            .array(
                                effect.fields.map {
                                    .object([
                                        ("name", .string($0.name)), ("audience", .string($0.audience)),
                                        ("changes", .bool($0.changes)),
                                    ])
                                }
                            )
                        ),
                        ("policies", .array(effect.policies.map(JSON.number))),
                    ])
                }
            ).rendered()
        )
        return
    }
    if effects.isEmpty { return Output.print("No object matches a policy.") }
    for effect in effects {
        Output.print("\(effect.id.short) \(effect.type) \(effect.title ?? "(untitled)")  [policy \(effect.policies.map(String.init).joined(separator: ", "))]")
        for partner in effect.invitations { Output.print("  \(verb) invite \(partner.name)") }
        for field in effect.fields {
            Output.print("  \(field.name): \(field.audience)" + (field.changes ? " (\(verb) change)" : ""))
        }
    }
}
