import ArgumentParser
import Entente
import Foundation

/// `entente partner quota`: how much of each partner's data this node holds, and how much it may.
struct PartnerQuota: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota",
        abstract: "Show or set how many envelope bytes each partner may make this node store.",
        discussion: """
            A partner's quota counts every envelope it signed that this node holds, whether the partner sent it \
            or another partner relayed it. An import or sync that would take a partner over its quota refuses \
            that partner's envelopes with an error naming it (a bundle is refused whole; over the network, a \
            partner over quota is cut off and other partners' envelopes still arrive). Quotas are local: \
            partners never see them. Without a quota of its own, a partner gets the node's default \
            (10240 MiB unless set with --default).

              entente partner quota                      # usage and quota of every partner
              entente partner quota Initech 2048         # Initech may make this node hold 2 GiB
              entente partner quota Initech --reset      # back to the node's default
              entente partner quota --default 4096       # the default for partners without their own
            """
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "A pinned partner (name or id prefix); all partners if omitted.") var partner: String?
    @Argument(help: "The partner's new quota in MiB (1 MiB = 1,048,576 bytes).") var megabytes: Int64?
    @Flag(help: "Give the partner the node's default quota again.") var reset = false
    @Option(name: .customLong("default"), help: ArgumentHelp("Set the default quota in MiB.", valueName: "MEGABYTES"))
    var defaultMegabytes: Int64?
    @Flag(help: "Print as JSON.") var json = false

    func validate() throws {
        if megabytes != nil || reset, partner == nil {
            throw ValidationError("name the partner whose quota to set")
        }
        if megabytes != nil, reset { throw ValidationError("give a quota or --reset, not both") }
        for value in [megabytes, defaultMegabytes].compactMap({ $0 }) {
            guard (0...(Int64.max >> 20)).contains(value) else {
                throw ValidationError("a quota is a number of MiB from 0 to \(Int64.max >> 20), not \(value)")
            }
        }
    }

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            if let defaultMegabytes { try await opened.setDefaultStorageQuota(defaultMegabytes << 20) }
            var shown = try await opened.storageUsage()
            if let partner {
                let target = try await opened.partner(named: partner)
                guard !target.isSelf else {
                    throw EntenteError(.invalidArgument, "this company's own envelopes have no quota")
                }
                if reset || megabytes != nil {
                    try await opened.setStorageQuota(megabytes.map { $0 << 20 }, for: target.company)
                }
                shown = try await opened.storageUsage().filter { $0.partner.company == target.company }
            }
            if json {
                Output.print(JSON.array(shown.map(Self.json)).rendered())
            } else if shown.isEmpty {
                Output.print("No partners pinned yet. Add one with: entente partner add CARD")
            } else {
                for row in shown {
                    Output.print(
                        "\(row.partner.name)\t\(row.envelopes) envelopes\t\(Self.mebibytes(row.bytes)) of "
                            + "\(Self.mebibytes(row.quota))\(row.isOwnQuota ? "" : " (default)")"
                    )
                }
            }
        }
    }

    static func mebibytes(_ bytes: Int64) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    static func json(_ row: PartnerStorage) -> JSON {
        JSON.object([
            ("partner", .string(row.partner.name)), ("company_id", .string(row.partner.company.hex)),
            ("envelopes", .number(row.envelopes)), ("bytes", .number(row.bytes)),
            ("quota_bytes", .number(row.quota)), ("default_quota", .bool(!row.isOwnQuota)),
        ])
    }
}
