import ArgumentParser
import Entente
import Foundation

struct Share: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change who may read one of this company's own fields.",
        discussion: """
            Widening (private -> a partner -> all participants) sends the current value to the new audience. \\
            Narrowing only stops future values: what a partner already received, it keeps.
            """
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object id (or a unique prefix).") var id: String
    @Argument(help: "The field (this company's own).") var field: String
    @Option(
        name: .customLong("to"),
        help: ArgumentHelp("Share with this partner only (repeatable).", valueName: "PARTNER")
    )
    var to: [String] = []
    @Flag(name: .customLong("all"), help: "Share with every participant.") var all = false
    @Flag(name: .customLong("private"), help: "Keep it in this company.") var keepPrivate = false

    func validate() throws {
        guard [!to.isEmpty, all, keepPrivate].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --to PARTNER, --all, --private")
        }
    }

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let object = try await opened.resolveObject(id)
            try await opened.share(object, field: field, with: try await sharing(opened, to: to, all: all))
        }
    }
}

/// Reads --to/--all/--private into a `Sharing`.
func sharing(_ node: Node, to: [String], all: Bool) async throws -> Sharing {
    if all { return .allParticipants }
    if to.isEmpty { return .private }
    var partners: [CompanyID] = []
    for name in to { partners.append(try await node.partner(named: name).company) }
    return .partners(partners)
}

struct Elements: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add or remove elements of a set field (tags, team members, target accounts).",
        discussion: """
            Sets are add-wins: two partners adding different elements both keep theirs, and a remove only \\
            removes the adds it has seen. Example: entente elements 3fa2c1 products --joint --add analytics --remove legacy
            """
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object id (or a unique prefix).") var id: String
    @Argument(help: "The set field.") var field: String
    @Option(help: "An element to add (repeatable).") var add: [String] = []
    @Option(help: "An element to remove (repeatable).") var remove: [String] = []
    @Flag(help: "A joint set (co-edited); otherwise this company's own.") var joint = false
    @Option(
        name: .customLong("to"),
        help: ArgumentHelp("Own set: share with this partner only (repeatable).", valueName: "PARTNER")
    )
    var to: [String] = []
    @Flag(name: .customLong("private"), help: "Own set: keep it in this company.") var keepPrivate = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let object = try await opened.resolveObject(id)
            let share = try await sharing(opened, to: to, all: !keepPrivate && to.isEmpty)
            let absent = try await opened.updateSet(
                object,
                field: field,
                joint: joint,
                sharing: share,
                add: add,
                remove: remove
            )
            for element in absent {
                Output.progress(
                    "note: '\(element)' is not in \(field) on this node (nothing to remove; a partner's add you have not received yet stays)"
                )
            }
        }
    }
}

struct Uninvite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a partner from an object this company owns.",
        discussion:
            "It receives nothing new from then on; what it wrote before stays; what it writes after is ignored everywhere."
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object id (or a unique prefix).") var id: String
    @Argument(help: "The partner's name or company id.") var partner: String

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let object = try await opened.resolveObject(id)
            try await opened.uninvite(object, try await opened.partner(named: partner).company)
        }
    }
}

struct Archive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Archive an object this company owns (it leaves `list`, keeps its history), or restore it."
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object id (or a unique prefix).") var id: String
    @Flag(help: "Restore an archived object.") var restore = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            try await opened.archive(try await opened.resolveObject(id), !restore)
        }
    }
}

struct Conflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List concurrent writes: values that lost to another company's simultaneous edit.",
        discussion:
            "Last-writer-wins picks the value; the losers stay listed here until someone writes the field again."
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "Only this object (id or prefix).") var id: String?
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let object: ObjectID? = if let id { try await opened.resolveObject(id) } else { nil }
            let views = try await opened.conflicts(object)
            var rows: [(ObjectView, String, FieldView)] = []
            for view in views {
                for field in view.joint where !field.conflicts.isEmpty {
                    rows.append((view, "joint.\(field.name)", field))
                }
                for (company, fields) in view.fields {
                    for field in fields where !field.conflicts.isEmpty {
                        rows.append((view, "\(company.name).\(field.name)", field))
                    }
                }
            }
            if json {
                Output.print(
                    JSON.array(
                        rows.map { view, name, field in
                            JSON.object([
                                ("id", .string(view.id.hex)), ("field", .string(name)), ("value", JSON(field.value)),
                                ("writer", .string(field.writer.name)),
                                (
                                    "losers",
                                    .array(
                                        field.conflicts.map {
                                            .object([("value", JSON($0.value)), ("writer", .string($0.writer.name))])
                                        }
                                    )
                                ),
                            ])
                        }
                    ).rendered()
                )
            } else if rows.isEmpty {
                Output.print("No conflicts.")
            } else {
                for (view, name, field) in rows {
                    let losers = field.conflicts.map { "\($0.value) (\($0.writer.name))" }.joined(separator: ", ")
                    Output.print(
                        "\(view.id.short)  \(name) = \(field.value) (\(field.writer.name)); concurrent: \(losers)"
                    )
                }
            }
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show who changed what on an object and when, from the signed envelopes.",
        discussion: "Each line names the company and replica whose signature carried the change, so it can be proved."
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The object id (or a unique prefix).") var id: String
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let entries = try await opened.history(try await opened.resolveObject(id))
            if json {
                Output.print(
                    JSON.array(
                        entries.map { entry in
                            JSON.object([
                                (
                                    "time",
                                    .string(
                                        CalendarDate.iso8601(milliseconds: Int64(clamping: entry.timestamp.physical))
                                    )
                                ),
                                ("company", .string(entry.company.name)), ("replica", .string(entry.replica.hex)),
                                ("writer", entry.writer.map { .string($0.name) } ?? .null),
                                ("field", entry.field.map(JSON.string) ?? .null),
                                ("namespace", .string(entry.field == nil ? "" : entry.namespace?.name ?? "joint")),
                                ("value", entry.value.map(JSON.init) ?? .null),
                                ("change", .string(entry.change)), ("applied", .bool(entry.applied)),
                                ("note", entry.note.map(JSON.string) ?? .null), ("envelope", .string(entry.envelope)),
                            ])
                        }
                    ).rendered()
                )
            } else {
                for entry in entries {
                    let time = CalendarDate.iso8601(milliseconds: Int64(clamping: entry.timestamp.physical))
                    let status = entry.applied ? "" : "  [not applied: \(entry.note ?? "")]"
                    Output.print(
                        "\(time)  \(pad(entry.company.name, 12)) \(entry.replica.short)  \(entry.change)\(status)"
                    )
                }
            }
        }
    }
}

