import ArgumentParser
import Entente
import EntenteCSV
import Foundation
import Synchronization

/// Reads `--map`: a built-in mapping name, or a mapping file.
func loadMapping(_ text: String?, type: String?) throws -> Mapping {
    let name = text ?? (type == nil || type == "opportunity" ? "generic-pipeline" : "")
    if let builtin = Mapping.builtin(named: name) { return builtin }
    guard !name.isEmpty else {
        throw EntenteError(.invalidArgument, "give a column mapping with --map FILE (built-in: \(Mapping.builtinNames.joined(separator: ", ")))")
    }
    guard FileManager.default.fileExists(atPath: name) else {
        throw EntenteError(
            .notFound,
            "no mapping file \(name) (built-in mappings: \(Mapping.builtinNames.joined(separator: ", ")))"
        )
    }
    do { return try Mapping(contentsOfFile: name) } catch {
        throw EntenteError(.badInput, "mapping \(name): \(error)")
    }
}

func plan(_ mapping: Mapping, type: String?) throws -> CSVPlan {
    if let type, type != mapping.objectType {
        throw EntenteError(.invalidArgument, "the mapping is for \(mapping.objectType) records, not \(type)")
    }
    do { return try CSVPlan(mapping: mapping) } catch { throw EntenteError(.badInput, "mapping: \(error)") }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import records from a CRM export.",
        subcommands: [ImportCSV.self]
    )
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export records for a CRM.",
        subcommands: [ExportCSV.self]
    )
}

struct ImportCSV: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv",
        abstract: "Import a CSV file: one object per row, upserted by the CRM record id (kept private as crm_id).",
        discussion: """
            --map takes a mapping file (Specs/csv.md) or a built-in name: salesforce-opportunity, generic-pipeline \
            (the default for opportunities). Fields are placed by the catalog and this company's sharing policies, \
            which also invite partners. All or nothing by default: if any row is bad, nothing is imported and every \
            bad row is reported with its line; --skip-bad-rows imports the good rows. Importing the same file again \
            changes nothing. --dry-run reports what would happen.
            Example: entente import csv opportunities.csv --map salesforce-opportunity --with Initech
            """
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The CSV file.") var file: String
    @Option(help: "The object type (default: the mapping's).") var type: String?
    @Option(help: ArgumentHelp("A mapping file or built-in mapping name.", valueName: "MAPPING")) var map: String?
    @Option(name: .customLong("with"), help: ArgumentHelp("Invite this partner to new objects.", valueName: "PARTNER"))
    var with: [String] = []
    @Flag(help: "Import the good rows and report the bad ones (default: all or nothing).") var skipBadRows = false
    @Flag(help: "Check everything and report what would be created and updated; write nothing.") var dryRun = false
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let plan = try plan(try loadMapping(map, type: type), type: type)
            let partners = try await opened.partners(includingSelf: true)
            var participants: [CompanyID] = []
            for name in with { participants.append(try await opened.partner(named: name).company) }
            let started = Date()
            // The file is read twice, a chunk of records at a time: once to check every row, once to write.
            var warnings: [String] = []
            var recordsRead = 0
            var readings = 0
            let summary = try await opened.importRecords(
                type: plan.kind.name,
                with: participants,
                skipBadRecords: skipBadRows,
                dryRun: dryRun,
                progress: { done, total in Output.progress("imported \(done)/\(total)") }
            ) { deliver in
                readings += 1
                let pass = readings == 1 ? "checked" : "read again to write"
                var pending = ImportChunk(records: [])
                // A chunk the node refuses stops the deliveries; the rest of the file is read but not kept.
                var failure: (any Error)?
                func flush() {
                    if failure == nil {
                        do { try deliver(pending) } catch { failure = error }
                    }
                    pending = ImportChunk(records: [])
                }
                do {
                    let reader = try CSVReader(path: file)
                    warnings = try plan.convert(
                        reader,
                        resolveCompany: { text in
                            partners.first { $0.name.lowercased() == text.lowercased() || $0.company.hex == text }?
                                .company.hex
                        },
                        progress: { read in
                            if read % 20_000 == 0 { Output.progress("\(pass) \(read) rows...") }
                        },
                        onRow: { row in
                            pending.records.append(
                                ImportRecord(
                                    line: row.line,
                                    key: row.key,
                                    fields: row.values.map { FieldValue($0.field, $0.value) },
                                    sets: Dictionary(row.sets.map { ($0.field, $0.elements) }, uniquingKeysWith: { _, last in last })
                                )
                            )
                            if pending.records.count >= 2000 { flush() }
                        },
                        onError: { pending.problems.append(ImportProblem(line: $0.line, message: $0.description)) }
                    )
                    recordsRead = reader.recordsRead
                } catch { throw EntenteError(.badInput, "\(file): \(error)") }
                flush()
                if let failure { throw failure }
            }
            let problems = summary.problems
            let seconds = Date().timeIntervalSince(started)
            if json {
                Output.print(
                    JSON.object([
                        ("rows", .number(Int64(recordsRead))), ("created", .number(Int64(summary.created))),
                        ("updated", .number(Int64(summary.updated))), ("unchanged", .number(Int64(summary.unchanged))),
                        ("written", .bool(!summary.dryRun)),
                        (
                            "problems",
                            .array(
                                problems.map {
                                    .object([("line", .number(Int64($0.line))), ("message", .string($0.message))])
                                }
                            )
                        ),
                        ("warnings", .array(warnings.map(JSON.string))),
                    ]).rendered()
                )
            } else {
                for warning in warnings { Output.progress("warning: \(warning)") }
                for problem in problems { Output.progress("line \(problem.line): \(problem.message)") }
                let verb = summary.dryRun ? "would create" : "created"
                Output.print(
                    "\(recordsRead) rows: \(verb) \(summary.created), "
                        + "\(summary.dryRun ? "would update" : "updated") \(summary.updated), unchanged \(summary.unchanged)"
                        + (problems.isEmpty ? "" : ", \(problems.count) bad") + " (\(String(format: "%.2f", seconds)) s)"
                )
            }
            if !problems.isEmpty && !skipBadRows {
                throw EntenteError(
                    .badInput,
                    "\(problems.count) bad row(s) in \(file); nothing was imported (fix them, or use --skip-bad-rows)"
                )
            }
        }
    }
}

