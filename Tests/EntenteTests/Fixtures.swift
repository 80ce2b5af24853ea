import EntenteTestSupport
import EntenteWire
import Foundation
import Testing

@testable import Entente

/// Three companies with pinned cards in a fresh temporary directory.
struct Deal {
    let root: URL
    let globex: Node
    let initech: Node
    let umbra: Node
    var all: [Node] { [globex, initech, umbra] }

    static func make(
        now: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }
    ) async throws -> Deal {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("entente-tests-\(UUID().uuidString)")
        let options = Node.Options(now: now)
        let globex = try Node.create(at: root.appendingPathComponent("globex"), companyName: "Globex", options: options)
        let initech = try Node.create(
            at: root.appendingPathComponent("initech"),
            companyName: "Initech",
            options: options
        )
        let umbra = try Node.create(
            at: root.appendingPathComponent("umbra"),
            companyName: "Umbra Cloud",
            options: options
        )
        for node in [globex, initech, umbra] {
            for other in [globex, initech, umbra] where other !== node { try await node.addPartner(other.card) }
        }
        return Deal(root: root, globex: globex, initech: initech, umbra: umbra)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: root) }
}

/// Moves a bundle from one node to another through a file, as the CLI does (written and read an envelope at a
/// time), and returns its bytes (for scanning). The file must be the very bundle an in-memory export encodes.
@discardableResult
func send(
    _ from: Node,
    _ to: Node,
    summary: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> [UInt8] {
    let since = summary ? try await to.summary() : nil
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("entente-\(UUID().uuidString).bundle")
    defer { try? FileManager.default.removeItem(at: file) }
    let written = try await from.exportBundle(to: to.company, since: since, file: file.path)
    let bytes = [UInt8](try Data(contentsOf: file))
    #expect(written.bytes == bytes.count, sourceLocation: sourceLocation)
    #expect(
        bytes == (try await from.exportBundle(to: to.company, since: since).encoded()),
        sourceLocation: sourceLocation
    )
    #expect(try await to.inspect(file: file.path) == (try await to.inspect(bytes)), sourceLocation: sourceLocation)
    try await to.importBundle(file: file.path)
    return bytes
}

/// Moves only the sender's own envelopes (no relayed ones, such as the create of an object it does not own), so
/// that the recipient receives writes before what they depend on.
@discardableResult
func sendOwn(_ from: Node, _ to: Node) async throws -> ImportReport {
    let all = try await from.exportBundle(to: to.company)
    let own = try all.envelopes.filter { try EntenteWire.Envelope(parsing: $0).origin == from.company }
    return try await to.importBundle(Bundle(envelopes: own).encoded())
}

/// Everything a node shows: used to prove a failed import changed nothing.
func fingerprint(_ node: Node) async throws -> String {
    var parts: [String] = []
    let status = try await node.status()
    parts.append("\(status.objects) \(status.envelopes) \(status.waiting)")
    parts.append("\(try await node.summary().held.sorted { $0.key < $1.key })")
    for summary in try await node.objects() {
        let view = try await node.object(summary.id)
        parts.append("\(view.participants) \(view.joint) \(view.fields.map { "\($0.company.name) \($0.fields)" })")
    }
    return parts.joined(separator: "\n")
}

/// The bytes of a node's database files (main file and write-ahead log).
func databaseBytes(_ node: Node) -> [UInt8] {
    ["", "-wal", "-shm"].flatMap { suffix in
        (FileManager.default.contents(atPath: node.databasePath + suffix)).map { [UInt8]($0) } ?? []
    }
}
