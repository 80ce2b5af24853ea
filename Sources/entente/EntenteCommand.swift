import ArgumentParser
import Entente
import Foundation

@main
struct EntenteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entente",
        abstract: "Share business records with partner companies: signed, encrypted, field by field.",
        discussion: """
            Each company runs its own node (a directory with its keys and SQLite database). Objects such as \
            opportunities have joint fields (co-edited by every participant), and each company's own fields, \
            which it shares with all participants, with named partners only (--to), or keeps private. \
            Partners exchange signed, encrypted bundles; private fields never leave their company.

            Start with: entente init --company NAME, then exchange cards (entente card / entente partner add).
            Every command takes --dir DIR (or $ENTENTE_DIR; default ./.entente). Read commands take --json.
            Exit status: 0 on success, 1 on an error (printed to stderr as 'error: ...'), 64 on a usage error.
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, Card.self, PartnerCommand.self, New.self, SetFields.self, Elements.self, Share.self, Invite.self,
            Uninvite.self, Archive.self, Show.self, List.self, Conflicts.self, History.self, Status.self,
            SummaryCommand.self, BundleCommand.self, ReplicaCommand.self, Serve.self, SyncCommand.self, Types.self,
            Move.self, Convert.self, PolicyCommand.self, ImportCommand.self, ExportCommand.self,
            ReportCommand.self, KeyCommand.self, Verify.self,
        ]
    )
}

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a node: company keys, a replica key certified by the company key, and the database.",
        discussion: """
            Secret keys are written under DIR/keys with mode 0600; with --passphrase they are also encrypted \
            (Argon2id + crypto_secretbox), and every command then needs ENTENTE_PASSPHRASE or asks for it.
            """
    )
    @OptionGroup var node: NodeOptions
    @Option(help: "The company's display name, as partners will see it.") var company: String
    @Option(help: "A network address (host:port) to put on the partner card.") var address: String?
    @Flag(
        help: "Protect the secret keys with a passphrase (from ENTENTE_PASSPHRASE, or typed twice when asked)."
    )
    var passphrase = false
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let options = Node.Options(passphrase: passphrase ? try Passphrase.new(from: "ENTENTE_PASSPHRASE") : nil)
            let created = try Node.create(at: node.directory, companyName: company, address: address, options: options)
            if json {
                Output.print(
                    JSON.object([
                        ("company", .string(created.card.name)), ("company_id", .string(created.company.hex)),
                        ("replica_id", .string(created.replica.hex)), ("dir", .string(node.directory.path)),
                    ]).rendered()
                )
            } else {
                Output.print("Created node for \(created.card.name) in \(node.directory.path)")
                Output.print("company id \(created.company.hex)")
                Output.print(
                    "Share your card with partners: entente card --dir \(node.directory.path) > \(created.card.name).card"
                )
            }
        }
    }
}

struct Card: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print this company's partner card (JSON) for partners to pin.",
        discussion: "The card holds the company name, its public keys and a self-signature. It is always JSON."
    )
    @OptionGroup var node: NodeOptions
    @Option(help: "Write the card to this file instead of standard output.") var out: String?
    @Flag(help: "Print as JSON (the card is always JSON; accepted for consistency).") var json = false

    func run() async throws {
        try await guarded {
            let card = try node.open().card.json()
            if let out {
                try writeFile(Array(card.utf8), to: out, what: "card")
            } else {
                FileHandle.standardOutput.write(Data(card.utf8))
            }
        }
    }
}

struct PartnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partner",
        abstract: "Pin partner companies, list them, and set how much of their data this node stores.",
        subcommands: [Add.self, ListPartners.self, PartnerQuota.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pin a partner's card (checks its self-signature).")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The card file the partner sent (output of `entente card`).") var file: String
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await guarded {
                let bytes = try readFile(file, what: "card")
                let card: PartnerCard
                do { card = try PartnerCard(json: bytes) } catch { throw EntenteError(.badInput, "\(file): \(error)") }
                let partner = try await node.open().addPartner(card)
                if json {
                    Output.print(
                        JSON.object([("name", .string(partner.name)), ("company_id", .string(partner.company.hex))])
                            .rendered()
                    )
                } else {
                    Output.print("Pinned \(partner.name) (\(partner.company.hex))")
                }
            }
        }
    }

    struct ListPartners: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List pinned partners.")
        @OptionGroup var node: NodeOptions
        @Flag(help: "Print as JSON.") var json = false

        func run() async throws {
            try await guarded {
                let partners = try await node.open().partners()
                if json {
                    Output.print(
                        JSON.array(
                            partners.map {
                                JSON.object([
                                    ("name", .string($0.name)), ("company_id", .string($0.company.hex)),
                                    ("address", $0.address.map(JSON.string) ?? .null),
                                ])
                            }
                        ).rendered()
                    )
                } else if partners.isEmpty {
                    Output.print("No partners pinned yet. Add one with: entente partner add CARD")
                } else {
                    for partner in partners {
                        Output.print("\(partner.name)\t\(partner.company.hex)\t\(partner.address ?? "-")")
                    }
                }
            }
        }
    }
}
