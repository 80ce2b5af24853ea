import EntenteTestSupport
import Foundation
import Synchronization
import Testing

/// `entente serve` and `entente sync` as real processes on loopback, with every byte between them recorded.
@Suite struct NetworkCLITests {
    static let companies = ["Globex", "Initech", "Umbra Cloud"]
    static let dirs = ["Globex": "g", "Initech": "i", "Umbra Cloud": "u"]

    @Test func threeNodesConvergeThroughTheMiddleNodeAndPrivateValuesNeverCrossTheWire() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        // Every byte to and from Initech's server goes through this proxy; its card carries the proxy's address.
        let proxy = try RecordingProxy()
        defer { proxy.stop() }
        for company in Self.companies {
            let dir = Self.dirs[company] ?? ""
            var arguments = ["init", "--company", company, "--dir", dir]
            if company == "Initech" { arguments += ["--address", "127.0.0.1:\(proxy.port)"] }
            let created = try await cli.run(arguments)
            #expect(created.status == 0, "\(created.stderr)")
            try await cli.ok("card", "--dir", dir, "--out", "\(dir).card")
        }
        for company in Self.companies {
            for partner in Self.companies where partner != company {
                try await cli.ok(
                    "partner",
                    "add",
                    "\(Self.dirs[partner] ?? "").card",
                    "--dir",
                    Self.dirs[company] ?? ""
                )
            }
        }
        let server = try ServerProcess(
            cli,
            ["serve", "--dir", "i", "--listen", "127.0.0.1:0", "--record", cli.path("record-i")]
        )
        defer { server.requestStop() }
        proxy.setUpstream(try await server.port())

        let id = try await cli.ok(
            "new",
            "opportunity",
            "--dir",
            "g",
            "--joint",
            "title=Acme data platform",
            "--joint",
            "stage=qualified",
            "--private",
            "deal_size=SENTINEL-G-DEAL",
            "--with",
            "Initech",
            "--with",
            "Umbra Cloud"
        )
        // Globex and Umbra never connect to each other: neither serves, and neither card has an address.
        func round() async throws {
            let globex = try await cli.ok("sync", "--all", "--dir", "g", "--record", cli.path("record-g"))
            #expect(globex.contains("Synced with Initech"))
            try await cli.ok("sync", "Initech", "--dir", "u", "--record", cli.path("record-u"))
        }
        try await round()
        let umbraView = try await cli.ok("show", id, "--json", "--dir", "u")
        #expect(umbraView.contains("Acme data platform"), "Globex's object reached Umbra through Initech")

        // Concurrent edits on all three nodes.
        try await cli.ok("set", id, "--dir", "g", "--joint", "stage=committed", "--set", "region=EMEA")
        try await cli.ok(
            "set",
            id,
            "--dir",
            "i",
            "--set",
            "delivery=Initech PS",
            "--private",
            "margin=SENTINEL-I-MARGIN"
        )
        try await cli.ok("set", id, "--dir", "i", "--set", "rates=SENTINEL-I-RATES-G", "--to", "Globex")
        try await cli.ok(
            "set",
            id,
            "--dir",
            "u",
            "--joint",
            "next_steps=POC",
            "--set",
            "listing=Umbra Marketplace",
            "--private",
            "discount=SENTINEL-U-DISCOUNT"
        )
        try await cli.ok("set", id, "--dir", "u", "--set", "credits=SENTINEL-U-CREDITS-I", "--to", "Initech")
        try await round()
        try await round()

