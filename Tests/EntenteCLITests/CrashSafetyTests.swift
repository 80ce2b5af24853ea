import EntenteTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real `entente` process SIGKILLed at seeded random moments, during a CSV import and during a network sync.
///
/// Either side of a sync is killed. After every kill the store opens and `entente verify` passes; then a full re-run
/// completes, and the result matches a reference node that was never killed: nothing lost, nothing doubled.
///
/// `ENTENTE_KILL_CYCLES=100` runs more cycles per scenario (default 8); `ENTENTE_KILL_SEED` changes the seed.
@Suite(.serialized) struct CrashSafetyTests {
    static let environment = ProcessInfo.processInfo.environment
    static let cycles = environment["ENTENTE_KILL_CYCLES"].flatMap(Int.init) ?? 8
    static let seed = environment["ENTENTE_KILL_SEED"].flatMap(UInt64.init) ?? 2026

    /// A CSV for the `generic-pipeline` mapping: rows `first..<last` with values that depend on `version`.
    static func pipelineCSV(prefix: String, rows: Range<Int>, version: Int) -> String {
        var text =
            "id,name,account,type,stage,amount,currency,probability,close_date,next_steps,region,solution,"
            + "delivery_models,sourced_by,on_hold,notes\n"
        let stages = ["qualified", "technical-validation", "business-validation", "committed"]
        for row in rows {
            text += "\(prefix)-\(row),Deal \(row),\"Account \(row % 97), Inc.\",net-new,\(stages[(row + version) % 4]),"
            text +=
                "\(1000 + row * 7 + version).00,USD,\(20 + (row + version) % 60),2027-03-31,Step \(version) of \(row),"
            text += "\(row % 2 == 0 ? "EMEA" : "NA"),,saas;services,,\(version % 2 == 0),note \(row) v\(version)\n"
        }
        return text
    }