struct ReplicaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica",
        abstract: "Run this company on several replicas (a server and laptops that work offline).",
        subcommands: [Enroll.self, Join.self, Revoke.self, Revoked.self]
    )

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create a new replica of this company: a key certified by the company key, in an enrollment file.",
            discussion: """
                The file holds secret keys (the company's encryption key and the new replica's key): it is written \\
                0600; move it securely and delete it. Then on the new machine: entente replica join FILE --dir DIR, \\
                and sync it with a bundle exported --to your own company.
                """
        )
        @OptionGroup var node: NodeOptions
        @Option(help: "The enrollment file to write.") var out: String

        func run() async throws {
            try await guarded {
                let bytes = try await node.open().enrollReplica()
                guard
                    FileManager.default.createFile(
                        atPath: out,
                        contents: Data(bytes),
                        attributes: [.posixPermissions: 0o600]
                    )
                else {
                    throw EntenteError(.invalidArgument, "cannot write \(out)")
                }
                Output.print("Wrote enrollment to \(out) (secret: move it securely, then delete it)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke one of this company's replicas (a lost laptop): partners refuse it from then on.",
            discussion: """
                Partners refuse the replica's envelopes (those they do not hold yet) and its network handshakes \
                once they import any bundle from this node, which carries the signed revocation. Find the replica \
                id with `entente status` on it, or in `entente history`. Needs the company signing key.
                """
        )
        @OptionGroup var node: NodeOptions
        @Argument(help: "The replica id (32 hex digits).") var replica: String
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await guarded {
                guard let id = ReplicaID(hex: replica.lowercased()) else {
                    throw EntenteError(.invalidArgument, "'\(replica)' is not a replica id (32 hex digits)")
                }
                let revocation = try await node.open().revokeReplica(id)
                if json {
                    Output.print(
                        JSON.object([
                            ("company", .string(revocation.company.hex)), ("replica", .string(revocation.replica.hex)),
                            ("revoked_at", .number(Int64(revocation.revokedAt))),
                        ]).rendered()
                    )
                } else {
                    Output.print("revoked replica \(id.hex); export a bundle to each partner to spread the revocation")
                }
            }
        }
    }

    struct Revoked: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the replica revocations this node knows.")
        @OptionGroup var node: NodeOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await guarded {
                let opened = try node.open()
                let names = try await nameLookup(opened)
                let list = try await opened.revocations()
                if json {
                    Output.print(
                        JSON.array(
                            list.map {
                                .object([
                                    ("company", .string(names($0.company))), ("company_id", .string($0.company.hex)),
                                    ("replica", .string($0.replica.hex)), ("revoked_at", .number(Int64($0.revokedAt))),
                                ])
                            }
                        ).rendered()
                    )
                    return
                }
                if list.isEmpty { Output.print("No revoked replicas.") }
                for revocation in list {
                    Output.print("\(names(revocation.company)) replica \(revocation.replica.hex)")
                }
            }
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create this machine's node from an enrollment file.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The enrollment file.") var file: String
        @Flag(help: "Protect this replica's secret keys with a passphrase (ENTENTE_PASSPHRASE, or asked).")
        var passphrase = false
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await guarded {
                let options = Node.Options(
                    passphrase: passphrase ? try Passphrase.new(from: "ENTENTE_PASSPHRASE") : nil
                )
                let joined = try Node.join(
                    at: node.directory,
                    enrollment: try readFile(file, what: "enrollment"),
                    options: options
                )
                if json {
                    Output.print(
                        JSON.object([
                            ("company", .string(joined.card.name)), ("replica_id", .string(joined.replica.hex)),
                        ]).rendered()
                    )
                } else {
                    Output.print(
                        "Joined \(joined.card.name) as replica \(joined.replica.hex) in \(node.directory.path)"
                    )
                    Output.print("Next: import a bundle exported by another replica with --to \"\(joined.card.name)\"")
                }
            }
        }
    }
}
