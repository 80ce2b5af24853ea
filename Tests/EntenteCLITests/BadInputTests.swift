import Foundation
import Testing

/// Bad input through the CLI: a clear `error:` line, a non-zero exit, and an unchanged store.
@Suite struct BadInputTests {
    /// Globex with an opportunity shared with Initech; returns the bundle file name and the object id.
    func setUp(_ cli: CLI) throws -> (bundle: String, id: String) {
        try StoryTests.threeNodes(cli)
        let id = try cli.ok("new", "opportunity", "--dir", "g", "--joint", "title=T", "--with", "Initech")
        try cli.ok("bundle", "export", "--to", "Initech", "--out", "good.bundle", "--dir", "g")
        return ("good.bundle", id)
    }

    func state(_ cli: CLI, _ dir: String) throws -> String {
        try cli.ok("list", "--json", "--dir", dir) + (try cli.ok("status", "--json", "--dir", dir))
            + (try cli.ok("summary", "--dir", dir))
    }

    @Test func damagedBundlesAreRefusedAndChangeNothing() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let (bundle, _) = try setUp(cli)
        let good = cli.bytes(bundle)
        let before = try state(cli, "i")
        try cli.write(Array(good.prefix(good.count / 2)), "truncated.bundle")
        try cli.fails(["bundle", "import", "truncated.bundle", "--dir", "i"], mentioning: "truncated or corrupted")
        for index in [0, 5, 20, good.count / 2, good.count - 1] {
            var flipped = good
            flipped[index] ^= 0x40
            try cli.write(flipped, "flipped.bundle")
            try cli.fails(["bundle", "import", "flipped.bundle", "--dir", "i"], mentioning: "bundle")
        }
        try cli.write(Array("hello, not a bundle".utf8), "garbage.bundle")
        try cli.fails(["bundle", "import", "garbage.bundle", "--dir", "i"], mentioning: "not an Entente bundle")
        try cli.fails(["bundle", "import", "missing.bundle", "--dir", "i"], mentioning: "cannot read bundle file")
        #expect(try state(cli, "i") == before)
        try cli.ok("bundle", "import", bundle, "--dir", "i")
        #expect(try state(cli, "i") != before, "the good bundle imports (so the comparison can fail)")
    }

    @Test func misaddressedAndForeignBundlesAreRefused() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let (bundle, _) = try setUp(cli)
        let before = try state(cli, "u")
        // Umbra Cloud is not in the audience of the envelopes Globex exported for Initech.
        try cli.fails(["bundle", "import", bundle, "--dir", "u"], mentioning: "not addressed to")
        // A company that never pinned Globex.
        try cli.ok("init", "--company", "Hooli", "--dir", "h")
        try cli.ok("card", "--dir", "h", "--out", "h.card")
        try cli.ok("partner", "add", "h.card", "--dir", "g")
        try cli.ok("new", "opportunity", "--dir", "g", "--with", "Hooli")
        try cli.ok("bundle", "export", "--to", "Hooli", "--out", "hooli.bundle", "--dir", "g")
        try cli.fails(["bundle", "import", "hooli.bundle", "--dir", "h"], mentioning: "not a pinned partner")
        #expect(try state(cli, "u") == before)
        #expect(try cli.ok("list", "--json", "--dir", "h") == "[]")
    }

    @Test func badArgumentsAreNamed() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let (_, id) = try setUp(cli)
        try cli.fails(["new", "spaceship", "--dir", "g"], mentioning: "unknown object type 'spaceship'")
        try cli.fails(
            ["new", "opportunity", "--joint", "stage=won", "--dir", "g"],
            mentioning: "opportunity stage: 'won' is not one of"
        )
        try cli.fails(["new", "opportunity", "--joint", "novalue", "--dir", "g"], mentioning: "KEY=VALUE")
        try cli.fails(
            ["new", "opportunity", "--with", "Nobody", "--dir", "g"],
            mentioning: "no pinned partner named 'Nobody'"
        )
        try cli.fails(["set", "zzzzzz", "--joint", "a=b", "--dir", "g"], mentioning: "not an object id")
        try cli.fails(["set", "abcdef12", "--joint", "a=b", "--dir", "g"], mentioning: "no object with id")
        try cli.fails(["set", id, "--dir", "g"], mentioning: "nothing to change")
        try cli.fails(
            ["set", id, "--set", "x=1", "--to", "Umbra Cloud", "--dir", "g"],
            mentioning: "does not take part"
        )
        try cli.fails(["show", id, "--dir", "nowhere"], mentioning: "entente init")
        try cli.fails(["init", "--company", "Again", "--dir", "g"], mentioning: "already holds an Entente node")
        try cli.write(Array("{\"format\": \"nope\"}".utf8), "bad.card")
        try cli.fails(["partner", "add", "bad.card", "--dir", "g"], mentioning: "card")
        var card = String(decoding: cli.bytes("u.card"), as: UTF8.self)
        card = card.replacingOccurrences(of: "Umbra Cloud", with: "Umbra Clouds")
        try cli.write(Array(card.utf8), "altered.card")
        try cli.fails(["partner", "add", "altered.card", "--dir", "g"], mentioning: "signature")
        try cli.fails(
            ["bundle", "export", "--to", "Initech", "--out", "x.bundle", "--summary", "g.card", "--dir", "g"],
            mentioning: "summary"
        )
    }

    @Test func invitesNeedOwnershipAndKeyFilesArePrivate() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let (bundle, id) = try setUp(cli)
        try cli.ok("bundle", "import", bundle, "--dir", "i")
        try cli.fails(["invite", id, "Umbra Cloud", "--dir", "i"], mentioning: "only the owner")
        for key in ["company.sign.key", "company.box.key", "replica.sign.key"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: cli.path("g/keys/\(key)"))
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(key) is not 0600")
        }
    }

    @Test func everyCommandHasHelp() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let top = try cli.run(["--help"])
        #expect(top.status == 0)
        let commands = [
            "init", "card", "partner add", "partner list", "new", "set", "elements", "share", "invite", "uninvite",
            "archive", "show", "list", "conflicts", "history", "status", "summary", "bundle export", "bundle import",
            "bundle inspect", "replica enroll", "replica join", "partner quota",
        ]
        for command in commands {
            #expect(top.stdout.contains(command.split(separator: " ")[0]), "\(command) missing from --help")
            let help = try cli.run(["help"] + command.split(separator: " ").map(String.init))
            #expect(help.status == 0 && help.stdout.contains("USAGE: entente \(command)"), "no help for \(command)")
            #expect(help.stdout.contains("--dir"), "\(command) does not document --dir")
        }
        let env = try cli.run(["init", "--company", "EnvCo"], environment: ["ENTENTE_DIR": cli.path("envnode")])
        #expect(
            env.status == 0 && FileManager.default.fileExists(atPath: cli.path("envnode/entente.sqlite")),
            "ENTENTE_DIR is honoured"
        )
    }

    @Test func aPartnerOverItsStorageQuotaIsRefusedAndQuotasAreShownAndSet() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let (bundle, _) = try setUp(cli)
        let listed = try cli.ok("partner", "quota", "--dir", "i")
        #expect(listed.contains("Globex\t0 envelopes\t0.0 MiB of 10240.0 MiB (default)"), "\(listed)")
        try cli.ok("partner", "quota", "Globex", "0", "--dir", "i")
        let before = try state(cli, "i")
        try cli.fails(["bundle", "import", bundle, "--dir", "i"], mentioning: "Globex has used its storage quota")
        #expect(try state(cli, "i") == before)
        let json = try cli.ok("partner", "quota", "Globex", "--reset", "--json", "--dir", "i")
        #expect(json.contains("\"default_quota\": true") && json.contains("\"bytes\": 0,"), "\(json)")
        try cli.ok("bundle", "import", bundle, "--dir", "i")
        let used = try cli.ok("partner", "quota", "Globex", "--default", "1", "--json", "--dir", "i")
        #expect(used.contains("\"quota_bytes\": 1048576") && !used.contains("\"bytes\": 0,"), "\(used)")
        try cli.fails(["partner", "quota", "7", "--dir", "i"], mentioning: "no pinned partner named '7'")
        try cli.fails(["partner", "quota", "--reset", "--dir", "i"], mentioning: "name the partner")
        try cli.fails(["partner", "quota", "Globex", "99999999999999", "--dir", "i"], mentioning: "a quota is a number of MiB")
        try cli.fails(["partner", "quota", "Globex", "3", "--reset", "--dir", "i"], mentioning: "not both")
    }
}