    /// What must match between a killed node and its reference: objects (without their ids, which differ
    /// between companies for objects each creates), the exported CSV and the counts.
    static func content(_ cli: CLI, _ dir: String) async throws -> (list: [String], export: [String], objects: Int) {
        let list = try await cli.ok("list", "--json", "--dir", dir)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]])
        let described = entries.map { entry in
            entry.filter { $0.key != "id" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: ";")
        }
        let export = try await cli.ok("export", "csv", "--dir", dir).split(whereSeparator: \.isNewline).map(String.init)
        return (described.sorted(), export.sorted(), try await status(cli, dir).objects)
    }

    static func status(_ cli: CLI, _ dir: String) async throws -> (objects: Int, envelopes: Int) {
        let json = try await cli.ok("status", "--json", "--dir", dir)
        let status = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return (status["objects"] as? Int ?? -1, status["envelopes"] as? Int ?? -1)
    }

    /// The store opens and verifies clean.
    static func expectSound(_ cli: CLI, _ dir: String, _ context: String) async throws {
        let verified = try await cli.run(["verify", "--dir", dir])
        #expect(
            verified.status == 0,
            "\(context): entente verify --dir \(dir) failed: \(verified.stdout)\(verified.stderr)"
        )
    }

    @Test func killedImportsLeaveASoundStoreAndAReRunCompletes() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        var rng = SplitMix64(seed: Self.seed)
        try await cli.ok("init", "--company", "Globex", "--dir", "g")
        try await cli.ok("init", "--company", "Globex", "--dir", "reference")
        var killed = 0
        var finished = 0
        var estimate = 3.0
        var total = 0
        for cycle in 1...Self.cycles {
            // The first file has 2,100 rows (two import transactions); each later one changes 100 of the rows
            // and adds 50.
            let rows = cycle == 1 ? 0..<2100 : (1950 + 50 * cycle)..<(2100 + 50 * cycle)
            total = max(total, rows.upperBound)
            try cli.write(Array(Self.pipelineCSV(prefix: "P", rows: rows, version: cycle).utf8), "v\(cycle).csv")
            let started = Date()
            try await cli.ok("import", "csv", "v\(cycle).csv", "--dir", "reference")
            estimate = Date().timeIntervalSince(started)

            let run = try KillableProcess(
                cli,
                ["import", "csv", "v\(cycle).csv", "--dir", "g"],
                log: "import-\(cycle)"
            )
            let delay = Double(rng.int(0...1000)) / 1000 * estimate
            try await Task.sleep(for: .seconds(delay))
            if await run.kill() { killed += 1 } else { finished += 1 }
            try await Self.expectSound(cli, "g", "import cycle \(cycle), killed after \(delay) s")

            let rerun = try await cli.run(["import", "csv", "v\(cycle).csv", "--dir", "g"])
            #expect(rerun.status == 0, "re-import \(cycle): \(rerun.stderr)")
            let objects = try await Self.status(cli, "g").objects
            #expect(objects == total, "cycle \(cycle): \(objects) objects for \(total) distinct rows")
            if objects != total { break }
        }
        let (mine, theirs) = (try await Self.content(cli, "g"), try await Self.content(cli, "reference"))
        #expect(mine.objects == total && theirs.objects == total)
        #expect(mine.list == theirs.list, "the objects differ from the reference's")
        #expect(mine.export == theirs.export, "the exported records differ from the reference's")
        #expect(mine.export.count == total + 1, "\(mine.export.count - 1) exported rows for \(total) objects")
        try await Self.expectSound(cli, "g", "after every import cycle")
        print(
            "crash safety (import): \(killed + finished) kill cycles survived "
                + "(\(killed) killed mid-import, \(finished) finished before the kill)"
        )
        #expect(killed > 0, "no import was ever killed while running")
    }

    @Test func killedSyncsLeaveSoundStoresAndTheNextSyncCompletes() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        var rng = SplitMix64(seed: Self.seed &+ 1)
        let dirs = ["Globex": "g", "Initech": "i", "Umbra Cloud": "u"]
        for (company, dir) in dirs {
            try await cli.ok("init", "--company", company, "--dir", dir)
            try await cli.ok("card", "--dir", dir, "--out", "\(dir).card")
        }
        for (_, dir) in dirs {
            for (_, other) in dirs where other != dir {
                try await cli.ok("partner", "add", "\(other).card", "--dir", dir)
            }
        }
        // Globex serves; Initech syncs with it and is killed (or Globex is) mid-transfer; Umbra, which receives
        // the same envelopes (everything is shared by all three), syncs without ever being killed.
        var server = try KillableProcess(cli, ["serve", "--dir", "g", "--listen", "127.0.0.1:0"], log: "serve-0")
        defer { server.requestStop() }
        var port = try await server.port()
        var estimate = 2.0
        var killedClient = 0
        var killedServer = 0
        var finished = 0
        func sync(_ dir: String) async throws -> Double {
            let started = Date()
            let result = try await cli.run([
                "sync", "Globex", "--address", "127.0.0.1:\(port)", "--quiet", "--dir", dir,
            ])
            #expect(result.status == 0, "sync --dir \(dir): \(result.stderr)")
            return Date().timeIntervalSince(started)
        }
        var replicas: [String] = []
        for dir in ["g", "i"] {
            let json = try await cli.ok("status", "--json", "--dir", dir)
            let status = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            replicas.append(try #require(status["replica_id"] as? String))
        }
        func held(_ dir: String) async throws -> [String: Int] {
            let json = try await cli.ok("summary", "--dir", dir)
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            return try #require(summary["held"] as? [String: Int])
        }
        var globexRows = 0..<0
        var initechRows = 0..<0
        for cycle in 1...Self.cycles {
            // New and changed objects on both sides, shared with all three companies: 500 of Globex's at first,
            // then 120 (80 new) per cycle, and 50 of Initech's (30 new).
            globexRows = cycle == 1 ? 0..<500 : (globexRows.upperBound - 40)..<(globexRows.upperBound + 80)
            initechRows = (cycle * 30)..<(cycle * 30 + 50)
            try cli.write(Array(Self.pipelineCSV(prefix: "G", rows: globexRows, version: cycle).utf8), "g\(cycle).csv")
            try await cli.ok(
                "import",
                "csv",
                "g\(cycle).csv",
                "--dir",
                "g",
                "--with",
                "Initech",
                "--with",
                "Umbra Cloud"
            )
            try cli.write(Array(Self.pipelineCSV(prefix: "I", rows: initechRows, version: cycle).utf8), "i\(cycle).csv")
            try await cli.ok(
                "import",
                "csv",
                "i\(cycle).csv",
                "--dir",
                "i",
                "--with",
                "Globex",
                "--with",
                "Umbra Cloud"
            )

            let client = try KillableProcess(
                cli,
                ["sync", "Globex", "--address", "127.0.0.1:\(port)", "--quiet", "--dir", "i"],
                log: "sync-\(cycle)"
            )
            // A later cycle's sync is short: kill within its first three quarters, past the process start.
            let delay = (0.05 + Double(rng.int(0...1000)) / 1000 * 0.7) * estimate
            try await Task.sleep(for: .seconds(delay))
            let victim = rng.chance(50) ? "client" : "server"
            let hit = victim == "client" ? await client.kill() : (client.isRunning ? await server.kill() : false)
            if hit { if victim == "client" { killedClient += 1 } else { killedServer += 1 } } else { finished += 1 }
            await client.wait()
            await server.stop()
            try await Self.expectSound(cli, "i", "sync cycle \(cycle), \(victim) killed after \(delay) s")
            try await Self.expectSound(cli, "g", "sync cycle \(cycle), \(victim) killed after \(delay) s")

            // The next syncs complete; Umbra (never killed) is the reference.
            server = try KillableProcess(
                cli,
                ["serve", "--dir", "g", "--listen", "127.0.0.1:0"],
                log: "serve-\(cycle)"
            )
            port = try await server.port()
            _ = try await sync("i")
            // Umbra receives a whole cycle's envelopes: its sync time bounds the next kill's delay.
            estimate = max(try await sync("u"), 0.3)
            let last = try await cli.ok(
                "sync",
                "Globex",
                "--address",
                "127.0.0.1:\(port)",
                "--quiet",
                "--json",
                "--dir",
                "i"
            )
            let moved = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
            #expect(
                moved["sent"] as? Int == 0 && moved["received"] as? Int == 0,
                "cycle \(cycle): a further sync still moved envelopes: \(last)"
            )
            let expected = globexRows.upperBound + initechRows.upperBound - 30
            var objects: [Int] = []
            for dir in ["g", "i", "u"] { objects.append(try await Self.status(cli, dir).objects) }
            #expect(
                objects == [expected, expected, expected],
                "cycle \(cycle): objects \(objects), expected \(expected)"
            )
            // What each holds from the other's replica is what Umbra holds (every shared envelope is addressed to
            // all three): nothing lost, and the sequences are a prefix without gaps.
            let (globex, initech, umbra) = (try await held("g"), try await held("i"), try await held("u"))
            #expect(initech[replicas[0]] != nil && initech[replicas[0]] == umbra[replicas[0]], "cycle \(cycle)")
            #expect(globex[replicas[1]] != nil && globex[replicas[1]] == umbra[replicas[1]], "cycle \(cycle)")
            if objects != [expected, expected, expected] { break }
        }
        var lists: [String] = []
        for dir in ["g", "i", "u"] { lists.append(try await cli.ok("list", "--json", "--dir", dir)) }
        #expect(lists[0] == lists[1] && lists[1] == lists[2], "the three companies list different objects")
        await server.stop()
        for dir in ["g", "i", "u"] { try await Self.expectSound(cli, dir, "after every sync cycle") }
        print(
            "crash safety (sync): \(killedClient + killedServer + finished) kill cycles survived "
                + "(\(killedClient) clients and \(killedServer) servers killed mid-sync, \(finished) finished first)"
        )
        #expect(killedClient + killedServer > 0, "no sync was ever killed while running")
    }
}

