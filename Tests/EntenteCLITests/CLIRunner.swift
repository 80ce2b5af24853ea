import EntenteTestSupport
import Foundation
import Testing

/// Runs the built `entente` binary.
struct CLI {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The binary: $ENTENTE_BIN, else `entente` next to the test bundle in the build products directory.
    static let binary: URL = BuiltBinary.entente

    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("entente-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: root) }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    /// Runs the binary to its end; the calling task suspends while it runs (see `ChildProcess`).
    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = root
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "ENTENTE_DIR")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        let output = try await ChildProcess.run(process)
        return Result(
            status: output.status,
            stdout: String(decoding: output.stdout, as: UTF8.self),
            stderr: String(decoding: output.stderr, as: UTF8.self)
        )
    }

    /// Runs and requires success, returning stdout.
    @discardableResult
    func ok(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await run(arguments)
        #expect(
            result.status == 0,
            "entente \(arguments.joined(separator: " ")) failed: \(result.stderr)",
            sourceLocation: sourceLocation
        )
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs and requires a clean failure: non-zero exit, one `error:` line naming the problem.
    @discardableResult
    func fails(
        _ arguments: [String],
        mentioning: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Result {
        let result = try await run(arguments)
        #expect(
            result.status != 0,
            "entente \(arguments.joined(separator: " ")) should fail",
            sourceLocation: sourceLocation
        )
        #expect(
            result.stderr.lowercased().contains(mentioning.lowercased()),
            "stderr of entente \(arguments.joined(separator: " ")) does not mention '\(mentioning)': \(result.stderr)",
            sourceLocation: sourceLocation
        )
        #expect(!result.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
        return result
    }

    func bytes(_ name: String) -> [UInt8] {
        FileManager.default.contents(atPath: path(name)).map { [UInt8]($0) } ?? []
    }

    func write(_ bytes: [UInt8], _ name: String) throws {
        try Data(bytes).write(to: root.appendingPathComponent(name))
    }
}