struct ExportCSV: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv",
        abstract: "Export the objects of a type as CSV, in a mapping's columns and formats.",
        discussion: """
            Values are those this company sees: joint fields and its own (private ones included; this is for its own \
            CRM). Objects without a CRM id are keyed by their object id; importing the file back changes nothing.
            """
    )
    @OptionGroup var node: NodeOptions
    @Option(help: "The object type (default: the mapping's).") var type: String?
    @Option(help: ArgumentHelp("A mapping file or built-in mapping name.", valueName: "MAPPING")) var map: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file (default: standard output).", valueName: "FILE"))
    var out: String?
    @Flag(help: "Start with a UTF-8 byte-order mark (for spreadsheets).") var bom = false

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            let plan = try plan(try loadMapping(map, type: type), type: type)
            let partners = try await opened.partners(includingSelf: true)
            let names: @Sendable (String) -> String? = { id in partners.first { $0.company.hex == id }?.name }
            // Written a page of records at a time: memory stays flat however many records the store holds.
            let output = try ExportOutput(path: out)
            do {
                try output.write(plan.exportHeaderText(byteOrderMark: bom), rows: 0)
                let count = try await opened.exportRecords(type: plan.kind.name) { page in
                    let text: String
                    do {
                        text = try plan.exportRows(
                            page.map { ExportRow(key: $0.key, values: $0.values, sets: $0.sets) },
                            companyName: names
                        )
                    } catch { throw EntenteError(.badInput, "export: \(error)") }
                    try output.write(text, rows: page.count)
                }
                try output.finish()
                if let out { Output.progress("wrote \(count) \(plan.kind.name) rows to \(out)") }
            } catch {
                output.discard()
                throw error
            }
        }
    }
}

/// Where `entente export csv` writes: a temporary file beside the named one, renamed over it once complete (an
/// export that fails leaves any earlier file as it was), or standard output. Reports progress on stderr.
final class ExportOutput: Sendable {
    private let handle: FileHandle
    private let path: String?
    private let temporary: String?
    private let rows = Atomic<Int>(0)

    init(path: String?) throws {
        self.path = path
        guard let path else {
            handle = FileHandle.standardOutput
            temporary = nil
            return
        }
        let temporary = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else { throw EntenteError(.invalidArgument, "cannot write CSV to \(path): cannot create \(temporary)") }
        self.handle = handle
        self.temporary = temporary
    }

    func write(_ text: String, rows count: Int) throws {
        do { try handle.write(contentsOf: Data(text.utf8)) } catch {
            throw EntenteError(.invalidArgument, "cannot write CSV to \(path ?? "standard output"): \(error.localizedDescription)")
        }
        let before = rows.add(count, ordering: .relaxed).oldValue
        if path != nil, before / 50_000 != (before + count) / 50_000 { Output.progress("exported \(before + count) rows...") }
    }

    func finish() throws {
        guard let path, let temporary else { return }
        try? handle.close()
        guard rename(temporary, path) == 0 else {
            throw EntenteError(.invalidArgument, "cannot write CSV to \(path): \(String(cString: strerror(errno)))")
        }
    }

    func discard() {
        guard let temporary else { return }
        try? handle.close()
        try? FileManager.default.removeItem(atPath: temporary)
    }
}
