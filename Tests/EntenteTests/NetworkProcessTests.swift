import EntenteCore
import EntenteTestSupport
import Foundation
import Synchronization
import Testing

@testable import Entente

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `entente` binary, found like `Tests/EntenteCLITests/CLIRunner.swift` finds it.
enum EntenteBinary {
    static let url: URL = BuiltBinary.entente
}

/// A child `entente` process whose stdout and stderr are collected as they arrive.
final class EntenteProcess: Sendable {
    final class Buffer: Sendable {
        private let text = Mutex("")
        func append(_ data: Data) { text.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        var value: String { text.withLock { $0 } }
    }

    private let process: Process
    let stdout = Buffer()
    let stderr = Buffer()

    init(_ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = EntenteBinary.url
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "ENTENTE_DIR")
        process.environment = environment
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        for (pipe, buffer) in [(out, stdout), (err, stderr)] {
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty { handle.readabilityHandler = nil } else { buffer.append(data) }
            }
        }
        self.process = process
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Waits at most `timeout` for `text` on stderr.
    func waitForStderr(_ text: String, timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if stderr.value.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return stderr.value.contains(text)
    }

    /// Waits at most `timeout` for the process to exit; returns its status (nil if it is still running).
    func exitStatus(within timeout: Duration) async -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while process.isRunning, clock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard !process.isRunning else { return nil }
        // Let the pipes drain.
        try? await Task.sleep(for: .milliseconds(50))
        return process.terminationStatus
    }

    func send(signal: Int32) {
        if process.isRunning { _ = kill(process.processIdentifier, signal) }
    }

    /// Stops the process (SIGTERM, then SIGKILL) and waits for it.
    func stop() async {
        send(signal: SIGTERM)
        if await exitStatus(within: .seconds(5)) == nil {
            send(signal: SIGKILL)
            _ = await exitStatus(within: .seconds(5))
        }
    }
}

@Suite struct NetworkProcessTests {
    @Test func aNodeKilledMidTransferResumesWithoutLossOrDuplication() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("entente-kill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        // Enough batches (of 256) that the kill lands mid-transfer even on a fast or busy machine.
        let writes = 2_000
        let padding = String(repeating: "x", count: 1_000)
        // Thousands of envelopes for Initech, made with the library: each write seals two envelopes addressed
        // to it (a joint field for all three companies, a field shared with Initech only).
        let expected: UInt64
        do {
            let globex = try Node.create(at: root.appendingPathComponent("globex"), companyName: "Globex")
            let initech = try Node.create(at: root.appendingPathComponent("initech"), companyName: "Initech")
            let umbra = try Node.create(at: root.appendingPathComponent("umbra"), companyName: "Umbra Cloud")
            for node in [globex, initech, umbra] {
                for other in [globex, initech, umbra] where other !== node { try await node.addPartner(other.card) }
            }
            var opening = Changes()
            opening.joint = [FieldValue("title", "Bulk transfer")]
            let id = try await globex.create(
                type: "opportunity",
                changes: opening,
                with: [initech.company, umbra.company]
            )
            for index in 0..<writes {
                var changes = Changes()
                changes.joint = [FieldValue("next_steps", "step \(index)")]
                changes.shared = [FieldValue("line_\(index % 50)", "\(index) \(padding)")]
                changes.sharedWith = [initech.company]
                try await globex.update(id, changes: changes)
            }
            expected = UInt64(try await globex.envelopes(for: initech.company).count)
            #expect(expected >= UInt64(2 * writes))
        }

        let server = try EntenteProcess(["serve", "--dir", "globex", "--listen", "127.0.0.1:0"], in: root)
        defer { server.send(signal: SIGKILL) }
        #expect(await server.waitForStderr("listening on 127.0.0.1:", timeout: .seconds(15)), "\(server.stderr.value)")
        let line = try #require(server.stderr.value.split(separator: "\n").first { $0.contains("listening on") })
        let address = String(try #require(line.split(separator: " ").last))

        // Initech pulls, and is killed (SIGKILL) as soon as it reports its first imported batch. On a busy
        // machine the victim may finish before the signal lands: then its store is put back and it tries again.
        let initechDirectory = root.appendingPathComponent("initech")
        let pristine = root.appendingPathComponent("initech-before-sync")
        try FileManager.default.copyItem(at: initechDirectory, to: pristine)
        var held: UInt64 = 0
        for attempt in 1...5 {
            if attempt > 1 {
                try FileManager.default.removeItem(at: initechDirectory)
                try FileManager.default.copyItem(at: pristine, to: initechDirectory)
            }
            let victim = try EntenteProcess(["sync", "Globex", "--address", address, "--dir", "initech"], in: root)
            let progressed = await victim.waitForStderr("received", timeout: .seconds(30))
            victim.send(signal: SIGKILL)
            #expect(progressed, "no progress line before the kill: \(victim.stderr.value)")
            #expect(await victim.exitStatus(within: .seconds(10)) != nil)
            // What Initech committed before dying is a prefix; nothing is torn.
            let initech = try Node.open(at: initechDirectory)
            held = try await initech.summary().held.values.reduce(0, +)
            if held < expected { break }
        }
        #expect(held > 0 && held < expected, "the kill did not land mid-transfer: held \(held) of \(expected)")

        // The next sync moves exactly the rest.
        let resumed = try EntenteProcess(
            ["sync", "Globex", "--address", address, "--dir", "initech", "--json"],
            in: root
        )
        #expect(await resumed.exitStatus(within: .seconds(60)) == 0, "\(resumed.stderr.value)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(resumed.stdout.value.utf8)) as? [String: Any]
        )
        #expect(report["received"] as? Int == Int(expected - held), "\(report)")
        #expect(report["duplicates"] as? Int == 0)
        #expect(report["refused"] as? Int == 0)

        let initech = try Node.open(at: root.appendingPathComponent("initech"))
        #expect(try await initech.summary().held.values.reduce(0, +) == expected)
        #expect(try await initech.status().waiting.isEmpty)
        let objects = try await initech.objects()
        #expect(objects.count == 1)
        let view = try await initech.object(try #require(objects.first).id)
        let globexFields = view.fields.first { $0.company.name == "Globex" }?.fields ?? []
        #expect(globexFields.count == 50)
        #expect(globexFields.contains { $0.name == "line_49" && $0.value == .string("\(writes - 1) \(padding)") })
        #expect(view.joint.contains { $0.name == "next_steps" && $0.value == .string("step \(writes - 1)") })
        await server.stop()
    }
}
