import Foundation
import Testing

/// Bad input through the CLI: a clear `error:` line, a non-zero exit, and an unchanged store.
@Suite struct BadInputTests {
    /// Globex with an opportunity shared with Initech; returns the bundle file name and the object id.
    func setUp(_ cli: CLI) async throws -> (bundle: String, id: String) {
        try await StoryTests.threeNodes(cli)
        let id = try await cli.ok("new", "opportunity", "--dir", "g", "--joint", "title=T", "--with", "Initech")
        try await cli.ok("bundle", "export", "--to", "Initech", "--out", "good.bundle", "--dir", "g")
        return ("good.bundle", id)
    }

    func state(_ cli: CLI, _ dir: String) async throws -> String {
        try await cli.ok("list", "--json", "--dir", dir) + (try await cli.ok("status", "--json", "--dir", dir))
            + (try await cli.ok("summary", "--dir", dir))
    }

    @Test func damagedBundlesAreRefusedAndChangeNothing() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let (bundle, _) = try await setUp(cli)
        let good = cli.bytes(bundle)
        let before = try await state(cli, "i")
        try cli.write(Array(good.prefix(good.count / 2)), "truncated.bundle")
        try await cli.fails(
            ["bundle", "import", "truncated.bundle", "--dir", "i"],
            mentioning: "truncated or corrupted"
        )
        for index in [0, 5, 20, good.count / 2, good.count - 1] {
            var flipped = good
            flipped[index] ^= 0x40
            try cli.write(flipped, "flipped.bundle")
            try await cli.fails(["bundle", "import", "flipped.bundle", "--dir", "i"], mentioning: "bundle")
        }
        try cli.write(Array("hello, not a bundle".utf8), "garbage.bundle")
        try await cli.fails(["bundle", "import", "garbage.bundle", "--dir", "i"], mentioning: "not an Entente bundle")
        try await cli.fails(
            ["bundle", "import", "missing.bundle", "--dir", "i"],
            mentioning: "cannot read bundle file"
        )
        #expect(try await state(cli, "i") == before)
        try await cli.ok("bundle", "import", bundle, "--dir", "i")
        #expect(try await state(cli, "i") != before, "the good bundle imports (so the comparison can fail)")
    }

    @Test func misaddressedAndForeignBundlesAreRefused() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let (bundle, _) = try await setUp(cli)
        let before = try await state(cli, "u")
        // Umbra Cloud is not in the audience of the envelopes Globex exported for Initech.
        try await cli.fails(["bundle", "import", bundle, "--dir", "u"], mentioning: "not addressed to")
        // A company that never pinned Globex.
        try await cli.ok("init", "--company", "Hooli", "--dir", "h")
        try await cli.ok("card", "--dir", "h", "--out", "h.card")
        try await cli.ok("partner", "add", "h.card", "--dir", "g")
        try await cli.ok("new", "opportunity", "--dir", "g", "--with", "Hooli")
        try await cli.ok("bundle", "export", "--to", "Hooli", "--out", "hooli.bundle", "--dir", "g")
        try await cli.fails(["bundle", "import", "hooli.bundle", "--dir", "h"], mentioning: "not a pinned partner")
        #expect(try await state(cli, "u") == before)
        #expect(try await cli.ok("list", "--json", "--dir", "h") == "[]")
    }

    @Test func badArgumentsAreNamed() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let (_, id) = try await setUp(cli)
        try await cli.fails(["new", "spaceship", "--dir", "g"], mentioning: "unknown object type 'spaceship'")
        try await cli.fails(
            ["new", "opportunity", "--joint", "stage=won", "--dir", "g"],
            mentioning: "opportunity stage: 'won' is not one of"
        )
        try await cli.fails(["new", "opportunity", "--joint", "novalue", "--dir", "g"], mentioning: "KEY=VALUE")
        try await cli.fails(
            ["new", "opportunity", "--with", "Nobody", "--dir", "g"],
            mentioning: "no pinned partner named 'Nobody'"
        )
        try await cli.fails(["set", "zzzzzz", "--joint", "a=b", "--dir", "g"], mentioning: "not an object id")
        try await cli.fails(["set", "abcdef12", "--joint", "a=b", "--dir", "g"], mentioning: "no object with id")
        try await cli.fails(["set", id, "--dir", "g"], mentioning: "nothing to change")
        try await cli.fails(
            ["set", id, "--set", "x=1", "--to", "Umbra Cloud", "--dir", "g"],
            mentioning: "does not take part"
        )
        try await cli.fails(["show", id, "--dir", "nowhere"], mentioning: "entente init")
        try await cli.fails(["init", "--company", "Again", "--dir", "g"], mentioning: "already holds an Entente node")
        try cli.write(Array("{\"format\": \"nope\"}".utf8), "bad.card")
        try await cli.fails(["partner", "add", "bad.card", "--dir", "g"], mentioning: "card")
        var card = String(decoding: cli.bytes("u.card"), as: UTF8.self)
        card = card.replacingOccurrences(of: "Umbra Cloud", with: "Umbra Clouds")
        try cli.write(Array(card.utf8), "altered.card")
        try await cli.fails(["partner", "add", "altered.card", "--dir", "g"], mentioning: "signature")
        try await cli.fails(
            ["bundle", "export", "--to", "Initech", "--out", "x.bundle", "--summary", "g.card", "--dir", "g"],
            mentioning: "summary"
        )
    }

    @Test func invitesNeedOwnershipAndKeyFilesArePrivate() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let (bundle, id) = try await setUp(cli)
        try await cli.ok("bundle", "import", bundle, "--dir", "i")
        try await cli.fails(["invite", id, "Umbra Cloud", "--dir", "i"], mentioning: "only the owner")
        for key in ["company.sign.key", "company.box.key", "replica.sign.key"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: cli.path("g/keys/\(key)"))
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(key) is not 0600")
        }
    }

    @Test func everyCommandHasHelp() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let top = try await cli.run(["--help"])
        #expect(top.status == 0)
        let commands = [
            "init", "card", "partner add", "partner list", "new", "set", "elements", "share", "invite", "uninvite",
            "archive", "show", "list", "conflicts", "history", "status", "summary", "bundle export", "bundle import",
            "bundle inspect", "replica enroll", "replica join", "partner quota",
        ]
        for command in commands {
            #expect(top.stdout.contains(command.split(separator: " ")[0]), "\(command) missing from --help")
            let help = try await cli.run(["help"] + command.split(separator: " ").map(String.init))
            #expect(help.status == 0 && help.stdout.contains("USAGE: entente \(command)"), "no help for \(command)")
            #expect(help.stdout.contains("--dir"), "\(command) does not document --dir")
        }
        let env = try await cli.run(["init", "--company", "EnvCo"], environment: ["ENTENTE_DIR": cli.path("envnode")])
        #expect(
            env.status == 0 && FileManager.default.fileExists(atPath: cli.path("envnode/entente.sqlite")),
            "ENTENTE_DIR is honoured"
        )
    }

    @Test func aPartnerOverItsStorageQuotaIsRefusedAndQuotasAreShownAndSet() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let (bundle, _) = try await setUp(cli)
        let listed = try await cli.ok("partner", "quota", "--dir", "i")
        #expect(listed.contains("Globex\t0 envelopes\t0.0 MiB of 10240.0 MiB (default)"), "\(listed)")
        try await cli.ok("partner", "quota", "Globex", "0", "--dir", "i")
        let before = try await state(cli, "i")
        try await cli.fails(
            ["bundle", "import", bundle, "--dir", "i"],
            mentioning: "Globex has used its storage quota"
        )
        #expect(try await state(cli, "i") == before)
        let json = try await cli.ok("partner", "quota", "Globex", "--reset", "--json", "--dir", "i")
        #expect(json.contains("\"default_quota\": true") && json.contains("\"bytes\": 0,"), "\(json)")
        try await cli.ok("bundle", "import", bundle, "--dir", "i")
        let used = try await cli.ok("partner", "quota", "Globex", "--default", "1", "--json", "--dir", "i")
        #expect(used.contains("\"quota_bytes\": 1048576") && !used.contains("\"bytes\": 0,"), "\(used)")
        try await cli.fails(["partner", "quota", "7", "--dir", "i"], mentioning: "no pinned partner named '7'")
        try await cli.fails(["partner", "quota", "--reset", "--dir", "i"], mentioning: "name the partner")
        try await cli.fails(
            ["partner", "quota", "Globex", "99999999999999", "--dir", "i"],
            mentioning: "a quota is a number of MiB"
        )
        try await cli.fails(["partner", "quota", "Globex", "3", "--reset", "--dir", "i"], mentioning: "not both")
    }
}
