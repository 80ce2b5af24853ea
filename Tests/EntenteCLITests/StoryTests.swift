import EntenteTestSupport
import Foundation
import Testing

/// The three-company story, end to end through the built CLI, with the sentinel scan.
@Suite struct StoryTests {
    static let companies = ["Globex", "Initech", "Umbra Cloud"]
    static let dirs = ["Globex": "g", "Initech": "i", "Umbra Cloud": "u"]

    /// Creates three pinned nodes.
    static func threeNodes(_ cli: CLI) async throws {
        for company in companies {
            let dir = dirs[company] ?? ""
            try await cli.ok("init", "--company", company, "--dir", dir)
            try await cli.ok("card", "--dir", dir, "--out", "\(dir).card")
        }
        for company in companies {
            for partner in companies where partner != company {
                try await cli.ok("partner", "add", "\(dirs[partner] ?? "").card", "--dir", dirs[company] ?? "")
            }
        }
    }

    @Test func threeCompaniesShareOneOpportunity() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await Self.threeNodes(cli)
        let listed = try await cli.ok("partner", "list", "--json", "--dir", "g")
        #expect(listed.contains("\"Initech\"") && listed.contains("\"Umbra Cloud\""))

        let id = try await cli.ok(
            "new",
            "opportunity",
            "--dir",
            "g",
            "--joint",
            "title=Acme data platform",
            "--joint",
            "stage=qualified",
            "--set",
            "region=EMEA",
            "--private",
            "deal_size=SENTINEL-G-DEAL"
        )
        #expect(id.count == 32)
        try await cli.ok("invite", id, "Initech", "--dir", "g")
        try await cli.ok("invite", String(id.prefix(8)), "Umbra Cloud", "--dir", "g")
        var bundles: [(file: String, to: String)] = []
        func ship(_ from: String, _ to: String, _ round: Int) async throws {
            let (f, t) = (Self.dirs[from] ?? "", Self.dirs[to] ?? "")
            try await cli.ok("summary", "--dir", t, "--out", "\(t).summary")
            let file = "\(f)-\(t)-\(round).bundle"
            try await cli.ok("bundle", "export", "--to", to, "--summary", "\(t).summary", "--out", file, "--dir", f)
            try await cli.ok("bundle", "import", file, "--dir", t)
            bundles.append((file, to))
        }
        try await ship("Globex", "Initech", 1)
        try await ship("Globex", "Umbra Cloud", 1)
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
            "--set",
            "listing=Umbra Marketplace",
            "--private",
            "discount=SENTINEL-U-DISCOUNT"
        )
        try await cli.ok(
            "set",
            id,
            "--dir",
            "u",
            "--set",
            "credits=SENTINEL-U-CREDITS-I",
            "--to",
            "Initech",
            "--joint",
            "stage=committed"
        )
        for round in 2...3 {
            for from in Self.companies {
                for to in Self.companies where to != from { try await ship(from, to, round) }
            }
        }

        var joints: Set<String> = []
        for company in Self.companies {
            let json = try await cli.ok("show", id, "--json", "--dir", Self.dirs[company] ?? "")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let joint = try #require(object["joint"] as? [String: String])
            joints.insert(joint.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";"))
            #expect(object["participants"] as? [String] == ["Globex", "Initech", "Umbra Cloud"])
            #expect(object["owner"] as? String == "Globex")
            let fields = try #require(object["fields"] as? [String: [String: String]])
            switch company {
            case "Globex":
                #expect(Set(fields["Initech"]?.keys.map { $0 } ?? []) == ["delivery", "rates"])
                #expect(Set(fields["Umbra Cloud"]?.keys.map { $0 } ?? []) == ["listing"])
                #expect(object["private"] as? [String] == ["deal_size"])
            case "Initech":
                #expect(Set(fields["Umbra Cloud"]?.keys.map { $0 } ?? []) == ["credits", "listing"])
                #expect(Set(fields["Globex"]?.keys.map { $0 } ?? []) == ["region"])
            default:
                #expect(Set(fields["Initech"]?.keys.map { $0 } ?? []) == ["delivery"])
            }
        }
        #expect(joints.count == 1, "joint fields differ between companies: \(joints)")
        #expect(joints.first?.contains("stage=committed") == true)

        let entitled: [String: Set<String>] = [
            "SENTINEL-G-DEAL": ["Globex"], "SENTINEL-I-MARGIN": ["Initech"],
            "SENTINEL-I-RATES-G": ["Initech", "Globex"],
            "SENTINEL-U-DISCOUNT": ["Umbra Cloud"], "SENTINEL-U-CREDITS-I": ["Umbra Cloud", "Initech"],
        ]
        for (secret, holders) in entitled {
            for (file, to) in bundles {
                #expect(!contains(cli.bytes(file), secret), "\(secret) in plaintext in \(file)")
                if !holders.contains(to) {
                    let opened = try await cli.ok("bundle", "inspect", file, "--json", "--dir", Self.dirs[to] ?? "")
                    #expect(!opened.contains(secret), "\(secret) addressed to \(to) in \(file)")
                }
            }
            for company in Self.companies where !holders.contains(company) {
                for suffix in ["", "-wal", "-shm"] {
                    let db = cli.bytes("\(Self.dirs[company] ?? "")/entente.sqlite\(suffix)")
                    #expect(!contains(db, secret), "\(secret) in \(company)'s database\(suffix)")
                }
            }
        }
        #expect(
            contains(cli.bytes("g/entente.sqlite") + cli.bytes("g/entente.sqlite-wal"), "SENTINEL-G-DEAL"),
            "the scan can find a value"
        )
    }

    @Test func theDemoScriptRunsAndFindsNoLeak() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/demo.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path, CLI.binary.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        let result = try await ChildProcess.run(process)
        let output = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0, "demo failed:\n\(output)")
        #expect(output.contains("joint fields identical on all three nodes: yes"))
        #expect(output.contains("No private value was found outside the companies entitled to it."))
        if let line = output.split(separator: "\n").last(where: { $0.hasPrefix("(node directories kept in ") }) {
            let dir = line.dropFirst("(node directories kept in ".count).dropLast()
            try? FileManager.default.removeItem(atPath: String(dir))
        }
    }
}