        var joints: Set<String> = []
        var views: [String: [String: Any]] = [:]
        for company in Self.companies {
            let json = try await cli.ok("show", id, "--json", "--dir", Self.dirs[company] ?? "")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let joint = try #require(object["joint"] as? [String: String])
            joints.insert(joint.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";"))
            views[company] = object
        }
        #expect(joints.count == 1, "joint fields differ between companies: \(joints)")
        #expect(joints.first?.contains("next_steps=POC") == true && joints.first?.contains("stage=committed") == true)
        let globexFields = try #require(views["Globex"]?["fields"] as? [String: [String: String]])
        #expect(
            globexFields["Umbra Cloud"]?["listing"] == "Umbra Marketplace",
            "Umbra's field reached Globex through Initech"
        )
        #expect(globexFields["Initech"]?["rates"] == "SENTINEL-I-RATES-G")
        let umbraFields = try #require(views["Umbra Cloud"]?["fields"] as? [String: [String: String]])
        #expect(umbraFields["Globex"]?["region"] == "EMEA")
        #expect(umbraFields["Initech"]?["rates"] == nil)

        // The sentinel scan: every byte on the wire, every received envelope decrypted by its recipient, and
        // every other company's database.
        let entitled: [String: Set<String>] = [
            "SENTINEL-G-DEAL": ["Globex"], "SENTINEL-I-MARGIN": ["Initech"],
            "SENTINEL-I-RATES-G": ["Initech", "Globex"],
            "SENTINEL-U-DISCOUNT": ["Umbra Cloud"], "SENTINEL-U-CREDITS-I": ["Umbra Cloud", "Initech"],
        ]
        let wire = proxy.clientToServer + proxy.serverToClient
        #expect(wire.count > 2_000, "the proxy saw only \(wire.count) bytes")
        var opened: [String: String] = [:]
        for company in Self.companies {
            let dir = Self.dirs[company] ?? ""
            let files = (try? FileManager.default.contentsOfDirectory(atPath: cli.path("record-\(dir)"))) ?? []
            #expect(!files.isEmpty, "nothing was recorded for \(company)")
            for file in files {
                opened[company, default: ""] += try await cli.ok(
                    "bundle",
                    "inspect",
                    cli.path("record-\(dir)/\(file)"),
                    "--json",
                    "--dir",
                    dir
                )
            }
        }
        for (secret, holders) in entitled {
            #expect(!contains(wire, secret), "\(secret) crossed the wire in plaintext")
            for (company, text) in opened where !holders.contains(company) {
                #expect(!text.contains(secret), "\(secret) was sent to \(company) in an envelope it can open")
            }
            for company in Self.companies where !holders.contains(company) {
                let dir = Self.dirs[company] ?? ""
                let database = ["", "-wal"].flatMap { cli.bytes("\(dir)/entente.sqlite\($0)") }
                #expect(!contains(database, secret), "\(secret) is in \(company)'s database")
            }
        }
        // The scans can fail: entitled recipients did decrypt their restricted values.
        #expect(opened["Globex"]?.contains("SENTINEL-I-RATES-G") == true)
        #expect(opened["Initech"]?.contains("SENTINEL-U-CREDITS-I") == true)

        await server.stop()
        #expect(
            server.log.contains("authenticated as Globex") && server.log.contains("synced with Umbra Cloud"),
            "\(server.log)"
        )
    }

    @Test func networkErrorsAreClearAndExitNonZero() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await cli.ok("init", "--company", "Globex", "--dir", "g")
        try await cli.ok("init", "--company", "Initech", "--dir", "i")
        try await cli.ok("init", "--company", "Stranger", "--dir", "s")
        for dir in ["g", "i", "s"] { try await cli.ok("card", "--dir", dir, "--out", "\(dir).card") }
        try await cli.ok("partner", "add", "i.card", "--dir", "g")
        try await cli.ok("partner", "add", "g.card", "--dir", "i")
        try await cli.ok("partner", "add", "i.card", "--dir", "s")

        let closed = try TestSocket.unusedPort()
        try await cli.fails(
            ["sync", "Initech", "--address", "127.0.0.1:\(closed)", "--dir", "g"],
            mentioning: "connection refused"
        )
        try await cli.fails(
            ["sync", "Nobody", "--address", "127.0.0.1:\(closed)", "--dir", "g"],
            mentioning: "no pinned partner named 'Nobody'"
        )
        try await cli.fails(["sync", "Initech", "--dir", "g"], mentioning: "has no network address")
        try await cli.fails(["sync", "Initech", "--address", "localhost", "--dir", "g"], mentioning: "no port")
        try await cli.fails(["sync", "--all", "--dir", "g"], mentioning: "no partner card has an address")
        try await cli.fails(["sync", "--dir", "g"], mentioning: "give the partner")
        try await cli.fails(["serve", "--dir", "g"], mentioning: "--listen")
        try await cli.fails(
            ["serve", "--dir", "g", "--listen", "127.0.0.1:\(closed)", "--idle-timeout", "0"],
            mentioning: "between 0 and"
        )

        let server = try ServerProcess(cli, ["serve", "--dir", "i", "--listen", "127.0.0.1:0"])
        defer { server.requestStop() }
        let address = "127.0.0.1:\(try await server.port())"
        // A company the server never pinned is refused during the handshake.
        try await cli.fails(["sync", "Initech", "--address", address, "--dir", "s"], mentioning: "not a partner")
        // Two servers cannot share a port.
        try await cli.fails(["serve", "--dir", "g", "--listen", address], mentioning: "address is already in use")
        // And the server still serves its partner, with JSON output.
        let json = try await cli.ok("sync", "Initech", "--address", address, "--dir", "g", "--json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["partner"] as? String == "Initech")
        #expect(object["sent"] as? Int == 0 && (object["wire_bytes_sent"] as? Int ?? 0) > 0)
        #expect(try await server.waitFor("not a partner"), "\(server.log)")
        await server.stop()
    }

    @Test func aServerPullsFromItsPartnersPeriodically() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let front = try RecordingProxy()
        defer { front.stop() }
        try await cli.ok("init", "--company", "Globex", "--dir", "g")
        try await cli.ok("init", "--company", "Initech", "--dir", "i", "--address", "127.0.0.1:\(front.port)")
        for dir in ["g", "i"] { try await cli.ok("card", "--dir", dir, "--out", "\(dir).card") }
        try await cli.ok("partner", "add", "i.card", "--dir", "g")
        try await cli.ok("partner", "add", "g.card", "--dir", "i")
        let initech = try ServerProcess(cli, ["serve", "--dir", "i", "--listen", "127.0.0.1:0"])
        defer { initech.requestStop() }
        front.setUpstream(try await initech.port())
        let globex = try ServerProcess(cli, ["serve", "--dir", "g", "--listen", "127.0.0.1:0", "--sync-every", "0.3"])
        defer { globex.requestStop() }
        _ = try await globex.port()

        let id = try await cli.ok(
            "new",
            "opportunity",
            "--dir",
            "i",
            "--joint",
            "title=Pulled, not pushed",
            "--with",
            "Globex"
        )
        var arrived = false
        for _ in 0..<100 where !arrived {
            let result = try await cli.run(["show", id, "--json", "--dir", "g"])
            arrived = result.status == 0 && result.stdout.contains("Pulled, not pushed")
            if !arrived { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(arrived, "Globex never pulled Initech's object: \(globex.log)")
        #expect(globex.log.contains("pulled from Initech"))
        await globex.stop()
        await initech.stop()
    }
}

