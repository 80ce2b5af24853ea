import ArgumentParser
import Entente
import Foundation

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the integrity of this node's database (changes nothing).",
        discussion: """
            Runs SQLite's integrity and foreign-key checks; re-parses every logged envelope, recomputes its hash, \
            checks its signature and replica certificate against the pinned company key; checks every recorded \
            sequence number against its envelope's header and this node's outgoing counters; and rebuilds every \
            object from its logged envelopes to compare with its stored state. Exit status 0 if the node is sound, \
            1 with one 'error:' line per problem if not.
            """
    )
    @OptionGroup var node: NodeOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let report = try await node.open().verify()
            if json {
                Output.print(
                    JSON.object([
                        ("sound", .bool(report.isSound)), ("envelopes", .number(Int64(report.envelopes))),
                        ("sequences", .number(Int64(report.sequences))), ("parts", .number(Int64(report.parts))),
                        ("objects", .number(Int64(report.objects))), ("counters", .number(Int64(report.counters))),
                        (
                            "problems",
                            .array(
                                report.problems.map {
                                    .object([
                                        ("area", .string($0.area.rawValue)), ("subject", .string($0.subject)),
                                        ("message", .string($0.message)),
                                    ])
                                }
                            )
                        ),
                    ]).rendered()
                )
            } else {
                Output.print(
                    "Checked \(report.envelopes) envelopes, \(report.sequences) sequence numbers, \(report.parts) parts, "
                        + "\(report.objects) objects, \(report.counters) counters: "
                        + (report.isSound ? "sound" : "\(report.problems.count) problem(s)")
                )
            }
            guard report.isSound else {
                for problem in report.problems { Output.error(problem.description) }
                throw ExitCode(1)
            }
        }
    }
}
