import ArgumentParser
import Entente
import Foundation
import Synchronization

struct SummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Write what this node already holds, so a partner exports only what is missing.",
        discussion: "Send the file to a partner; it runs: entente bundle export --to YOU --summary FILE"
    )
    @OptionGroup var node: NodeOptions
    @Option(help: "Write the summary to this file (default: standard output).") var out: String?
    @Flag(help: "Print as JSON (the summary is always JSON; accepted for consistency).") var json = false

    func run() async throws {
        try await guarded {
            let text = try await node.open().summary().json()
            if let out {
                try writeFile(Array(text.utf8), to: out, what: "summary")
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}

struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Move envelopes between companies as files (offline sync).",
        subcommands: [Export.self, Import.self, Inspect.self]
    )

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every envelope a partner is entitled to into a bundle file.",
            discussion:
                "The file is written a page of envelopes at a time and appears complete or not at all (an existing file is replaced)."
        )
        @OptionGroup var node: NodeOptions
        @Option(help: "The partner's name or company id.") var to: String
        @Option(help: "The bundle file to write.") var out: String
        @Option(help: "The partner's summary file: export only what it lacks.") var summary: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await guarded {
                let opened = try node.open()
                let partner = try await opened.partner(named: to)
                var since: Summary?
                if let summary {
                    do { since = try Summary(json: try readFile(summary, what: "summary")) } catch let error
                        as EntenteError
                    { throw error } catch {
                        throw EntenteError(.badInput, "\(summary): \(error)")
                    }
                }
                let written = try await opened.exportBundle(to: partner.company, since: since, file: out)
                if json {
                    Output.print(
                        JSON.object([
                            ("to", .string(partner.name)), ("envelopes", .number(Int64(written.envelopes))),
                            ("bytes", .number(Int64(written.bytes))), ("file", .string(out)),
                        ]).rendered()
                    )
                } else {
                    Output.print(
                        "Wrote \(written.envelopes) envelopes (\(written.bytes) bytes) for \(partner.name) to \(out)"
                    )
                }
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify and merge a bundle from a partner.",
            discussion:
                "All or nothing: if any envelope is malformed, tampered with, from an unknown company, misaddressed or unauthorised, nothing is imported. The file is checked whole first, envelope by envelope, without writing; then merged in short transactions, so that other work on the node goes on meanwhile. For a bundle of 1,000 envelopes or more, progress goes to standard error at each tenth of the check and of the merge."
        )
        @OptionGroup var node: NodeOptions
        @Argument(help: "The bundle file.") var file: String
        @Flag(help: "Print the result as JSON.") var json = false
        @Flag(help: "Print progress lines whatever the bundle's size.") var progress = false
        @Flag(help: "Print no progress lines.") var quiet = false

        func validate() throws {
            if progress && quiet { throw ValidationError("--progress and --quiet contradict each other") }
        }

        func run() async throws {
            try await guarded {
                let printer = ImportProgressPrinter(minimum: progress ? 1 : quiet ? .max : 1_000)
                let report = try await node.open().importBundle(file: file) { printer.report($0) }
                if json {
                    Output.print(
                        JSON.object([
                            ("envelopes", .number(Int64(report.envelopes))),
                            ("applied", .number(Int64(report.applied))),
                            ("duplicates", .number(Int64(report.duplicates))),
                            ("waiting", .number(Int64(report.waiting))),
                            ("operations", .number(Int64(report.operations))),
                            ("resent", .number(Int64(report.resent))),
                            ("notes", .array(report.notes.map(JSON.string))),
                        ]).rendered()
                    )
                } else {
                    Output.print(
                        "Imported \(report.applied) envelopes (\(report.operations) operations); \(report.duplicates) already held; \(report.waiting) waiting"
                    )
                    if report.resent > 0 {
                        Output.print("Sealed \(report.resent) envelopes of your fields for newly invited partners")
                    }
                    for note in report.notes { Output.print("note: \(note)") }
                }
            }
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Describe a bundle's envelopes; those addressed to this company are decrypted and listed."
        )
        @OptionGroup var node: NodeOptions
        @Argument(help: "The bundle file.") var file: String
        @Flag(help: "Print as JSON.") var json = false

        func run() async throws {
            try await guarded {
                let infos = try await node.open().inspect(file: file)
                if json {
                    Output.print(
                        JSON.array(
                            infos.map { info in
                                JSON.object([
                                    ("hash", .string(info.hash)), ("origin", .string(info.origin)),
                                    ("replica", .string(info.replica)),
                                    ("audience", .array(info.audience.map(JSON.string))),
                                    ("bytes", .number(Int64(info.bytes))),
                                    ("verified", .bool(info.verified)),
                                    ("operations", info.operations.map { .array($0.map(JSON.string)) } ?? .null),
                                ])
                            }
                        ).rendered()
                    )
                    return
                }
                for (index, info) in infos.enumerated() {
                    Output.print(
                        "envelope \(index + 1): from \(info.origin) (replica \(info.replica)) to \(info.audience.joined(separator: ", ")), \(info.bytes) bytes, \(info.verified ? "signature verified" : "NOT verified")"
                    )
                    for operation in info.operations ?? ["(not addressed to this company: encrypted)"] {
                        Output.print("  \(operation)")
                    }
                }
            }
        }
    }
}

/// Prints a bundle import's progress on standard error at each tenth of the envelopes of a bundle of at least
/// `minimum` envelopes.
final class ImportProgressPrinter: Sendable {
    /// The last step printed and its tenth.
    private let last = Mutex<(step: String, tenth: Int)>(("", 0))
    private let minimum: Int

    init(minimum: Int) { self.minimum = minimum }

    func report(_ progress: BundleImportProgress) {
        let (step, done, total) =
            switch progress {
            case .checked(let done, let total): ("checked", done, total)
            case .merged(let done, let total): ("merged", done, total)
            }
        guard total >= minimum else { return }
        let tenth = done * 10 / total
        let isNew = last.withLock { last in
            guard last.step != step || last.tenth != tenth else { return false }
            last = (step, tenth)
            return true
        }
        if isNew, tenth > 0 { Output.progress("\(step) \(done)/\(total) envelopes") }
    }
}
