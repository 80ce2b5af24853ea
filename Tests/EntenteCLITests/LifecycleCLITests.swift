import EntenteTestSupport
import Foundation
import Testing

/// Issue 3 commands through the built CLI: typed values, sets, sharing, removal, archive, conflicts, history,
/// replicas.
@Suite struct LifecycleCLITests {
    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    func ship(_ cli: CLI, _ from: String, _ to: String, _ toName: String) async throws {
        try await cli.ok("bundle", "export", "--to", toName, "--out", "\(from)-\(to).bundle", "--dir", from)
        try await cli.ok("bundle", "import", "\(from)-\(to).bundle", "--dir", to)
    }

    func everyWay(_ cli: CLI) async throws {
        for (from, _) in StoryTests.dirs.sorted(by: { $0.key < $1.key }) {
            for (to, toDir) in StoryTests.dirs.sorted(by: { $0.key < $1.key }) where to != from {
                try await ship(cli, StoryTests.dirs[from] ?? "", toDir, to)
            }
        }
    }

    @Test func typedValuesConflictsSetsAndHistory() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await StoryTests.threeNodes(cli)
        let id = try await cli.ok(
            "new",
            "opportunity",
            "--dir",
            "g",
            "--joint",
            "title=Typed",
            "--joint",
            "close_date:date=2027-03-31",
            "--private",
            "deal_size:money=1240000.5 USD",
            "--joint",
            "seats:int=40",
            "--with",
            "Initech",
            "--with",
            "Umbra Cloud"
        )
        try await everyWay(cli)
        try await cli.ok("set", id, "--dir", "i", "--joint", "stage=qualified")
        try await cli.ok("set", id, "--dir", "u", "--joint", "stage=committed")
        try await cli.ok("elements", id, "products", "--joint", "--add", "analytics", "--dir", "i")
        try await cli.ok("elements", id, "products", "--joint", "--add", "ai", "--dir", "u")
        try await everyWay(cli)
        let shown = try #require(try await json(cli.ok("show", id, "--json", "--dir", "u")) as? [String: Any])
        let joint = try #require(shown["joint"] as? [String: Any])
        #expect(joint["close_date"] as? String == "2027-03-31")
        #expect(joint["seats"] as? Int == 40)
        #expect(joint["products"] as? [String] == ["ai", "analytics"])
        let conflicts = try #require(shown["conflicts"] as? [String: [[String: Any]]])
        #expect(conflicts["joint.stage"]?.count == 1)
        let mine = try #require(try await json(cli.ok("show", id, "--json", "--dir", "g")) as? [String: Any])
        let own = try #require((mine["fields"] as? [String: [String: Any]])?["Globex"])
        #expect((own["deal_size"] as? [String: String]) == ["amount": "1240000.50", "currency": "USD"])
        let listed = try #require(try await json(cli.ok("conflicts", "--json", "--dir", "g")) as? [[String: Any]])
        #expect(listed.count == 1 && listed.first?["field"] as? String == "joint.stage")
        try await cli.ok("set", id, "--dir", "g", "--joint", "stage=committed")
        try await everyWay(cli)
        #expect(try await cli.ok("conflicts", "--dir", "i") == "No conflicts.")
        let history = try #require(try await json(cli.ok("history", id, "--json", "--dir", "u")) as? [[String: Any]])
        #expect(
            history.contains {
                $0["company"] as? String == "Initech" && $0["field"] as? String == "stage"
                    && $0["value"] as? String == "qualified"
            }
        )
        #expect(history.allSatisfy { ($0["envelope"] as? String)?.count == 64 })
        try await cli.fails(
            ["set", id, "--joint", "seats:int=many", "--dir", "g"],
            mentioning: "'many' is not a valid int for field 'seats'"
        )
        try await cli.fails(["set", id, "--joint", "x:money=12", "--dir", "g"], mentioning: "ISO 4217")
        try await cli.fails(["set", id, "--joint", "x:date=2023-02-29", "--dir", "g"], mentioning: "not a valid date")
        try await cli.fails(["set", id, "--joint", "x:colour=red", "--dir", "g"], mentioning: "unknown type 'colour'")
    }

    @Test func sharingRemovalArchiveAndReplicas() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await StoryTests.threeNodes(cli)
        let id = try await cli.ok(
            "new",
            "opportunity",
            "--dir",
            "g",
            "--joint",
            "title=Lifecycle",
            "--with",
            "Initech",
            "--with",
            "Umbra Cloud"
        )
        try await everyWay(cli)
        try await cli.ok("set", id, "--dir", "i", "--private", "rate=SENTINEL-CLI-RATE")
        try await cli.ok("share", id, "rate", "--to", "Globex", "--dir", "i")
        try await cli.fails(["share", id, "rate", "--dir", "i"], mentioning: "exactly one of")
        try await everyWay(cli)
        #expect(try await cli.ok("show", id, "--dir", "g").contains("SENTINEL-CLI-RATE"))
        for suffix in ["", "-wal"] { #expect(!contains(cli.bytes("u/entente.sqlite\(suffix)"), "SENTINEL-CLI-RATE")) }

        try await cli.ok("uninvite", id, "Umbra Cloud", "--dir", "g")
        try await everyWay(cli)
        try await cli.fails(["set", id, "--joint", "next_steps=x", "--dir", "u"], mentioning: "no longer takes part")
        let participants = try #require(try await json(cli.ok("show", id, "--json", "--dir", "i")) as? [String: Any])[
            "participants"
        ]
        #expect(participants as? [String] == ["Globex", "Initech"])

        try await cli.fails(["archive", id, "--dir", "i"], mentioning: "only the owner")
        try await cli.ok("archive", id, "--dir", "g")
        try await everyWay(cli)
        #expect(try await cli.ok("list", "--json", "--dir", "i") == "[]")
        #expect(try await cli.ok("list", "--archived", "--json", "--dir", "i").contains(id))

        try await cli.ok("replica", "enroll", "--out", "laptop.enroll", "--dir", "g")
        let attributes = try FileManager.default.attributesOfItem(atPath: cli.path("laptop.enroll"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try await cli.ok("replica", "join", "laptop.enroll", "--dir", "laptop")
        try await cli.ok("bundle", "export", "--to", "Globex", "--out", "self.bundle", "--dir", "g")
        try await cli.ok("bundle", "import", "self.bundle", "--dir", "laptop")
        #expect(try await cli.ok("list", "--archived", "--json", "--dir", "laptop").contains(id))
        try await cli.fails(
            ["replica", "enroll", "--out", "again.enroll", "--dir", "laptop"],
            mentioning: "no company signing key"
        )
        try await cli.fails(["replica", "join", "g.card", "--dir", "other"], mentioning: "not an enrollment file")
    }
}