/// Text that arrives from another thread.
final class LogBuffer: Sendable {
    private let text = Mutex("")
    func append(_ more: String) { text.withLock { $0 += more } }
    var value: String { text.withLock { $0 } }
}

/// A background `entente serve` whose stderr is collected as it arrives.
///
/// Used from one test at a time.
final class ServerProcess {
    private let child: ChildProcess
    private let output = LogBuffer()

    init(_ cli: CLI, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = arguments
        process.currentDirectoryURL = cli.root
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "ENTENTE_DIR")
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
            } else {
                output.append(String(decoding: data, as: UTF8.self))
            }
        }
        child = try ChildProcess(starting: process, collectOutput: false)
    }

    var log: String { output.value }

    /// Waits (at most 15 s) until the log contains `text`.
    @discardableResult
    func waitFor(_ text: String) async throws -> Bool {
        for _ in 0..<300 {
            if log.contains(text) { return true }
            if !child.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return log.contains(text)
    }

    /// The port from the "listening on 127.0.0.1:PORT" line.
    func port() async throws -> UInt16 {
        guard try await waitFor("listening on 127.0.0.1:"),
            let line = log.split(separator: "\n").first(where: { $0.contains("listening on 127.0.0.1:") }),
            let port = UInt16(line.split(separator: ":").last ?? "")
        else { throw TestSocket.Failure(description: "the server did not start: \(log)") }
        return port
    }

    /// Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
    func stop() async { await child.stop() }

    /// Starts stopping the server without waiting for it, for a `defer` (which cannot await).
    func requestStop() { child.requestStop() }
}