/// An `entente` process the test can SIGKILL; its output goes to a log file in the test folder.
final class KillableProcess {
    private let child: ChildProcess
    private let log: String

    init(_ cli: CLI, _ arguments: [String], log name: String) throws {
        log = cli.path("\(name).log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = arguments
        process.currentDirectoryURL = cli.root
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "ENTENTE_DIR")
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        child = try ChildProcess(starting: process)
        try handle.close()
    }

    var isRunning: Bool { child.isRunning }

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// SIGKILLs the process if it still runs and waits for it; false if it had already exited.
    @discardableResult
    func kill() async -> Bool {
        guard child.isRunning else {
            await child.exit()
            return false
        }
        child.send(SIGKILL)
        return await child.output().reason == .uncaughtSignal
    }

    func wait() async { await child.exit() }

    /// Stops a server: SIGTERM, then SIGKILL after 5 s.
    func stop() async { await child.stop() }

    /// Starts stopping a server without waiting for it, for a `defer` (which cannot await).
    func requestStop() { child.requestStop() }

    /// The port from the server's "listening on 127.0.0.1:PORT" line (waits up to 15 s).
    func port() async throws -> UInt16 {
        for _ in 0..<300 {
            if let line = output.split(separator: "\n").first(where: { $0.contains("listening on 127.0.0.1:") }),
                let port = UInt16(line.split(separator: ":").last ?? "")
            {
                return port
            }
            if !child.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSocket.Failure(description: "the server did not start: \(output)")
    }
}