/// `entente init --passphrase`, ENTENTE_PASSPHRASE and `entente key passphrase` through the binary.
@Suite struct PassphraseCLITests {
    @Test func aProtectedNodeNeedsItsPassphraseOnEveryCommand() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let right = ["ENTENTE_PASSPHRASE": "correct horse battery"]
        let created = try await cli.run(
            ["init", "--company", "Globex", "--passphrase", "--dir", "g"],
            environment: right
        )
        #expect(created.status == 0, "\(created.stderr)")
        let missing = try await cli.run(["status", "--dir", "g"])
        #expect(missing.status != 0 && missing.stderr.contains("ENTENTE_PASSPHRASE"), "\(missing.stderr)")
        let wrong = try await cli.run(["status", "--dir", "g"], environment: ["ENTENTE_PASSPHRASE": "wrong"])
        #expect(wrong.status != 0 && wrong.stderr.contains("wrong passphrase"), "\(wrong.stderr)")
        let opened = try await cli.run(["status", "--dir", "g"], environment: right)
        #expect(opened.status == 0 && opened.stdout.contains("Globex"))
        let removed = try await cli.run(["key", "passphrase", "--remove", "--dir", "g"], environment: right)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(try await cli.ok("status", "--dir", "g").contains("Globex"))
        let empty = try await cli.run(
            ["init", "--company", "Initech", "--passphrase", "--dir", "i"],
            environment: ["ENTENTE_PASSPHRASE": ""]
        )
        #expect(empty.status != 0 && empty.stderr.contains("empty"))
    }
}
