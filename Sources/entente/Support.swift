import ArgumentParser
import Entente
import Foundation

/// Options every command takes.
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The node directory (default: $ENTENTE_DIR, else ./.entente).", valueName: "DIR"))
    var dir: String?

    var directory: URL {
        URL(fileURLWithPath: dir ?? ProcessInfo.processInfo.environment["ENTENTE_DIR"] ?? ".entente")
    }

    func open() throws -> Node {
        try Node.open(at: directory)
    }
}

/// A `KEY=VALUE` argument.
struct Assignment: ExpressibleByArgument {
    let name: String
    let value: String

    init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else { return nil }
        name = String(argument[..<equals])
        value = String(argument[argument.index(after: equals)...])
    }

    static var defaultCompletionKind: CompletionKind { .default }
    var field: FieldValue { FieldValue(name, value) }
}

enum Output {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("error: " + text + "\n").utf8))
    }

    static func progress(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Runs a command body, printing an `EntenteError` as one clear line and exiting with status 1.
func guarded(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as EntenteError {
        Output.error(error.message)
        throw ExitCode(1)
    }
}

func readFile(_ path: String, what: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw EntenteError(.notFound, "cannot read \(what) file \(path)")
    }
    return [UInt8](data)
}

func writeFile(_ bytes: [UInt8], to path: String, what: String) throws {
    do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw EntenteError(.invalidArgument, "cannot write \(what) to \(path): \(error.localizedDescription)")
    }
}
